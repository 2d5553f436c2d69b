package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Invite is a join invite for a storage contributor (POST invites): the
// token it enrolls with, and the command line that starts it.
type Invite struct {
	// Token is the join token (storaged --join-token): it names the zone,
	// the expiry, the cluster CA's fingerprint and where to enroll. It
	// enrolls one node, once.
	Token   string    `json:"token"`
	Zone    string    `json:"zone"`
	NodeID  string    `json:"node_id,omitempty"`
	Expires time.Time `json:"expires"`
	// Command is the contributor's whole storaged command line, with
	// placeholders for its directories and addresses.
	Command string `json:"command"`
}

// NewInvite asks for a join invite for a storage node in zone, valid for
// ttl, for the node nodeID ("" lets the joiner name itself).
func (c *Client) NewInvite(ctx context.Context, zone, nodeID string, ttl time.Duration) (*Invite, error) {
	q := url.Values{"zone": {zone}, "expires": {ttl.String()}}
	if nodeID != "" {
		q.Set("node", nodeID)
	}
	return call[*Invite](ctx, c, http.MethodPost, "invites?"+q.Encode())
}
