package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"golang.org/x/sync/errgroup"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/placement"
)

// currentLayout reads the current layout (nil if none) within the timeout.
func (s *Server) currentLayout(ctx context.Context) (*meta.Layout, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.cfg.Meta.Layout(ctx)
}

// nodes returns the node list with the storage nodes' usage, and the
// layout it was built from: nil with the error when the layout could not
// be read (the list then has gossip's members only), nil without one when
// the cluster has none yet.
func (s *Server) nodes(ctx context.Context) ([]adminapi.Node, *meta.Layout, error) {
	l, err := s.currentLayout(ctx)
	if err != nil {
		return nil, nil, fail(err, "")
	}
	nodes := mergeNodes(s.cfg.Members.Members(), l, true)
	s.fillAudits(ctx, nodes)
	s.fillUsage(ctx, nodes)
	return nodes, l, nil
}

// fillAudits gives each node its reputation record, if it has one. A
// failure to read them is logged: the list answers without.
func (s *Server) fillAudits(ctx context.Context, nodes []adminapi.Node) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	reps, err := s.cfg.Meta.Reputations(ctx)
	if err != nil {
		s.log.Warn("admin: reputations not read; nodes shown without their audits", "err", err)
		return
	}
	byNode := make(map[string]*meta.Reputation, len(reps))
	for i := range reps {
		byNode[reps[i].Node] = &reps[i]
	}
	for i := range nodes {
		if r := byNode[nodes[i].ID]; r != nil {
			nodes[i].Audit = nodeAudit(r)
		}
	}
}

// nodeAudit is a reputation record on the wire.
func nodeAudit(r *meta.Reputation) *adminapi.NodeAudit {
	a := &adminapi.NodeAudit{
		Passed: r.Passed, Missing: r.Missing, Corrupt: r.Corrupt, Failed: r.Failed(), Lies: r.Lies,
		RecentChecks: r.WindowChecks, RecentFailures: r.WindowFailures, Reputation: 1,
		LastAudit: r.LastAudit, LastFailure: r.LastFailure,
		Ejected: r.Ejected, EjectedAt: r.EjectedAt, EjectReason: r.EjectReason,
	}
	if r.WindowChecks > 0 {
		a.Reputation = 1 - float64(r.WindowFailures)/float64(r.WindowChecks)
	}
	return a
}

// status builds the cluster status. It answers even when the metadata
// store does not (its leader is what an operator most needs to hear
// about): the layout is then unknown and a warning says why.
func (s *Server) status(ctx context.Context) (*adminapi.Status, error) {
	st := &adminapi.Status{K: s.cfg.K, M: s.cfg.M}
	l, err := s.currentLayout(ctx)
	if err != nil {
		st.LayoutError = fail(err, "").msg
		s.log.Warn("admin status: layout unknown", "err", err)
	}
	st.Nodes = mergeNodes(s.cfg.Members.Members(), l, err == nil)
	if err == nil {
		s.fillAudits(ctx, st.Nodes)
	}
	healed := make(chan struct{})
	go func() { // beside the storage nodes' usage, not after it
		defer close(healed)
		hs, herr := s.healStatus(ctx, false)
		if herr != nil {
			st.HealError = fail(herr, "").msg
			return
		}
		st.Heal = hs
	}()
	s.fillUsage(ctx, st.Nodes)
	<-healed
	if l != nil {
		st.LayoutVersion = l.Version
	}
	st.Zones, st.Totals = summarize(st.Nodes)
	st.Warnings = warnings(st, l, err == nil)
	if st.Heal != nil {
		st.Warnings = append(st.Warnings, healWarnings(st.Heal, l, st.K)...)
	}
	if s.cfg.Leader != nil {
		st.Leader = s.cfg.Leader()
	}
	return st, nil
}

// mergeNodes returns the union of gossip's members and the layout's
// nodes, by ID. known says whether l is the layout (nil: none yet) or the
// layout could not be read, in which case nothing is in it or pending.
func mergeNodes(members []cluster.Member, l *meta.Layout, known bool) []adminapi.Node {
	out := make([]adminapi.Node, 0, len(members))
	for _, m := range members {
		roles := make([]string, len(m.Roles))
		for i, r := range m.Roles {
			roles[i] = string(r)
		}
		out = append(out, adminapi.Node{
			ID: m.ID, Zone: m.Zone, Weight: m.Weight, Roles: roles,
			APIAddr: m.APIAddr, S3Addr: m.S3Addr, RaftAddr: m.RaftAddr, Version: m.Version,
			Gossip: string(m.Status), Down: m.Status != cluster.StatusAlive,
		})
	}
	var extra []adminapi.Node
	if l != nil {
		idx := make(map[string]int, len(out))
		for i := range out {
			idx[out[i].ID] = i
		}
		for _, ln := range l.Nodes {
			n := adminapi.Node{ID: ln.ID, Roles: []string{string(cluster.RoleStorage)}, APIAddr: ln.Addr, Gossip: adminapi.GossipUnknown, Down: true}
			i, ok := idx[ln.ID]
			if ok {
				n = out[i]
			}
			// Placement uses the layout's zone and weight.
			n.Zone, n.Weight = ln.Zone, ln.Weight
			n.InLayout, n.Removed, n.Draining = !ln.Removed, ln.Removed, ln.Draining && !ln.Removed
			if ok {
				out[i] = n
			} else {
				extra = append(extra, n)
			}
		}
	}
	out = append(out, extra...)
	if known {
		for i := range out {
			n := &out[i] // layout-only nodes are down: never pending
			n.Pending = slices.Contains(n.Roles, string(cluster.RoleStorage)) && !n.Down && !n.InLayout && !n.Removed
		}
	}
	slices.SortFunc(out, func(a, b adminapi.Node) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// fillUsage asks every alive storage node for its usage, in parallel.
func (s *Server) fillUsage(ctx context.Context, nodes []adminapi.Node) {
	var g errgroup.Group
	g.SetLimit(fanOut)
	for i := range nodes {
		n := &nodes[i]
		if n.Down || !slices.Contains(n.Roles, string(cluster.RoleStorage)) {
			continue
		}
		g.Go(func() error {
			u, err := s.usage(ctx, n.ID)
			if err != nil {
				n.Error = err.Error()
				return nil // shown on the node; the others go on
			}
			n.Usage = u
			return nil
		})
	}
	_ = g.Wait()
}

func (s *Server) usage(ctx context.Context, id string) (*adminapi.Usage, error) {
	nc, err := s.cfg.Nodes(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	st, err := nc.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.NodeID != id {
		return nil, fmt.Errorf("the node at its address answers as %q", st.NodeID)
	}
	u := st.Usage
	return &adminapi.Usage{Capacity: u.Capacity, Used: u.Bytes, Free: u.Free, Shards: u.Shards, FS: u.FS}, nil
}

// summarize adds up the nodes' usage: per zone over the nodes that take
// data, in total over every node that reported.
func summarize(nodes []adminapi.Node) ([]adminapi.Zone, adminapi.Totals) {
	var tot adminapi.Totals
	zones := map[string]*adminapi.Zone{}
	// Nodes on one file system (several nodes of one machine on one disk,
	// the dev cluster) share its capacity and free space: counted once
	// in the totals, and once in each zone.
	counted := map[string]bool{}
	firstOnFS := func(scope string, u *adminapi.Usage) bool {
		if u.FS == "" {
			return true
		}
		k := scope + "\x00" + u.FS
		if counted[k] {
			return false
		}
		counted[k] = true
		return true
	}
	for _, n := range nodes {
		if n.Usage != nil {
			if firstOnFS("", n.Usage) {
				tot.Capacity += n.Usage.Capacity
				tot.Free += n.Usage.Free
			}
			tot.Used += n.Usage.Used
			tot.Shards += n.Usage.Shards
		}
		if !n.InLayout || n.Draining {
			continue
		}
		z := zones[n.Zone]
		if z == nil {
			z = &adminapi.Zone{Name: n.Zone}
			zones[n.Zone] = z
		}
		z.Nodes++
		z.Weight += n.Weight
		if !n.Down {
			z.Alive++
		}
		if n.Usage != nil {
			if firstOnFS("zone "+n.Zone, n.Usage) {
				z.Capacity += n.Usage.Capacity
				z.Free += n.Usage.Free
			}
			z.Used += n.Usage.Used
		}
	}
	out := make([]adminapi.Zone, 0, len(zones))
	for _, z := range zones {
		out = append(out, *z)
	}
	slices.SortFunc(out, func(a, b adminapi.Zone) int { return cmp.Compare(a.Name, b.Name) })
	return out, tot
}

// warnings lists what an operator should act on.
func warnings(st *adminapi.Status, l *meta.Layout, known bool) []string {
	w := []string{}
	k, m := st.K, st.M
	switch {
	case !known:
		w = append(w, "the layout is unknown: "+st.LayoutError)
	case l == nil:
		w = append(w, "the cluster has no layout yet: no storage node takes data until the metadata leader creates one")
	default:
		eligible := layout.Nodes(l)
		switch {
		case len(eligible) == 0:
			w = append(w, fmt.Sprintf("no node of layout version %d takes data: approve storage nodes (storectl node approve ID)", l.Version))
		case len(eligible) < k+m:
			w = append(w, fmt.Sprintf("only %d storage nodes take data, fewer than the %d shards of a %d+%d stripe: some nodes hold several shards of a stripe, so losing one node can lose more than one shard",
				len(eligible), k+m, k, m))
		}
		if len(eligible) > 0 {
			if worst := placement.MaxPerZone(eligible, k+m); worst > m {
				w = append(w, fmt.Sprintf("one zone can receive up to %d of the %d shards of a %d+%d stripe, more than m=%d: losing that zone can lose data (the layout's nodes are in %d zones; spread them over more)",
					worst, k+m, k, m, m, layout.Zones(l)))
			}
		}
	}
	for _, n := range st.Nodes {
		switch {
		case n.Pending:
			w = append(w, fmt.Sprintf("node %s is waiting for approval: storectl node approve %s", n.ID, n.ID))
		case n.InLayout && n.Down:
			w = append(w, fmt.Sprintf("node %s is in the layout but down (gossip: %s): reads route around it; if it will not come back, storectl node remove %s", n.ID, n.Gossip, n.ID))
		}
	}
	return w
}

// errNoLayout answers a layout change before the cluster has a layout.
var errNoLayout = newError(http.StatusServiceUnavailable, adminapi.CodeServiceUnavailable,
	"the cluster has no layout yet; wait for the metadata leader to create it")

// approve admits an alive storage member into the layout.
func (s *Server) approve(ctx context.Context, id string) (*adminapi.LayoutChange, error) {
	var obs *layout.Observation
	for _, m := range s.cfg.Members.Members() {
		if m.ID != id {
			continue
		}
		switch {
		case !m.HasRole(cluster.RoleStorage):
			return nil, newError(http.StatusConflict, adminapi.CodeNodeNotApprovable, "node %q is not a storage node (roles %v)", id, m.Roles)
		case m.Status != cluster.StatusAlive:
			return nil, newError(http.StatusConflict, adminapi.CodeNodeNotApprovable, "node %q is %s, not alive: only an alive node can be approved", id, m.Status)
		case m.Weight <= 0:
			return nil, newError(http.StatusConflict, adminapi.CodeNodeNotApprovable, "node %q announces weight %v: it would take no data", id, m.Weight)
		}
		obs = &layout.Observation{ID: m.ID, Zone: m.Zone, Weight: m.Weight, Addr: m.APIAddr, Alive: true}
	}
	if obs == nil {
		return nil, newError(http.StatusNotFound, adminapi.CodeNoSuchNode, "node %q is not a member of the cluster (gossip does not know it)", id)
	}
	return s.changeLayout(ctx, id, func(cur *meta.Layout) (*meta.Layout, error) {
		return layout.Approve(cur, *obs)
	})
}

// remove marks a node of the layout removed.
func (s *Server) remove(ctx context.Context, id string) (*adminapi.LayoutChange, error) {
	return s.changeLayout(ctx, id, func(cur *meta.Layout) (*meta.Layout, error) {
		next, err := layout.Remove(cur, id)
		if err != nil {
			return nil, err
		}
		if len(layout.Nodes(next)) == 0 {
			return nil, newError(http.StatusConflict, adminapi.CodeLastNode, "node %q is the last node of the layout that takes data; removing it would leave nowhere to write", id)
		}
		return next, nil
	})
}

// changeLayout stores change(current layout) (layout.Change), reading
// the layout again and retrying when another writer stored a version
// first.
func (s *Server) changeLayout(ctx context.Context, id string, change func(*meta.Layout) (*meta.Layout, error)) (*adminapi.LayoutChange, error) {
	l, stored, err := layout.Change(ctx, s.cfg.Meta, s.cfg.Timeout, change)
	switch {
	case errors.Is(err, layout.ErrNoLayout):
		return nil, errNoLayout
	case err != nil:
		return nil, fail(err, fmt.Sprintf("node %q", id))
	case stored:
		s.log.Info("layout changed by an operator", "node", id, "version", l.Version)
	}
	return &adminapi.LayoutChange{Node: id, LayoutVersion: l.Version}, nil
}
