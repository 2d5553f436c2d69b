package node

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"cairn/internal/cluster"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/pki"
)

// enroller makes join invites and enrolls the storage nodes that present
// them: it runs on tenant nodes, which hold the cluster CA.
type enroller struct {
	t       *trust
	meta    layout.Store
	members *cluster.Cluster
	scheme  string // of the S3 endpoints: "http" or "https"
	log     *slog.Logger
	now     func() time.Time
}

// maxEnrollBody bounds an enrollment request's body.
const maxEnrollBody = 16 << 10

// invite returns a join token for a storage node in zone (named nodeID,
// or any name the joiner picks when ""), valid for ttl, and the gossip
// addresses it joins through.
func (e *enroller) invite(zone, nodeID string, ttl time.Duration) (token string, inv pki.Invite, err error) {
	inv = pki.Invite{Zone: zone, NodeID: nodeID, Expires: e.now().Add(ttl).UTC().Truncate(time.Second), CAFingerprint: e.t.ca.Fingerprint()}
	for _, m := range e.members.Members() {
		if m.Status != cluster.StatusAlive {
			continue
		}
		if m.S3Addr != "" {
			inv.Endpoints = append(inv.Endpoints, e.scheme+"://"+m.S3Addr)
		}
		if m.HasRole(cluster.RoleMeta) || m.HasRole(cluster.RoleGateway) {
			inv.Gossip = append(inv.Gossip, m.Gossip)
		}
	}
	if len(inv.Endpoints) == 0 {
		return "", inv, errors.New("no gateway is up to enroll the node through (enrollment is served on the S3 port)")
	}
	slices.Sort(inv.Endpoints)
	slices.Sort(inv.Gossip)
	token, err = pki.NewInvite(e.t.secret, inv)
	if err != nil {
		return "", inv, err
	}
	inv, _, err = pki.ParseToken(token)
	return token, inv, err
}

// ServeHTTP enrolls one storage node: it checks the request against the
// token it was made with, records the invite as used (once only), and
// answers with the node's certificate and the gossip key.
func (e *enroller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req pki.EnrollRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxEnrollBody)).Decode(&req); err != nil {
		http.Error(w, "malformed enrollment request: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp, status, err := e.enroll(r.Context(), req)
	if err != nil {
		e.log.Warn("refused an enrollment", "remote", r.RemoteAddr, "node", req.NodeID, "invite", req.InviteID, "err", err)
		http.Error(w, err.Error(), status)
		return
	}
	e.log.Info("enrolled a storage node", "node", req.NodeID, "zone", req.Zone, "invite", req.InviteID, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (e *enroller) enroll(ctx context.Context, req pki.EnrollRequest) (*pki.EnrollResponse, int, error) {
	tokenSecret, err := pki.CheckEnrollRequest(e.t.secret, req, e.now())
	if err != nil {
		return nil, http.StatusForbidden, err
	}
	if len(req.PublicKey) != ed25519.PublicKeySize {
		return nil, http.StatusBadRequest, fmt.Errorf("public key of %d bytes, want an Ed25519 key", len(req.PublicKey))
	}
	if err := e.redeem(ctx, req); err != nil {
		if errors.Is(err, layout.ErrRedeemed) || errors.Is(err, layout.ErrAlreadyIn) {
			return nil, http.StatusConflict, err
		}
		return nil, http.StatusServiceUnavailable, err
	}
	der, err := e.t.ca.Issue(ed25519.PublicKey(req.PublicKey), req.NodeID, pki.RoleStorage, req.Zone, storageCertValidity)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	resp, err := pki.NewEnrollResponse(tokenSecret, req, der, e.t.ca.CertDER(), e.t.gossipKey)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	return &resp, http.StatusOK, nil
}

// redeem records the invite as used in the layout (layout.Change's
// compare-and-set: nodes enrolling together race each other and the
// steward admitting them).
func (e *enroller) redeem(ctx context.Context, req pki.EnrollRequest) error {
	_, _, err := layout.Change(ctx, e.meta, 5*time.Second, func(cur *meta.Layout) (*meta.Layout, error) {
		return layout.Redeem(cur, req.InviteID, req.NodeID, time.Unix(req.Expires, 0), e.now())
	})
	return err
}
