package heal

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"

	"cairn/erasure"
	"cairn/internal/meta"
)

// The seal migration: once asked for (meta's seal migration flag), every
// pass seals the live unsealed stripes it found with no other work, as
// repair writes, at the repair rate. A stripe is read and checked against
// its chunk's CID (decode), its chunk sealed and coded anew, the new
// shards written where the current layout places the chunk's keyed name,
// and only then is the record's stripe swapped, by compare-and-set on its
// shards (meta's ReplaceStripe). The old shards are left where they are:
// a reader may still hold the old stripe, so they go as strays, which
// collectStrays deletes once no record has named them for GCGrace. A
// crash before the swap leaves the new shards as strays instead; the
// stripe is sealed again by a later pass.

// sealMigration reads the seal migration flag; an error reads as not
// asked (the next pass reads it again).
func (h *Healer) sealMigration(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	on, err := h.cfg.Meta.SealMigration(ctx)
	if err != nil {
		h.cfg.Logger.Warn("heal: seal migration flag not read; not sealing this pass", "err", err)
		return false
	}
	if on && h.cfg.Sealer == nil {
		h.cfg.Logger.Warn("heal: the seal migration is asked for, but this healer has no sealing key")
		return false
	}
	return on
}

// sealAll seals the stripes scan listed, Concurrency at a time.
func (h *Healer) sealAll(ctx context.Context, v *view, list []work) error {
	if len(list) == 0 {
		return nil
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(h.cfg.Concurrency)
	for _, w := range list {
		if ectx.Err() != nil {
			break
		}
		eg.Go(func() error {
			if err := h.sealStripe(ectx, v, w); err != nil {
				if ectx.Err() != nil {
					return ectx.Err()
				}
				h.sealFailed.Add(1)
				h.m.sealed.WithLabelValues("failed").Inc()
				h.cfg.Logger.Warn("heal: stripe not sealed this pass", "chunk", cidString(w.chunk.CID), "err", err)
				return nil
			}
			h.sealedStripes.Add(1)
			h.m.sealed.WithLabelValues("ok").Inc()
			return nil
		})
	}
	err := eg.Wait()
	if n := h.sealedStripes.Load() - h.sealedAtScan.Load(); n > 0 {
		h.cfg.Logger.Info("heal: stripes sealed", "stripes", n, "unsealed_at_scan", len(list))
	}
	return err
}

// sealStripe seals one unsealed stripe: decode and check it, seal and
// code its chunk, write the new shards where the layout places the keyed
// name (on a spare live node where that one does not take shards now),
// and swap the record's stripe. At least K+1 of the new shards (all, for
// a stripe without parity) must be written; the ones that are not are
// recorded as stored nowhere, for repair.
func (h *Healer) sealStripe(ctx context.Context, v *view, w work) error {
	c := &w.chunk
	st := &c.Stripe
	id, err := cid.Cast(c.CID)
	if err != nil {
		return fmt.Errorf("chunk CID: %w", err)
	}
	n := st.K + st.M
	if len(st.Shards) != n {
		return fmt.Errorf("%d shards for a %d+%d stripe", len(st.Shards), st.K, st.M)
	}
	names := make([]cid.Cid, n)
	for i := range names {
		if names[i], err = cid.Cast(st.Shards[i]); err != nil {
			return fmt.Errorf("shard %d CID: %w", i, err)
		}
	}
	codec, err := h.codec(st.K, st.M)
	if err != nil {
		return err
	}
	data, err := h.decode(ctx, v, c, w.cur, names)
	if err != nil {
		return err
	}
	chunk, err := codec.Join(nil, data, int(c.Size))
	if err != nil {
		return err
	}
	s := h.cfg.Sealer
	name := s.Name(id)
	shards, err := codec.Encode(s.Seal(nil, chunk, id), nil)
	if err != nil {
		return err
	}
	want, err := v.full.Place(name.Bytes(), n)
	if err != nil {
		return fmt.Errorf("place: %w", err)
	}
	var spare []string
	if v.live != nil {
		if spare, err = v.live.Place(name.Bytes(), n); err != nil {
			return fmt.Errorf("place: %w", err)
		}
	}
	next := meta.Stripe{
		K: st.K, M: st.M, Layout: v.l.Version, ShardSize: len(shards[0]), Seal: erasure.SealV1,
		Shards: make([][]byte, n), Nodes: make([]string, n), Name: name.Bytes(), Sums: make([][]byte, n),
	}
	sids := make([]cid.Cid, n)
	for i := range shards {
		if sids[i], err = erasure.ShardName(name, st.K, st.M, i); err != nil {
			return err
		}
		next.Shards[i] = sids[i].Bytes()
		next.Sums[i] = s.ShardSum(shards[i])
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range shards {
		node := want[i]
		if v.state(node) != NodeUp && spare != nil {
			node = spare[i]
		}
		if v.state(node) != NodeUp {
			errs[i] = fmt.Errorf("shard %d: node %s does not take shards now", i, node)
			continue
		}
		wg.Go(func() {
			if errs[i] = h.write(ctx, node, sids[i], shards[i]); errs[i] == nil {
				next.Nodes[i] = node
			}
		})
	}
	wg.Wait()
	stored := 0
	for _, err := range errs {
		if err == nil {
			stored++
		}
	}
	if need := min(st.K+1, n); stored < need {
		// What was written is named by nothing: strays.
		return fmt.Errorf("%d of %d sealed shards written, need %d: %w", stored, n, need, errors.Join(errs...))
	}
	mctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	err = h.cfg.Meta.ReplaceStripe(mctx, c.CID, st.Shards, next)
	cancel()
	if err != nil {
		return fmt.Errorf("swap the record's stripe: %w", err)
	}
	if stored < n {
		h.cfg.Logger.Info("heal: stripe sealed without all its shards; repair rebuilds the rest", "chunk", id,
			"stored", stored, "shards", n, "err", errors.Join(errs...))
	}
	return nil
}
