package heal

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/meta"
)

// inventory is what the live storage nodes said they hold at the start of
// a pass: it turns a shard that a node lost (its scrub quarantined it, its
// disk was wiped) into a shard to rebuild, and a shard that no chunk
// record names into a stray to collect.
type inventory struct {
	// held is, per node whose walk succeeded, the shards it holds (by
	// cid.KeyString) and their sizes; a node missing here is unknown and
	// its shards are taken as present.
	held map[string]map[string]int64
}

// take walks the inventory of every node that is up or draining.
func (h *Healer) takeInventory(ctx context.Context, v *view) *inventory {
	inv := &inventory{held: map[string]map[string]int64{}}
	for id, s := range v.states {
		if s != NodeUp && s != NodeDraining {
			continue
		}
		st, err := h.cfg.Nodes.Shards(id)
		if err != nil {
			h.cfg.Logger.Debug("heal: no inventory", "node", id, "err", err)
			continue
		}
		set := map[string]int64{}
		wctx, cancel := context.WithTimeout(ctx, 10*h.cfg.Timeout)
		err = st.Walk(wctx, func(id cid.Cid, size int64) error {
			set[id.KeyString()] = size
			return nil
		})
		cancel()
		if err != nil {
			h.cfg.Logger.Info("heal: inventory not read; its shards are taken as present", "node", id, "err", err)
			continue
		}
		inv.held[id] = set
	}
	return inv
}

// has reports whether node holds the shard, true when its inventory is
// unknown.
func (inv *inventory) has(node string, shard []byte) bool {
	set, ok := inv.held[node]
	if !ok {
		return true
	}
	_, ok = set[string(shard)]
	return ok
}

// claim marks a shard on a node as named by a record: what is left
// unclaimed after the scan is stray.
func (inv *inventory) claim(node string, shard []byte) {
	if set, ok := inv.held[node]; ok {
		delete(set, string(shard))
	}
}

// protect claims a shard on every node: its stripe's nodes are unknown
// this pass, so no copy of it may be taken for a stray.
func (inv *inventory) protect(shard []byte) {
	for _, set := range inv.held {
		delete(set, string(shard))
	}
}

// strayKey names a shard on a node.
type strayKey struct{ node, shard string }

// collectStrays deletes the shards that no record named in this pass nor
// in any pass since at least GCGrace ago (h.strays remembers when each was
// first seen unnamed), and forgets those named again. A shard that a live
// stripe needs — its record names another node for it, which does not
// hold it — is adopted instead: the record names this node for it. Shards
// that are not shard names (content addresses of stripes written before
// shards were named) are never deleted: nothing says which stripe they
// belong to.
func (h *Healer) collectStrays(ctx context.Context, v *view, inv *inventory) (deleted int, bytes int64) {
	now := h.cfg.Now()
	seen := map[strayKey]bool{}
	for node, set := range inv.held {
		for shard, size := range set {
			k := strayKey{node, shard}
			seen[k] = true
			if h.adopt(ctx, v, node, []byte(shard)) {
				delete(h.strays, k)
				continue
			}
			first, ok := h.strays[k]
			if !ok {
				h.strays[k] = now
				continue
			}
			if now.Sub(first) < h.cfg.GCGrace {
				continue
			}
			id, err := cid.Cast([]byte(shard))
			if err != nil || !erasure.IsShardName(id) {
				continue
			}
			if err := h.delete(ctx, node, id); err != nil {
				h.cfg.Logger.Info("heal: stray shard not deleted", "node", node, "shard", id, "err", err)
				continue
			}
			delete(h.strays, k)
			deleted++
			bytes += size
		}
	}
	for k := range h.strays {
		if !seen[k] {
			delete(h.strays, k) // named again, or gone
		}
	}
	if deleted > 0 {
		h.cfg.Logger.Info("heal: stray shards deleted", "shards", deleted, "bytes", bytes)
	}
	return deleted, bytes
}

// adopt makes the record of the live stripe that shard (a shard name) on
// node belongs to name node for it, when the node the record names does
// not hold it; it reports whether it did. This finds shards that are not
// where their record says: placed by an older placement function, or
// moved by a pass whose record change was lost. A sealed stripe's shard
// names its chunk by the keyed name only, which the names index maps to
// the record (ChunkByName).
func (h *Healer) adopt(ctx context.Context, v *view, node string, shard []byte) bool {
	if v.state(node) != NodeUp && v.state(node) != NodeDraining {
		return false
	}
	id, err := cid.Cast(shard)
	if err != nil {
		return false
	}
	chunk, k, m, i, ok := erasure.ParseShardName(id)
	if !ok {
		return false
	}
	mctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	var ci *meta.ChunkInfo
	if erasure.IsChunkName(chunk) {
		ci, err = h.cfg.Meta.ChunkByName(mctx, chunk.Bytes())
	} else {
		ci, err = h.cfg.Meta.Chunk(mctx, chunk.Bytes())
	}
	cancel()
	if err != nil || ci == nil || ci.State != meta.ChunkLive || ci.Stripe.K != k || ci.Stripe.M != m ||
		i >= len(ci.Stripe.Shards) || !bytes.Equal(ci.Stripe.Shards[i], shard) {
		return false
	}
	cur, err := h.stripeNodes(ctx, v, ci)
	if err != nil || cur[i] == node {
		return false
	}
	if cur[i] != "" && h.stillHas(ctx, cur[i], shard) {
		return false // a duplicate: the recorded copy is there
	}
	next := slices.Clone(cur)
	next[i] = node
	mctx, cancel = context.WithTimeout(ctx, h.cfg.Timeout)
	err = h.cfg.Meta.SetStripeNodes(mctx, ci.CID, ci.Stripe.Nodes, next, ci.Stripe.Layout)
	cancel()
	if err != nil {
		return false
	}
	h.cfg.Logger.Info("heal: a shard found away from where its record said, and adopted", "chunk", cidString(ci.CID),
		"shard", i, "node", node, "recorded", cur[i])
	return true
}

// gcCandidate is a garbage chunk old enough to collect, or one whose
// collection a crash interrupted.
type gcCandidate struct {
	cid   []byte
	nodes []string
	names [][]byte
}

// gcBatch is how many chunks one Collect and one ForgetGarbage name.
const gcBatch = 500

// collectGarbage deletes the shards of chunks unreferenced for GCGrace:
// Collect fences them (a write that references one is refused from then
// on), their shards are deleted, then ForgetGarbage drops their records.
// A chunk whose shards could not all be deleted stays fenced for the next
// pass.
func (h *Healer) collectGarbage(ctx context.Context, cands []gcCandidate) (chunks int, err error) {
	olderThan := h.cfg.Now().Add(-h.cfg.GCGrace)
	for len(cands) > 0 {
		batch := cands[:min(gcBatch, len(cands))]
		cands = cands[len(batch):]
		ids := make([][]byte, len(batch))
		for i, c := range batch {
			ids[i] = c.cid
		}
		mctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
		err := h.cfg.Meta.Collect(mctx, ids, olderThan)
		cancel()
		if err != nil {
			return chunks, fmt.Errorf("collect: %w", err)
		}
		var done [][]byte
		for _, c := range batch {
			mctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
			ci, err := h.cfg.Meta.Chunk(mctx, c.cid)
			cancel()
			if err != nil {
				return chunks, err
			}
			if ci == nil || ci.State != meta.ChunkCollecting {
				continue // referenced again, or gone
			}
			ok := true
			for i, node := range c.nodes {
				if node == "" {
					continue
				}
				id, err := cid.Cast(c.names[i])
				if err != nil {
					continue
				}
				alive := h.cfg.Alive == nil || h.cfg.Alive(node)
				if err := h.delete(ctx, node, id); err != nil && alive {
					h.cfg.Logger.Info("heal: garbage shard not deleted yet", "node", node, "shard", id, "err", err)
					ok = false
				}
			}
			if ok {
				done = append(done, c.cid)
			}
		}
		if len(done) == 0 {
			continue
		}
		mctx, cancel = context.WithTimeout(ctx, h.cfg.Timeout)
		err = h.cfg.Meta.ForgetGarbage(mctx, done)
		cancel()
		if err != nil {
			return chunks, fmt.Errorf("forget garbage: %w", err)
		}
		chunks += len(done)
	}
	return chunks, nil
}
