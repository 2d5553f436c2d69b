package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/heal"
	"cairn/internal/layout"
	"cairn/internal/meta"
)

// Healing reaches the cluster's healer, which runs on the metadata leader
// (package heal). The node wiring provides it: from the node's own healer
// while it leads, else over the leader's admin API. Both calls must honour
// ctx's deadline.
type Healing interface {
	// Status returns the leader's healing status. With local, only this
	// node's healer answers, and only while this node leads (else an
	// error wrapping meta.ErrNotLeader); without, the node asks the
	// leader.
	Status(ctx context.Context, local bool) (*adminapi.HealStatus, error)
	// Kick asks the leader's healer for a pass now; local as for Status.
	Kick(ctx context.Context, local bool) error
}

// HealStatus is s on the wire, answered by node: the conversion every
// Healing uses, so that the API and the metrics say the same.
func HealStatus(s *heal.Status, node string) *adminapi.HealStatus {
	t := &s.Tally
	return &adminapi.HealStatus{
		Node:          node,
		Healthy:       s.Healthy(),
		Passes:        s.Passes,
		Scanning:      s.Scanning,
		Healing:       s.Healing,
		PassStarted:   s.PassStarted,
		Scanned:       s.Scanned,
		PassEnded:     s.PassEnded,
		LayoutVersion: s.LayoutVersion,
		Tally: adminapi.HealTally{
			Stripes:         t.Stripes,
			Healthy:         t.Healthy,
			Missing:         cloneOrEmpty(t.Missing),
			Unreadable:      t.Unreadable,
			RepairShards:    t.RepairShards,
			RepairBytes:     t.RepairBytes,
			RebalanceShards: t.RebalanceShards,
			RebalanceBytes:  t.RebalanceBytes,
			Waiting:         t.Waiting,
			Draining:        t.Draining,
			DrainingByNode:  cloneOrEmpty(t.DrainingByNode),
			CriticalByNode:  cloneOrEmpty(t.Critical),
			Sealed:          t.Sealed,
			Unsealed:        t.Unsealed,
		},
		RepairedShards:     s.RepairedShards,
		RepairedBytes:      s.RepairedBytes,
		MovedShards:        s.MovedShards,
		MovedBytes:         s.MovedBytes,
		FailedShards:       s.FailedShards,
		GarbageChunks:      s.GarbageChunks,
		CollectedChunks:    s.CollectedChunks,
		StraysDeleted:      s.StraysDeleted,
		RateLimit:          s.RateLimit,
		Rate:               s.Rate,
		Remaining:          s.Remaining,
		RepairRemaining:    s.RepairRemaining,
		RebalanceRemaining: s.RebalanceRemaining,
		ETASeconds:         s.ETA.Seconds(),
		DrainRemaining:     cloneOrEmpty(s.DrainRemaining),
		Audit:              adminapi.HealAudit(s.Audit),
		SealMigration:      s.SealMigration,
		SealedStripes:      s.SealedStripes,
		SealFailed:         s.SealFailed,
		UnsealedRemaining:  s.UnsealedRemaining,
	}
}

// cloneOrEmpty clones m, an empty map for nil, so that the wire shows {}.
func cloneOrEmpty[K comparable](m map[K]int64) map[K]int64 {
	if m == nil {
		return map[K]int64{}
	}
	return maps.Clone(m)
}

// errNoHealing answers heal requests on a server without Config.Heal.
var errNoHealing = newError(http.StatusServiceUnavailable, adminapi.CodeServiceUnavailable,
	"this node cannot reach the cluster's healer; ask a meta node (--node)")

// localParam parses a heal request's local query parameter.
func localParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("local")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "bad local=%q: want true or false", v)
	}
	return b, nil
}

// healStatus asks the healer for its status.
func (s *Server) healStatus(ctx context.Context, local bool) (*adminapi.HealStatus, error) {
	if s.cfg.Heal == nil {
		return nil, errNoHealing
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	hs, err := s.cfg.Heal.Status(ctx, local)
	if err != nil {
		return nil, healFailure(err)
	}
	return hs, nil
}

// kick asks the healer for a pass now.
func (s *Server) kick(ctx context.Context, local bool) error {
	if s.cfg.Heal == nil {
		return errNoHealing
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.cfg.Heal.Kick(ctx, local); err != nil {
		return healFailure(err)
	}
	return nil
}

// healFailure translates a Healing error: not reaching the leader is 503
// with what was tried.
func healFailure(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	for _, u := range unavailable {
		if errors.Is(err, u) {
			return &apiError{status: http.StatusServiceUnavailable, code: adminapi.CodeServiceUnavailable,
				msg: "the metadata leader's healer did not answer; try again: " + err.Error(), err: err}
		}
	}
	return fail(err, "")
}

// drain marks a live node of the layout draining.
func (s *Server) drain(ctx context.Context, id string) (*adminapi.LayoutChange, error) {
	alive := false
	for _, m := range s.cfg.Members.Members() {
		if m.ID == id {
			alive = m.Status == cluster.StatusAlive
		}
	}
	return s.changeLayout(ctx, id, func(cur *meta.Layout) (*meta.Layout, error) {
		next, err := layout.Drain(cur, id)
		if err != nil || next == cur {
			return next, err
		}
		if !alive {
			return nil, newError(http.StatusConflict, adminapi.CodeNodeNotDrainable,
				"node %q is not alive in gossip: its shards cannot be read to move them; if it will not come back, storectl node remove %s rebuilds them elsewhere", id, id)
		}
		if len(layout.Nodes(next)) == 0 {
			return nil, newError(http.StatusConflict, adminapi.CodeLastNode, "node %q is the last node of the layout that takes data; draining it would leave nowhere to move its shards", id)
		}
		return next, nil
	})
}

// healWarnings lists what the healing status tells an operator to act on,
// about the current layout l.
func healWarnings(hs *adminapi.HealStatus, l *meta.Layout, k int) []string {
	var w []string
	if hs.Tally.Unreadable > 0 {
		w = append(w, fmt.Sprintf("%d stripes are unreadable: fewer than k=%d of their shards are available; bring their nodes back (storectl heal status shows healing)",
			hs.Tally.Unreadable, k))
	}
	if l == nil || hs.Passes == 0 || hs.LayoutVersion != l.Version {
		return w
	}
	for _, n := range l.Nodes {
		if !n.Draining || n.Removed {
			continue
		}
		if left := hs.Tally.DrainingByNode[n.ID]; left > 0 {
			w = append(w, fmt.Sprintf("node %s is draining: %d shards still on it (storectl heal status)", n.ID, left))
		} else {
			w = append(w, fmt.Sprintf("node %s holds no shard any stripe references: it can be stopped (then storectl node remove %s)", n.ID, n.ID))
		}
	}
	return w
}
