package admin

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/nodeapi"
)

// storageNodes returns the storage nodes: gossip's members with the
// storage role and the layout's nodes (even when the layout cannot be
// read, gossip's members are asked).
func (s *Server) storageNodes(ctx context.Context) []adminapi.Node {
	l, err := s.currentLayout(ctx)
	if err != nil {
		s.log.Debug("admin scrub: layout unknown; asking gossip's members", "err", err)
		l = nil
	}
	nodes := mergeNodes(s.cfg.Members.Members(), l, err == nil)
	return slices.DeleteFunc(nodes, func(n adminapi.Node) bool {
		return !slices.Contains(n.Roles, string(cluster.RoleStorage))
	})
}

// scrubStatus asks every live storage node for its scrub, in parallel.
func (s *Server) scrubStatus(ctx context.Context) (*adminapi.Scrub, error) {
	nodes := s.storageNodes(ctx)
	out := &adminapi.Scrub{Nodes: make([]adminapi.NodeScrub, len(nodes))}
	for i, n := range nodes {
		out.Nodes[i] = adminapi.NodeScrub{Node: n.ID, Zone: n.Zone, Down: n.Down}
	}
	s.forLiveNodes(ctx, nodes, func(i int, ctx context.Context, nc NodeClient) error {
		st, err := nc.ScrubStatus(ctx)
		if err == nil {
			out.Nodes[i].Scrub = wireScrub(st)
		}
		return err
	}, func(i int, err error) { out.Nodes[i].Error = err.Error() })
	summarizeScrub(out)
	return out, nil
}

// forLiveNodes calls f for each node that is not down, at most fanOut at
// once, with its client and a context bounded by the call timeout; fail
// gets the error of a node whose client or call failed. It returns when
// every call has.
func (s *Server) forLiveNodes(ctx context.Context, nodes []adminapi.Node,
	f func(i int, ctx context.Context, nc NodeClient) error, fail func(i int, err error)) {
	var g errgroup.Group
	g.SetLimit(fanOut)
	for i, n := range nodes {
		if n.Down {
			continue
		}
		g.Go(func() error {
			nc, err := s.cfg.Nodes(n.ID)
			if err == nil {
				cctx, cancel := s.call(ctx)
				err = f(i, cctx, nc)
				cancel()
			}
			if err != nil {
				fail(i, err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// summarizeScrub fills in the summary of the nodes' scrubs.
func summarizeScrub(sc *adminapi.Scrub) {
	var done, total float64
	var since time.Time
	answered, complete := 0, 0
	for _, n := range sc.Nodes {
		st := n.Scrub
		if st == nil {
			continue
		}
		answered++
		latest := st.Last
		if p := st.Current; p != nil {
			sc.Running++
			latest = p
			// Bytes over Progress is the bytes the pass checks in all.
			if p.Progress > 0 {
				done += float64(p.Bytes)
				total += float64(p.Bytes) / p.Progress
			}
		}
		if latest != nil {
			sc.Corrupt += latest.Corrupt
			sc.Unreadable += latest.Unreadable
		}
		if l := st.Last; l != nil {
			complete++
			if since.IsZero() || l.Ended.Before(since) {
				since = l.Ended
			}
		}
	}
	if total > 0 {
		sc.Progress = done / total
	}
	if answered > 0 && complete == answered {
		sc.CheckedSince = since
	}
}

// scrubStart asks every live storage node for a scrub pass now, in
// parallel.
func (s *Server) scrubStart(ctx context.Context) (*adminapi.ScrubStart, error) {
	nodes := s.storageNodes(ctx)
	out := &adminapi.ScrubStart{Nodes: make([]adminapi.ScrubStarted, len(nodes))}
	for i, n := range nodes {
		out.Nodes[i] = adminapi.ScrubStarted{Node: n.ID, Zone: n.Zone, Down: n.Down}
	}
	s.forLiveNodes(ctx, nodes, func(i int, ctx context.Context, nc NodeClient) error {
		started, _, err := nc.StartScrub(ctx)
		if err == nil {
			out.Nodes[i].Started, out.Nodes[i].Running = started, !started
		}
		return err
	}, func(i int, err error) { out.Nodes[i].Error = err.Error() })
	started := 0
	for _, n := range out.Nodes {
		if n.Started {
			started++
		}
	}
	s.log.Info("scrub passes asked for by an operator", "started", started, "storage_nodes", len(out.Nodes))
	return out, nil
}

// wireScrub is a node's scrub status as the admin API shows it.
func wireScrub(st nodeapi.ScrubStatus) *adminapi.ScrubStatus {
	return &adminapi.ScrubStatus{
		IntervalSeconds: st.Interval.Seconds(),
		Requested:       st.Requested,
		Current:         wireScrubPass(st.Current),
		Last:            wireScrubPass(st.Last),
		Next:            st.Next,
		Passes:          st.Passes,
	}
}

func wireScrubPass(p *nodeapi.ScrubPass) *adminapi.ScrubPass {
	if p == nil {
		return nil
	}
	return &adminapi.ScrubPass{
		Started: p.Started, Ended: p.Ended, Requested: p.Requested, Rate: p.Rate, Progress: p.Progress,
		Shards: p.Shards, Bytes: p.Bytes,
		Unverifiable: p.Unverifiable, Corrupt: p.Corrupt, Unreadable: p.Unreadable, Rewritten: p.Rewritten,
	}
}
