package admin

import (
	"net/http"
	"time"

	"cairn/internal/admin/adminapi"
)

// Bounds of an invite's lifetime.
const (
	defaultInviteTTL = 24 * time.Hour
	maxInviteTTL     = 30 * 24 * time.Hour
)

// invite answers POST invites?zone=Z[&node=ID][&expires=24h].
func (s *Server) invite(r *http.Request) (*adminapi.Invite, error) {
	if s.cfg.Invite == nil {
		return nil, newError(http.StatusServiceUnavailable, adminapi.CodeServiceUnavailable, "this node cannot make invites")
	}
	q := r.URL.Query()
	zone := q.Get("zone")
	if zone == "" {
		return nil, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "an invite needs the zone the node will be in (zone=...)")
	}
	ttl := defaultInviteTTL
	if e := q.Get("expires"); e != "" {
		d, err := time.ParseDuration(e)
		if err != nil || d <= 0 || d > maxInviteTTL {
			return nil, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "expires %q: want a duration from 1s to %v, such as 24h", e, maxInviteTTL)
		}
		ttl = d
	}
	inv, err := s.cfg.Invite(r.Context(), zone, q.Get("node"), ttl)
	if err != nil {
		return nil, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "%v", err)
	}
	return inv, nil
}
