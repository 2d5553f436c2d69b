package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"

	"cairn/internal/admin/adminapi"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/placement"
)

// ringView is a layout version ready for placement: its ring is
// layout.Ring's, the one the gateway places and reads with.
type ringView struct {
	ring   *placement.Ring
	zones  map[string]string // node ID → zone
	layout adminapi.Layout
}

func newRingView(l *meta.Layout) (*ringView, error) {
	ring, err := layout.Ring(l)
	if err != nil {
		return nil, err
	}
	v := &ringView{ring: ring, zones: make(map[string]string, len(l.Nodes)), layout: adminapi.Layout{Version: l.Version, Nodes: []adminapi.LayoutNode{}}}
	for _, n := range l.Nodes {
		v.zones[n.ID] = n.Zone
		v.layout.Nodes = append(v.layout.Nodes, adminapi.LayoutNode{ID: n.ID, Zone: n.Zone, Weight: n.Weight, Removed: n.Removed, Draining: n.Draining})
	}
	return v, nil
}

// object describes an object: its manifest, the node of each shard
// (layout.StripeNodes, as the gateway reads it), and whether that node
// has it.
func (s *Server) object(ctx context.Context, bucket, key string) (*adminapi.Object, error) {
	subject := fmt.Sprintf("object %q in bucket %q", key, bucket)
	gctx, cancel := s.call(ctx)
	obj, err := s.cfg.Meta.GetObject(gctx, bucket, key)
	cancel()
	if errors.Is(err, meta.ErrNoSuchBucket) {
		subject = fmt.Sprintf("bucket %q", bucket)
	}
	if err != nil {
		return nil, fail(err, subject)
	}
	out := &adminapi.Object{
		Bucket: obj.Bucket, Key: obj.Key, Size: obj.Size, ETag: obj.ETag, CID: obj.CID,
		Modified: obj.Modified, ContentType: obj.ContentType,
		Chunks: make([]adminapi.Chunk, len(obj.Chunks)), Layouts: []adminapi.Layout{},
	}
	views := map[uint64]*ringView{} // this request's, by layout version
	viewErrs := map[uint64]error{}
	var off int64
	for i, c := range obj.Chunks {
		st := c.Stripe
		ch := adminapi.Chunk{
			Index: i, Offset: off, CID: cidString(c.CID), Size: c.Size,
			K: st.K, M: st.M, LayoutVersion: st.Layout, ShardSize: st.ShardSize, Seal: st.Seal,
		}
		if st.Name != nil {
			ch.Name = cidString(st.Name)
		}
		off += c.Size
		if c.Inline() {
			ch.Inline, ch.Shards = true, []adminapi.Shard{}
			out.Chunks[i] = ch
			continue
		}
		n := st.K + st.M
		ch.Shards = make([]adminapi.Shard, n)
		for j := range ch.Shards {
			sh := adminapi.Shard{Index: j, Role: adminapi.RoleData}
			if j >= st.K {
				sh.Role = adminapi.RoleParity
			}
			if j < len(st.Shards) {
				sh.CID = cidString(st.Shards[j])
			}
			ch.Shards[j] = sh
		}
		if len(st.Shards) != n {
			ch.Error = fmt.Sprintf("the manifest lists %d shards for a %d+%d stripe", len(st.Shards), st.K, st.M)
		}
		// The layout version gives the nodes of a stripe that records
		// none, and the zones of those of one that does.
		v, cerr, err := s.view(ctx, views, viewErrs, st.Layout)
		if err != nil {
			return nil, err
		}
		nodes, err := layout.StripeNodes(&st, c.CID, func(uint64) (*placement.Ring, error) {
			if cerr != nil {
				return nil, cerr
			}
			return v.ring, nil
		})
		if err != nil {
			ch.Error = err.Error()
			out.Chunks[i] = ch
			continue
		}
		for j, id := range nodes {
			if id == "" {
				// Recorded on no node: missing, and no node to ask.
				ch.Shards[j].Present = new(bool)
				continue
			}
			ch.Shards[j].Node = id
			if v != nil {
				ch.Shards[j].Zone = v.zones[id]
			}
		}
		out.Chunks[i] = ch
	}
	for _, v := range views {
		out.Layouts = append(out.Layouts, v.layout)
	}
	slices.SortFunc(out.Layouts, func(a, b adminapi.Layout) int { return cmp.Compare(a.Version, b.Version) })
	s.checkShards(ctx, out.Chunks, obj.Chunks)
	return out, nil
}

// view returns the ring of a layout version, read once per request. A
// version the store does not have, or cannot place with, is the chunk's
// problem (chunkErr); the store being unavailable is the request's (err).
func (s *Server) view(ctx context.Context, views map[uint64]*ringView, errs map[uint64]error, version uint64) (v *ringView, chunkErr, err error) {
	if v, ok := views[version]; ok {
		return v, nil, nil
	}
	if err, ok := errs[version]; ok {
		return nil, err, nil
	}
	lctx, cancel := s.call(ctx)
	l, err := s.cfg.Meta.LayoutVersion(lctx, version)
	cancel()
	switch {
	case errors.Is(err, meta.ErrNoSuchLayout):
		chunkErr = fmt.Errorf("layout version %d is unknown to the metadata store", version)
	case err != nil:
		return nil, nil, fail(err, "")
	default:
		v, chunkErr = newRingView(l)
	}
	if chunkErr != nil {
		errs[version] = chunkErr
		return nil, chunkErr, nil
	}
	views[version] = v
	return v, nil, nil
}

// checkShards asks each shard's node whether it has the shard, in
// parallel.
func (s *Server) checkShards(ctx context.Context, chunks []adminapi.Chunk, manifest []meta.Chunk) {
	var g errgroup.Group
	g.SetLimit(fanOut)
	for i := range chunks {
		for j := range chunks[i].Shards {
			sh := &chunks[i].Shards[j]
			if sh.Node == "" || j >= len(manifest[i].Stripe.Shards) {
				continue
			}
			id, err := cid.Cast(manifest[i].Stripe.Shards[j])
			if err != nil {
				sh.Error = fmt.Sprintf("bad shard CID in the manifest: %v", err)
				continue
			}
			g.Go(func() error {
				has, err := s.has(ctx, sh.Node, id)
				if err != nil {
					sh.Error = err.Error()
					return nil // shown on the shard; the others go on
				}
				sh.Present = &has
				return nil
			})
		}
	}
	_ = g.Wait()
}

func (s *Server) has(ctx context.Context, node string, id cid.Cid) (bool, error) {
	nc, err := s.cfg.Nodes(node)
	if err != nil {
		return false, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return nc.Has(ctx, id)
}

// cidString is a binary CID's string form, or a note that it is not one.
func cidString(b []byte) string {
	c, err := cid.Cast(b)
	if err != nil {
		return fmt.Sprintf("(not a CID: %x)", b)
	}
	return c.String()
}
