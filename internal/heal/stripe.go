package heal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/meta"
)

// heal carries out one stripe's plan: rebuild its lost shards from any K
// available ones (checked by opening the chunk's seal, or against its
// CID), copy the shards that move, record the stripe's new nodes
// (compare-and-set against what the scan read), and only then delete the
// moved shards' old copies. Where the stripe records shard sums, no shard
// is written that does not match its sum. A shard that cannot be written
// keeps its old entry, for the next pass. A crash at any point leaves the
// record as it was or as it is after, never with a shard that is not
// stored: new copies are written before the record names them, old ones
// deleted after it stops naming them.
func (h *Healer) heal(ctx context.Context, v *view, w work) error {
	c := &w.chunk
	st := &c.Stripe
	chunkID, err := cid.Cast(c.CID)
	if err != nil {
		return fmt.Errorf("chunk CID: %w", err)
	}
	n := st.K + st.M
	names := make([]cid.Cid, n)
	for i := range names {
		if names[i], err = cid.Cast(st.Shards[i]); err != nil {
			return fmt.Errorf("shard %d CID: %w", i, err)
		}
	}
	// The record changes only where a shard was written: a shard its
	// node lacks and that could not be rebuilt keeps its entry, and the
	// next pass tries again.
	next := slices.Clone(w.orig)
	written := make([]bool, n) // shards written by this heal
	var data [][]byte          // every shard, when the stripe was decoded
	if len(w.plan.Rebuild) > 0 {
		if data, err = h.decode(ctx, v, c, w.cur, names); err != nil {
			return err
		}
		for _, r := range w.plan.Rebuild {
			err := checkSum(h.cfg.Sealer, st, r.Shard, data[r.Shard])
			if err == nil {
				err = h.write(ctx, r.Node, names[r.Shard], data[r.Shard])
			}
			if err != nil {
				h.failedShards.Add(1)
				h.m.shards.WithLabelValues("repair", "failed").Inc()
				h.cfg.Logger.Warn("heal: shard not rebuilt", "chunk", chunkID, "shard", r.Shard, "node", r.Node, "err", err)
				continue
			}
			next[r.Shard] = r.Node
			written[r.Shard] = true
		}
	}
	var moved []Move
	for _, mv := range w.plan.Move {
		var b []byte
		if data != nil {
			b = data[mv.Shard]
		} else if b, err = h.readChecked(ctx, st, mv.Shard, mv.From, names[mv.Shard]); err != nil {
			h.failedShards.Add(1)
			h.m.shards.WithLabelValues("rebalance", "failed").Inc()
			h.cfg.Logger.Warn("heal: shard not read for a move", "chunk", chunkID, "shard", mv.Shard, "node", mv.From, "err", err)
			continue
		}
		if err := h.write(ctx, mv.To, names[mv.Shard], b); err != nil {
			h.failedShards.Add(1)
			h.m.shards.WithLabelValues("rebalance", "failed").Inc()
			h.cfg.Logger.Warn("heal: shard not moved", "chunk", chunkID, "shard", mv.Shard, "to", mv.To, "err", err)
			continue
		}
		next[mv.Shard] = mv.To
		written[mv.Shard] = true
		moved = append(moved, mv)
	}
	if !slices.Contains(written, true) {
		return errors.New("no shard could be written")
	}
	if !slices.Equal(next, w.orig) {
		mctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
		err = h.cfg.Meta.SetStripeNodes(mctx, c.CID, st.Nodes, next, v.l.Version)
		cancel()
		if err != nil {
			// The shards just written are now stored but named by
			// nothing: strays, which a later pass collects.
			return fmt.Errorf("record the stripe's new nodes: %w", err)
		}
	}
	for i := range next {
		if !written[i] {
			continue
		}
		size := int64(st.ShardSize)
		if w.cur[i] == "" || v.state(w.cur[i]) == NodeGone || v.state(w.cur[i]) == NodeDown {
			h.repairedShards.Add(1)
			h.repairedBytes.Add(size)
			h.m.shards.WithLabelValues("repair", "ok").Inc()
			h.m.bytes.WithLabelValues("repair").Add(float64(size))
		} else {
			if v.state(w.cur[i]) == NodeDraining {
				h.setStatus(func(*Status) { h.drained[w.cur[i]]++ })
			}
			h.movedShards.Add(1)
			h.movedBytes.Add(size)
			h.m.shards.WithLabelValues("rebalance", "ok").Inc()
			h.m.bytes.WithLabelValues("rebalance").Add(float64(size))
		}
	}
	for _, mv := range moved {
		if err := h.delete(ctx, mv.From, names[mv.Shard]); err != nil {
			h.cfg.Logger.Info("heal: old copy of a moved shard not deleted; the inventory check will", "chunk", chunkID,
				"shard", mv.Shard, "node", mv.From, "err", err)
		}
	}
	return nil
}

// decode reads K available shards (data shards first, more when one
// fails or does not match its recorded sum), rebuilds every shard of the
// stripe and checks the chunk: a sealed one by opening its seal, an
// unsealed one against its CID. When the check fails (a node returned
// wrong bytes that its store vouched for) it tries the other sets of K
// available shards.
func (h *Healer) decode(ctx context.Context, v *view, c *meta.ChunkInfo, cur []string, names []cid.Cid) ([][]byte, error) {
	st := &c.Stripe
	coded := int(c.Size)
	switch st.Seal {
	case 0:
	case erasure.SealV1:
		if h.cfg.Sealer == nil {
			return nil, errors.New("sealed stripe, and this healer has no sealing key")
		}
		coded += erasure.SealOverhead
	case erasure.SealCustomer:
		// Sealed under a customer's key, which no healer holds: the
		// rebuilt stripe is checked against the sums of its shards.
		if len(st.Sums) != st.K+st.M {
			return nil, errors.New("stripe sealed under a customer key without shard sums")
		}
		coded += erasure.SealOverhead
	default:
		return nil, fmt.Errorf("stripe sealed with scheme %d, which this healer does not know", st.Seal)
	}
	id := mustCID(c.CID)
	codec, err := h.codec(st.K, st.M)
	if err != nil {
		return nil, err
	}
	n := st.K + st.M
	got := make([][]byte, n)
	var avail []int
	for i, node := range cur {
		if s := v.state(node); node != "" && (s == NodeUp || s == NodeDraining) {
			avail = append(avail, i)
		}
	}
	// K reads at once, from the data shards first; each failure starts
	// a read of the next available shard.
	type result struct {
		i   int
		b   []byte
		err error
	}
	results := make(chan result, len(avail))
	next, running := 0, 0
	launch := func() {
		i := avail[next]
		next++
		running++
		go func() {
			b, err := h.readChecked(ctx, st, i, cur[i], names[i])
			results <- result{i, b, err}
		}()
	}
	for next < len(avail) && running < st.K {
		launch()
	}
	readOK := 0
	var errs []error
	for running > 0 {
		r := <-results
		running--
		if r.err != nil {
			errs = append(errs, r.err)
			if next < len(avail) && readOK+running < st.K {
				launch()
			}
			continue
		}
		got[r.i] = r.b
		readOK++
	}
	if readOK < st.K {
		return nil, fmt.Errorf("%d of %d shards readable, need %d: %w", readOK, n, st.K, errors.Join(errs...))
	}
	try := func(set [][]byte) ([][]byte, bool, error) {
		shards := make([][]byte, n)
		for i, b := range set {
			if b != nil {
				shards[i] = slices.Clone(b)
			}
		}
		if err := codec.Reconstruct(shards); err != nil {
			return nil, false, fmt.Errorf("reconstruct: %w", err)
		}
		chunk, err := codec.Join(nil, shards, coded)
		if err != nil {
			return nil, false, err
		}
		if st.Seal == erasure.SealCustomer {
			for i, sh := range shards {
				if checkSum(h.cfg.Sealer, st, i, sh) != nil {
					return shards, false, nil
				}
			}
			return shards, true, nil
		}
		if st.Seal != 0 {
			_, err := h.cfg.Sealer.Open(chunk[:0], chunk, id)
			return shards, err == nil, nil
		}
		return shards, erasure.ChunkCID(chunk).Equals(id), nil
	}
	shards, ok, err := try(got)
	if err != nil || ok {
		return shards, err
	}
	// Some shard lies: read every available one, and try each set of K.
	for _, i := range avail {
		if got[i] == nil {
			if b, err := h.readChecked(ctx, st, i, cur[i], names[i]); err == nil {
				got[i] = b
			}
		}
	}
	var have []int
	for i, b := range got {
		if b != nil {
			have = append(have, i)
		}
	}
	tried := 0
	var good [][]byte
	erasure.ForSubsets(len(have), st.K, func(set []int) bool {
		if tried == maxSubsets {
			return false
		}
		tried++
		sub := make([][]byte, n)
		for _, j := range set {
			sub[have[j]] = got[have[j]]
		}
		if shards, ok, err := try(sub); err == nil && ok {
			good = shards
			h.cfg.Logger.Warn("heal: a node returned wrong bytes for a shard; rebuilt from the others",
				"chunk", cidString(c.CID))
			return false
		}
		return true
	})
	if good != nil {
		return good, nil
	}
	return nil, fmt.Errorf("no set of %d shards decodes to the chunk (%d tried)", st.K, tried)
}

// maxSubsets bounds the sets of K shards decode tries.
const maxSubsets = 256

func mustCID(b []byte) cid.Cid {
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef
	}
	return c
}

// errSumMismatch: a shard's bytes do not match the sum its stripe records.
var errSumMismatch = errors.New("shard does not match its recorded sum")

// checkSum checks shard i of a stripe against its recorded sum, if the
// stripe records sums that s can check (a keyed sum needs the Sealer).
func checkSum(s *erasure.Sealer, st *meta.Stripe, i int, b []byte) error {
	if i >= len(st.Sums) {
		return nil
	}
	if err := s.CheckShardSum(st.Sums[i], b); errors.Is(err, erasure.ErrShardSumMismatch) {
		return fmt.Errorf("shard %d: %w", i, errSumMismatch)
	}
	return nil
}

// readChecked reads shard i of a stripe from node and checks it against
// its recorded sum, when the stripe records sums: a node that lies about
// a shard is then caught before any decoding.
func (h *Healer) readChecked(ctx context.Context, st *meta.Stripe, i int, node string, id cid.Cid) ([]byte, error) {
	b, err := h.read(ctx, node, id, st.ShardSize)
	if err != nil {
		return nil, err
	}
	if err := checkSum(h.cfg.Sealer, st, i, b); err != nil {
		h.cfg.Logger.Warn("heal: a node returned a shard that does not match its sum", "shard", id, "node", node)
		return nil, fmt.Errorf("shard %s from %s: %w", id, node, err)
	}
	return b, nil
}

func (h *Healer) read(ctx context.Context, node string, id cid.Cid, size int) ([]byte, error) {
	st, err := h.cfg.Nodes.Shards(node)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	b, err := st.Get(ctx, id, make([]byte, 0, size))
	if err != nil {
		return nil, fmt.Errorf("get shard %s from %s: %w", id, node, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("shard %s from %s: %d bytes, want %d", id, node, len(b), size)
	}
	return bytes.Clone(b), nil
}

// write stores a shard on a node, at the healer's rate.
func (h *Healer) write(ctx context.Context, node string, id cid.Cid, b []byte) error {
	if err := h.lim.WaitN(ctx, min(len(b), h.lim.Burst())); err != nil {
		return err
	}
	st, err := h.cfg.Nodes.Shards(node)
	if err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	if err := st.Put(ctx, id, b); err != nil {
		return fmt.Errorf("put shard %s on %s: %w", id, node, err)
	}
	h.written(int64(len(b)))
	return nil
}

func (h *Healer) delete(ctx context.Context, node string, id cid.Cid) error {
	st, err := h.cfg.Nodes.Shards(node)
	if err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	return st.Delete(ctx, id)
}
