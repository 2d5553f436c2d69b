package meta

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The chunk table: one record per chunk stored as a stripe (inline chunks
// have none), keyed by the chunk's CID. It says where the chunk's shards
// are — the one place that repair, rebalance and garbage collection change
// — and how many references (listings by objects and uploaded parts) the
// chunk has. A manifest keeps the stripe its chunk had when it was
// written; readers get the table's (resolveStripes).
//
// Every chunk listed by an object or an uploaded part counts one reference
// per listing (an object that lists a chunk twice holds two). The command
// that adds or drops a listing adjusts the counts in the same raft entry.
// The first reference creates the record with the stripe the writer gives;
// later ones keep the recorded stripe (the writer's copies of the shards,
// wherever they went, are then stray shards, collected as such). When a
// count drops to zero the chunk becomes garbage, with the command's time,
// and an entry in the garbage index; a new reference takes it out again.
//
// Garbage collection is fenced against a new reference: Collect marks
// garbage chunks as being collected, and from then on a command that
// references one is refused (ErrChunkCollecting) until ForgetGarbage has
// dropped the record, after the collector deleted the shards. A writer
// that meets ErrChunkCollecting writes the chunk's shards again once the
// record is gone, so no shard it wrote can be deleted by the collection.

// ChunkState is where a chunk record is in its life.
type ChunkState byte

const (
	// ChunkLive: the chunk has references.
	ChunkLive ChunkState = iota
	// ChunkGarbage: no reference since Since.
	ChunkGarbage
	// ChunkCollecting: garbage that the collector is deleting; a new
	// reference is refused until the record is forgotten.
	ChunkCollecting
)

func (s ChunkState) String() string {
	switch s {
	case ChunkLive:
		return "live"
	case ChunkGarbage:
		return "garbage"
	case ChunkCollecting:
		return "collecting"
	}
	return fmt.Sprintf("ChunkState(%d)", byte(s))
}

// ChunkInfo is a chunk's record in the chunk table.
type ChunkInfo struct {
	CID    []byte
	Size   int64 // plaintext bytes
	Refs   int64
	State  ChunkState
	Since  time.Time // when the chunk became garbage; zero while live
	Stripe Stripe
}

// chunkRecordVersion is the first byte of a chunk record:
//
//	byte     chunkRecordVersion (2; 1 is read too)
//	uvarint  reference count
//	byte     state (ChunkState)
//	8 bytes  since (timeKey), when the state is not live
//	uvarint  the chunk's size
//	         the stripe, as in a manifest of version 3 (record version 2:
//	         with its keyed name and sums) or 2 (record version 1)
//
// A record is written in the oldest version that holds its stripe, as a
// manifest is.
const chunkRecordVersion = 2

// recordStripeFormat is the stripe format of each chunk record version.
var recordStripeFormat = map[byte]stripeFormat{1: stripeNodes, 2: stripeSealed}

func encodeChunkRecord(refs uint64, state ChunkState, since []byte, size int64, s *Stripe) []byte {
	e := enc{b: make([]byte, 0, 64+len(s.Shards)*40+len(s.Nodes)*24+len(s.Sums)*20+len(s.Name))}
	f, version := stripeNodes, byte(1)
	if formatFor(s) == stripeSealed {
		f, version = stripeSealed, chunkRecordVersion
	}
	e.b = append(e.b, version)
	e.uvarint(refs)
	e.b = append(e.b, byte(state))
	if state != ChunkLive {
		e.b = append(e.b, since...)
	}
	e.uvarint(uint64(size))
	appendStripe(&e, s, f)
	return e.b
}

type chunkRecord struct {
	refs   uint64
	state  ChunkState
	since  []byte // timeKey; nil when live
	size   int64
	stripe Stripe
}

func decodeChunkRecord(v []byte) (chunkRecord, error) {
	if len(v) < 1 || recordStripeFormat[v[0]] == 0 {
		return chunkRecord{}, fmt.Errorf("%w: chunk record version", errCorrupt)
	}
	f := recordStripeFormat[v[0]]
	d := &dec{b: v[1:]}
	r := chunkRecord{refs: d.uvarint()}
	if d.err != nil || len(d.b) < 1 {
		return chunkRecord{}, errCorrupt
	}
	r.state = ChunkState(d.b[0])
	d.b = d.b[1:]
	if r.state > ChunkCollecting {
		return chunkRecord{}, fmt.Errorf("%w: chunk state %d", errCorrupt, r.state)
	}
	if r.state != ChunkLive {
		if len(d.b) < 8 {
			return chunkRecord{}, errCorrupt
		}
		r.since = d.b[:8:8]
		d.b = d.b[8:]
	}
	r.size = int64(d.uvarint())
	r.stripe = readStripe(d, f)
	if d.err != nil || len(d.b) != 0 {
		return chunkRecord{}, fmt.Errorf("%w: chunk record", errCorrupt)
	}
	return r, nil
}

func (r *chunkRecord) info(cid []byte) ChunkInfo {
	ci := ChunkInfo{CID: bytes.Clone(cid), Size: r.size, Refs: int64(r.refs), State: r.state, Stripe: r.stripe}
	if r.since != nil {
		ci.Since = time.Unix(0, int64(binary.BigEndian.Uint64(r.since))).UTC()
	}
	return ci
}

func (w *wtx) chunkRecord(cid []byte) (chunkRecord, bool, error) {
	v := w.chunks.Get(cid)
	if v == nil {
		return chunkRecord{}, false, nil
	}
	r, err := decodeChunkRecord(v)
	if err != nil {
		return chunkRecord{}, false, fmt.Errorf("chunk %x: %w", cid, err)
	}
	return r, true, nil
}

func (w *wtx) putChunkRecord(cid []byte, r *chunkRecord) error {
	return w.chunks.Put(cid, encodeChunkRecord(r.refs, r.state, r.since, r.size, &r.stripe))
}

// checkReferable refuses (ErrChunkCollecting) a command that would add a
// reference to a chunk being collected. Commands call it before they
// change anything.
func (w *wtx) checkReferable(chunks []Chunk) error {
	for i := range chunks {
		if chunks[i].Inline() {
			continue
		}
		r, ok, err := w.chunkRecord(chunks[i].CID)
		if err != nil {
			return err
		}
		if ok && r.state == ChunkCollecting {
			return reject(fmt.Errorf("%w: chunk %x", ErrChunkCollecting, chunks[i].CID))
		}
	}
	return nil
}

// addRefs counts one more reference to each chunk; checkReferable must
// have passed.
func (w *wtx) addRefs(chunks []Chunk) error {
	for i := range chunks {
		c := &chunks[i]
		if c.Inline() {
			continue
		}
		r, ok, err := w.chunkRecord(c.CID)
		if err != nil {
			return err
		}
		if ok {
			r.stripe.Nodes = fillStoredNowhere(r.stripe, c.Stripe)
		}
		switch {
		case !ok:
			r = chunkRecord{size: c.Size, stripe: c.Stripe}
			if err := w.indexName(c.CID, nil, r.stripe.Name); err != nil {
				return err
			}
		case r.state == ChunkGarbage:
			if err := w.garbage.Delete(garbageKey(r.since, c.CID)); err != nil {
				return err
			}
			r.state, r.since = ChunkLive, nil
		case r.state == ChunkCollecting:
			return fmt.Errorf("chunk %x is being collected", c.CID) // checkReferable refuses it first
		}
		r.refs++
		if err := w.putChunkRecord(c.CID, &r); err != nil {
			return err
		}
	}
	return nil
}

// fillStoredNowhere returns rec's nodes with each shard it records as
// stored nowhere ("") taken from w, a writer's stripe of the same chunk
// coded alike (the same shards), where w stored it: the writer stored
// those shards durably before it proposed the write.
func fillStoredNowhere(rec, w Stripe) []string {
	if rec.Nodes == nil || len(w.Nodes) != len(rec.Nodes) || rec.K != w.K || rec.M != w.M ||
		len(rec.Shards) != len(w.Shards) || !slices.Contains(rec.Nodes, "") {
		return rec.Nodes
	}
	out := slices.Clone(rec.Nodes)
	for i := range out {
		if out[i] == "" && w.Nodes[i] != "" && bytes.Equal(rec.Shards[i], w.Shards[i]) {
			out[i] = w.Nodes[i]
		}
	}
	return out
}

// releaseRefs drops one reference to each chunk. Call it after addRefs for
// the references that replace them, so that a chunk kept does not pass
// through zero.
func (w *wtx) releaseRefs(chunks []Chunk) error {
	for i := range chunks {
		c := &chunks[i]
		if c.Inline() {
			continue
		}
		r, ok, err := w.chunkRecord(c.CID)
		if err != nil {
			return err
		}
		if !ok || r.refs == 0 {
			continue // nothing to release (cannot happen unless the state was damaged)
		}
		r.refs--
		if r.refs == 0 {
			r.state, r.since = ChunkGarbage, w.nowKey
			if err := w.garbage.Put(garbageKey(r.since, c.CID), nil); err != nil {
				return err
			}
		}
		if err := w.putChunkRecord(c.CID, &r); err != nil {
			return err
		}
	}
	return nil
}

// resolveStripes gives each chunk that has a record the record's stripe:
// where its shards are now.
func resolveStripes(tx *bolt.Tx, chunks []Chunk) error {
	b := tx.Bucket(bChunks)
	for i := range chunks {
		c := &chunks[i]
		if c.Inline() {
			continue
		}
		v := b.Get(c.CID)
		if v == nil {
			continue
		}
		r, err := decodeChunkRecord(v)
		if err != nil {
			return fmt.Errorf("chunk %x: %w", c.CID, err)
		}
		c.Stripe = r.stripe
	}
	return nil
}

func readCIDs(d *dec) [][]byte {
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	cids := make([][]byte, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		cids = append(cids, d.raw())
	}
	return cids
}

func cidsCmd(o op, now time.Time, what string, cids [][]byte) (*enc, error) {
	size := 0
	for _, c := range cids {
		if len(c) == 0 || len(c) > maxCIDLen {
			return nil, fmt.Errorf("%s: %w: bad CID length %d", what, ErrInvalidArgument, len(c))
		}
		size += len(c) + 2
	}
	e := newCmd(o, now, size+4)
	e.uvarint(uint64(len(cids)))
	for _, c := range cids {
		e.bytes(c)
	}
	return e, nil
}

// Collect marks the given chunks as being collected, in one raft entry:
// those that are garbage since before olderThan; the others are left
// alone. From then on a command that references one is refused
// (ErrChunkCollecting) until ForgetGarbage drops it. Read the chunks back
// (Chunk) to see which are being collected.
func (s *Store) Collect(ctx context.Context, cids [][]byte, olderThan time.Time) error {
	e, err := cidsCmd(opCollect, s.cfg.Now(), "collect", cids)
	if err == nil {
		e.b = append(e.b, timeKey(olderThan)...)
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("collect: %w", err)
	}
	return nil
}

func (w *wtx) collect(d *dec) error {
	cids := readCIDs(d)
	if d.err == nil && len(d.b) != 8 {
		d.err = errCorrupt
	}
	var before []byte
	if d.err == nil {
		before, d.b = d.b[:8], d.b[8:]
	}
	if err := args(d); err != nil {
		return err
	}
	for _, cid := range cids {
		r, ok, err := w.chunkRecord(cid)
		if err != nil {
			return err
		}
		if !ok || r.state != ChunkGarbage || bytes.Compare(r.since, before) >= 0 {
			continue
		}
		r.state = ChunkCollecting
		if err := w.putChunkRecord(cid, &r); err != nil {
			return err
		}
	}
	return nil
}

// ForgetGarbage drops the records of chunks being collected, whose shards
// the collector has deleted, in one raft entry. Chunks in any other state
// are left alone.
func (s *Store) ForgetGarbage(ctx context.Context, cids [][]byte) error {
	e, err := cidsCmd(opForgetGarbage, s.cfg.Now(), "forget garbage", cids)
	if err == nil {
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("forget garbage: %w", err)
	}
	return nil
}

func (w *wtx) forgetGarbage(d *dec) error {
	cids := readCIDs(d)
	if err := args(d); err != nil {
		return err
	}
	for _, cid := range cids {
		r, ok, err := w.chunkRecord(cid)
		if err != nil {
			return err
		}
		if !ok || r.state != ChunkCollecting {
			continue
		}
		if err := w.garbage.Delete(garbageKey(r.since, cid)); err != nil {
			return err
		}
		if err := w.indexName(cid, r.stripe.Name, nil); err != nil {
			return err
		}
		if err := w.chunks.Delete(cid); err != nil {
			return err
		}
		if err := w.tombstone(cid); err != nil {
			return err
		}
	}
	return w.pruneTombstones()
}

// Tombstones. A writer stores a chunk's shards before it records the
// chunk; if garbage collection deleted shards of the same chunk (same
// names, same nodes) in between and forgot its record, the writer's new
// record would name deleted shards. So ForgetGarbage leaves a tombstone
// with its raft index, and a writer reads first (GetBucket, GetUpload:
// their ReadIndex) and sends that index as its Fence: a write that
// references a chunk with no record but a tombstone newer than its fence
// is refused (ErrChunkCollecting), and the writer stores the shards
// again. The collector deleted the shards before it proposed the forget,
// so a tombstone at or below the fence was in place before the writer
// stored anything. No clock is involved. Tombstones older than
// TombstoneRetention (by the proposers' clocks) are pruned, and the
// highest index pruned kept: a write whose fence is below it, and that
// references a chunk with no record, is refused too.

// TombstoneRetention is how long a forgotten chunk's tombstone is kept:
// the longest a writer may take between its read and recording the chunk.
const TombstoneRetention = 24 * time.Hour

// kForgotHorizon (in bucket raft) is the highest raft index of a pruned
// tombstone.
var kForgotHorizon = []byte("forgot-horizon")

func (w *wtx) tombstone(cid []byte) error {
	if old := w.forgot.Get(cid); len(old) == 16 {
		if err := w.forgotT.Delete(garbageKey(old[8:], cid)); err != nil {
			return err
		}
	}
	// index (8 bytes BE), then when (timeKey), for pruning.
	v := append(u64(w.index), w.nowKey...)
	if err := w.forgot.Put(cid, v); err != nil {
		return err
	}
	return w.forgotT.Put(garbageKey(w.nowKey, cid), nil)
}

func (w *wtx) pruneTombstones() error {
	cutoff := timeKey(w.now.Add(-TombstoneRetention))
	c := w.forgotT.Cursor()
	var old [][]byte
	for k, _ := c.First(); len(k) >= 8 && bytes.Compare(k[:8], cutoff) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	rb := w.tx.Bucket(bRaft)
	horizon := uint64(0)
	if v := rb.Get(kForgotHorizon); len(v) == 8 {
		horizon = binary.BigEndian.Uint64(v)
	}
	for _, k := range old {
		if v := w.forgot.Get(k[8:]); len(v) == 16 {
			horizon = max(horizon, binary.BigEndian.Uint64(v))
		}
		if err := w.forgotT.Delete(k); err != nil {
			return err
		}
		if err := w.forgot.Delete(k[8:]); err != nil {
			return err
		}
	}
	if len(old) == 0 {
		return nil
	}
	return rb.Put(kForgotHorizon, u64(horizon))
}

// optFence reads the optional fence that PutObject and PutPart commands
// written since tombstones carry; 0 when absent.
func optFence(d *dec) uint64 {
	if d.err != nil || len(d.b) == 0 {
		return 0
	}
	return d.uvarint()
}

// checkForgotten refuses (ErrChunkCollecting) a write with the given
// fence (0: none, not checked) that references a chunk that has no record
// but was forgotten after the fence, or whose fence is older than the
// tombstones kept.
func (w *wtx) checkForgotten(chunks []Chunk, fence uint64) error {
	if fence == 0 {
		return nil
	}
	horizon := uint64(0)
	if v := w.tx.Bucket(bRaft).Get(kForgotHorizon); len(v) == 8 {
		horizon = binary.BigEndian.Uint64(v)
	}
	for i := range chunks {
		c := &chunks[i]
		if c.Inline() || w.chunks.Get(c.CID) != nil {
			continue
		}
		t := w.forgot.Get(c.CID)
		if fence < horizon || (len(t) == 16 && binary.BigEndian.Uint64(t) > fence) {
			return reject(fmt.Errorf("%w: chunk %x was collected while it was being written: write it again", ErrChunkCollecting, c.CID))
		}
	}
	return nil
}

// SetStripeNodes records where a chunk's shards are now (repair,
// rebalance, drain), in one raft entry, if the record still says old:
// otherwise ErrStripeChanged, and nothing changes. old and nodes have one
// entry per shard ("" for a shard stored nowhere); old is nil for a stripe
// that recorded no nodes (placed by its layout version). layout is the
// layout version the new placement follows.
func (s *Store) SetStripeNodes(ctx context.Context, cid []byte, old, nodes []string, layout uint64) error {
	if len(cid) == 0 || len(cid) > maxCIDLen {
		return fmt.Errorf("set stripe nodes: %w: bad CID length %d", ErrInvalidArgument, len(cid))
	}
	if old != nil && len(old) != len(nodes) {
		return fmt.Errorf("set stripe nodes: %w: %d old nodes, %d new", ErrInvalidArgument, len(old), len(nodes))
	}
	e := newCmd(opSetStripeNodes, s.cfg.Now(), len(cid)+16*len(nodes)+16)
	e.bytes(cid)
	e.uvarint(layout)
	appendNodes(e, old)
	appendNodes(e, nodes)
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("set stripe nodes of %x: %w", cid, err)
	}
	return nil
}

func appendNodes(e *enc, nodes []string) {
	if nodes == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(nodes)) + 1)
	for _, n := range nodes {
		e.str(n)
	}
}

func readNodes(d *dec) []string {
	n := d.int()
	if n == 0 || d.err != nil {
		return nil
	}
	n--
	if n > len(d.b) {
		d.err = errCorrupt
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (w *wtx) setStripeNodes(d *dec) error {
	cid := d.raw()
	layout := d.uvarint()
	old, nodes := readNodes(d), readNodes(d)
	if err := args(d); err != nil {
		return err
	}
	r, ok, err := w.chunkRecord(cid)
	if err != nil {
		return err
	}
	if !ok {
		return reject(fmt.Errorf("%w: chunk %x has no record", ErrStripeChanged, cid))
	}
	if !slices.Equal(r.stripe.Nodes, old) || (r.stripe.Nodes == nil) != (old == nil) {
		return reject(fmt.Errorf("%w: chunk %x", ErrStripeChanged, cid))
	}
	if len(nodes) != len(r.stripe.Shards) {
		return reject(fmt.Errorf("%w: %d nodes for %d shards", ErrInvalidArgument, len(nodes), len(r.stripe.Shards)))
	}
	r.stripe.Nodes = nodes
	r.stripe.Layout = layout
	return w.putChunkRecord(cid, &r)
}

// Garbage lists chunks without references since before olderThan, oldest
// first, at most limit (1000 if limit <= 0), those being collected
// included.
func (s *Store) Garbage(ctx context.Context, olderThan time.Time, limit int) ([]GarbageChunk, error) {
	if limit <= 0 {
		limit = 1000
	}
	before := timeKey(olderThan)
	var out []GarbageChunk
	err := s.read(ctx, func(tx *bolt.Tx) error {
		chunks := tx.Bucket(bChunks)
		c := tx.Bucket(bGarbage).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if len(k) < 8 {
				return errCorrupt
			}
			if bytes.Compare(k[:8], before) >= 0 {
				break
			}
			v := chunks.Get(k[8:])
			if v == nil {
				return fmt.Errorf("%w: garbage chunk %x has no record", errCorrupt, k[8:])
			}
			r, err := decodeChunkRecord(v)
			if err != nil {
				return err
			}
			out = append(out, GarbageChunk{
				CID:        bytes.Clone(k[8:]),
				Stripe:     r.stripe,
				Since:      time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(),
				Collecting: r.state == ChunkCollecting,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list garbage: %w", err)
	}
	return out, nil
}

// ChunkRefs returns how many references the chunk has (0 if none, or if
// the chunk is unknown).
func (s *Store) ChunkRefs(ctx context.Context, chunkCID []byte) (int64, error) {
	ci, err := s.Chunk(ctx, chunkCID)
	if err != nil {
		return 0, err
	}
	if ci == nil {
		return 0, nil
	}
	return ci.Refs, nil
}

// Chunk returns a chunk's record, or nil if it has none.
func (s *Store) Chunk(ctx context.Context, chunkCID []byte) (*ChunkInfo, error) {
	var out *ChunkInfo
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bChunks).Get(chunkCID)
		if v == nil {
			return nil
		}
		r, err := decodeChunkRecord(v)
		if err != nil {
			return err
		}
		ci := r.info(chunkCID)
		out = &ci
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chunk %x: %w", chunkCID, err)
	}
	return out, nil
}

// Chunks returns up to limit chunk records (1000 if limit <= 0) in CID
// order, after the CID after (from the first if nil), and the CID to pass
// as after for the next page (nil after the last): the walk that repair
// and rebalance make over every stripe.
func (s *Store) Chunks(ctx context.Context, after []byte, limit int) ([]ChunkInfo, []byte, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []ChunkInfo
	var next []byte
	err := s.read(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bChunks).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if len(out) == limit {
				next = bytes.Clone(out[len(out)-1].CID)
				return nil
			}
			r, err := decodeChunkRecord(v)
			if err != nil {
				return fmt.Errorf("chunk %x: %w", k, err)
			}
			out = append(out, r.info(k))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list chunks: %w", err)
	}
	return out, next, nil
}
