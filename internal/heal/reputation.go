package heal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"cairn/internal/layout"
	"cairn/internal/meta"
)

// Reputations: what the audits found goes into the nodes' records in
// batches (flush: one raft entry for every node's counts), and the
// records are weighed (judge) against the ejection rule (ejectable); a
// node past it leaves the layout (eject) as storectl node remove takes
// a node out, and healing rebuilds its shards elsewhere.

// ejectable reports whether a node's reputation calls for its ejection:
// at least threshold failures in its window, and more than ratio of the
// window's checks. A threshold below 1 never ejects.
func ejectable(r *meta.Reputation, threshold int, ratio float64) bool {
	return threshold > 0 && r.WindowFailures >= int64(threshold) &&
		float64(r.WindowFailures) > ratio*float64(r.WindowChecks)
}

// errEjectRefused wraps the reasons an ejection the rule calls for is
// not made.
var errEjectRefused = errors.New("ejection refused")

// refusalLogEvery is how often a refused ejection is logged again, per
// node: the auditor weighs the records every ReputationFlush.
const refusalLogEvery = time.Minute

// forget drops what the audits found but not the ejections to record:
// this node stopped leading, and the new leader's auditor counts its own.
func (a *auditor) forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.pending)
}

// flush adds what the audits found since the last flush, and the
// ejections not yet recorded, to the nodes' reputations, in one raft
// entry. Counts whose entry fails are dropped (a few seconds of audits:
// counting them twice, should the entry have been applied after all,
// would be worse); ejections are kept for the next flush.
func (a *auditor) flush(ctx context.Context) {
	a.mu.Lock()
	deltas := make([]meta.ReputationDelta, 0, len(a.pending)+len(a.marks))
	for _, id := range slices.Sorted(maps.Keys(a.pending)) {
		deltas = append(deltas, *a.pending[id])
	}
	clear(a.pending)
	for _, id := range slices.Sorted(maps.Keys(a.marks)) {
		deltas = append(deltas, meta.ReputationDelta{Node: id, Eject: true, Reason: a.marks[id]})
	}
	a.mu.Unlock()
	if len(deltas) == 0 {
		return
	}
	mctx, cancel := context.WithTimeout(ctx, a.h.cfg.Timeout)
	err := a.h.cfg.Meta.AddReputation(mctx, deltas)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			a.h.cfg.Logger.Warn("audit: reputations not recorded; these counts are dropped", "nodes", len(deltas), "err", err)
		}
		return
	}
	a.mu.Lock()
	for _, d := range deltas {
		if d.Eject && a.marks[d.Node] == d.Reason {
			delete(a.marks, d.Node)
		}
	}
	a.mu.Unlock()
}

// judge weighs every node of the layout against the ejection rule and
// ejects those past it. A node the layout has taken back (storectl node
// approve) after an ejection is pardoned: its mark and window are
// cleared.
func (a *auditor) judge(ctx context.Context) {
	mctx, cancel := context.WithTimeout(ctx, a.h.cfg.Timeout)
	reps, err := a.h.cfg.Meta.Reputations(mctx)
	cancel()
	if err != nil {
		a.h.cfg.Logger.Info("audit: reputations not read", "err", err)
		return
	}
	mctx, cancel = context.WithTimeout(ctx, a.h.cfg.Timeout)
	l, err := a.h.cfg.Meta.Layout(mctx)
	cancel()
	if err != nil || l == nil {
		return
	}
	for i := range reps {
		r := &reps[i]
		j := slices.IndexFunc(l.Nodes, func(n meta.LayoutNode) bool { return n.ID == r.Node })
		if j < 0 {
			continue
		}
		removed := l.Nodes[j].Removed
		switch {
		case r.Ejected && !removed:
			a.mu.Lock()
			_, marking := a.marks[r.Node]
			if !marking {
				d := a.pending[r.Node]
				if d == nil {
					d = &meta.ReputationDelta{Node: r.Node}
					a.pending[r.Node] = d
				}
				d.Pardon = true
			}
			a.mu.Unlock()
			if !marking {
				a.h.cfg.Logger.Info("audit: an ejected node is back in the layout (approved by an operator): its reputation window starts afresh",
					"node", r.Node)
			}
		case removed || r.Ejected || !ejectable(r, a.h.cfg.EjectThreshold, a.h.cfg.EjectRatio):
		default:
			a.eject(ctx, l, r)
		}
	}
}

// eject takes a node past the ejection rule out of the layout, as
// storectl node remove does, unless that could lose data or leave the
// cluster too small (refuse says why), and records the ejection in its
// reputation. Healing then rebuilds its shards from the other shards of
// each stripe.
func (a *auditor) eject(ctx context.Context, l *meta.Layout, r *meta.Reputation) {
	evidence := fmt.Sprintf("%d of its %d recent checks failed (%.1f%%; threshold %d failures and more than %.1f%%); since it was first audited: %d audits passed, %d missing, %d corrupt, %d reads caught it lying",
		r.WindowFailures, r.WindowChecks, 100*float64(r.WindowFailures)/float64(max(r.WindowChecks, 1)),
		a.h.cfg.EjectThreshold, 100*a.h.cfg.EjectRatio, r.Passed, r.Missing, r.Corrupt, r.Lies)
	var version uint64
	err := a.refuse(l, r.Node)
	if err == nil {
		l, _, err = layout.Change(ctx, a.h.cfg.Meta, a.h.cfg.Timeout, func(cur *meta.Layout) (*meta.Layout, error) {
			next, err := layout.Remove(cur, r.Node)
			if err != nil {
				return nil, err
			}
			if n := len(layout.Nodes(next)); n < a.h.cfg.K+1 {
				return nil, fmt.Errorf("%w: it would leave %d storage nodes that take data, fewer than k+1 = %d: the stripes could not survive one more loss",
					errEjectRefused, n, a.h.cfg.K+1)
			}
			return next, nil
		})
		if l != nil {
			version = l.Version
		}
	}
	if err != nil {
		a.h.m.ejections.WithLabelValues("refused").Inc()
		msg := fmt.Sprintf("node %s is past the ejection rule (%s), but stays in the layout: %v", r.Node, evidence, err)
		now := a.h.cfg.Now()
		a.mu.Lock()
		a.refusal = msg
		quiet := now.Sub(a.refused[r.Node]) < refusalLogEvery
		if !quiet {
			a.refused[r.Node] = now
		}
		a.mu.Unlock()
		if !quiet {
			a.h.cfg.Logger.Error("audit: EJECTION REFUSED; the node keeps its shards until this changes: "+msg, "node", r.Node)
		}
		return
	}
	a.h.m.ejections.WithLabelValues("ejected").Inc()
	a.ejected.Add(1)
	reason := evidence
	if !r.LastFailure.IsZero() {
		reason += "; last failure " + r.LastFailure.UTC().Format(time.RFC3339)
	}
	a.mu.Lock()
	a.marks[r.Node] = reason
	delete(a.refused, r.Node)
	a.mu.Unlock()
	a.h.cfg.Logger.Warn("audit: node ejected from the layout: healing rebuilds its shards on the other nodes",
		"node", r.Node, "layout_version", version, "evidence", reason)
	a.h.Kick()
}

// refuse says why node cannot be ejected from layout l now, or nil:
// while another node of the layout is down (its shards and the ejected node's could be more
// than a stripe can lose), before a heal pass has counted the stripes,
// or when the latest pass found stripes that would have fewer than K
// shards available without the node.
func (a *auditor) refuse(l *meta.Layout, node string) error {
	s := a.h.Status()
	if s.Passes == 0 {
		return fmt.Errorf("%w: no heal pass has counted the stripes yet", errEjectRefused)
	}
	if n := s.Tally.Critical[node]; n > 0 {
		return fmt.Errorf("%w: %d stripes would have fewer than k shards available without it (the latest heal pass's count): healing must repair them first",
			errEjectRefused, n)
	}
	for _, n := range l.Nodes {
		if n.ID != node && !n.Removed && a.h.cfg.Alive != nil && !a.h.cfg.Alive(n.ID) {
			return fmt.Errorf("%w: node %s of the layout is down: with it, ejecting could leave stripes with too few shards; waiting until it is back or removed",
				errEjectRefused, n.ID)
		}
	}
	return nil
}
