package blob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/durable"
)

var _ Compactor = (*LogStore)(nil)

const (
	// compactFile, while it exists, lists the segments a compaction is
	// removing; doc.go describes it.
	compactFile = "compacting"
	compactText = "cairn compaction 1\n"

	defaultCompactBelow = 0.5
	// One round of Compact takes at most this many segments and bytes of
	// them: what it scans, and what a crash in the middle leaves to check
	// when the store is opened again.
	maxRoundSegs  = 64
	maxRoundBytes = 4 << 30
)

// Compact implements Compactor. A segment is rewritten when the records
// the index points to take less than LogOptions.CompactBelow of its
// bytes, when it holds none, or when a scrub found a damaged header in
// it. Its live records are copied to the segment taking appends, with
// new sequence numbers, through the same path as a Put; the tombstones
// it holds are copied too where an older record of their shard remains
// in a segment that stays. Once the copies are durable, a compaction
// record listing the segments goes to the disk, then the segments are
// removed (so that a crash cannot remove some and keep others), then the
// record. A segment that would free nothing (all of it copied forward)
// is left as it is.
func (s *LogStore) Compact(ctx context.Context) (st CompactStats, err error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	begin := time.Now()
	defer func() { st.Duration = time.Since(begin) }()
	if err := ctx.Err(); err != nil {
		return st, err
	}
	s.sealIf(func(seg *segment) bool { return seg.live == 0 || seg.damaged.Load() })
	// Take only the segments there are now: the copies fill new ones, and
	// deletes meanwhile may leave those worth compacting too, but that is
	// for the next call, or a call would never end under load.
	s.mu.RLock()
	before := s.nextSeg
	s.mu.RUnlock()
	done := map[*segment]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		victims := s.victims(before, done)
		if len(victims) == 0 {
			return st, nil
		}
		for _, v := range victims {
			done[v] = true
		}
		if err := s.compactRound(ctx, victims, &st); err != nil {
			return st, err
		}
	}
}

// sealIf seals the segments taking appends for which cond (called under
// mu) holds. Compact seals those that hold nothing the index points to, or
// a damaged header, so that it can take them too (after every shard was
// deleted, the last segment holds only tombstones); a copy must never go
// to a segment with a damaged header, where a reopen would not see it.
func (s *LogStore) sealIf(cond func(*segment) bool) {
	held := make([]*segment, 0, s.opts.Writers)
	for range s.opts.Writers {
		held = append(held, <-s.writers)
	}
	for i, seg := range held {
		if seg == nil || seg.size == 0 {
			continue
		}
		s.mu.RLock()
		ok := cond(seg)
		s.mu.RUnlock()
		if ok {
			s.seal(seg)
			held[i] = nil
		}
	}
	for _, seg := range held {
		s.writers <- seg
	}
}

// victims returns the sealed segments numbered below before that are
// worth compacting, oldest first, as many as one round takes, except
// those in done.
func (s *LogStore) victims(before uint64, done map[*segment]bool) []*segment {
	below := s.opts.CompactBelow
	var out []*segment
	s.mu.RLock()
	for _, seg := range s.segs {
		if seg.id >= before || seg.w != nil || seg.retired.Load() || done[seg] || seg.gen != s.gen {
			continue
		}
		if seg.live == 0 || float64(seg.live) < below*float64(seg.size) || seg.damaged.Load() {
			out = append(out, seg)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *segment) int { return cmp.Compare(a.id, b.id) })
	var bytes int64
	for i, seg := range out {
		bytes += seg.size
		if i == maxRoundSegs || i > 0 && bytes > maxRoundBytes {
			return out[:i]
		}
	}
	return out
}

// segScan is what a segment's headers say: the CIDs it holds tombstones
// of, and those it holds shard records of.
type segScan struct {
	tombs, shards []string
}

func (s *LogStore) scanSegment(seg *segment) (*segScan, error) {
	sc := &segScan{}
	err := scanRecords(seg.r, make([]byte, recAlign), seg.size, func(_ int64, h header) {
		if h.kind == recTombstone {
			sc.tombs = append(sc.tombs, string(h.id))
		} else {
			sc.shards = append(sc.shards, string(h.id))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("compact: segment %016x: %w", seg.id, err)
	}
	return sc, nil
}

// compactRound compacts victims: all of them, or, if it fails, none.
func (s *LogStore) compactRound(ctx context.Context, victims []*segment, st *CompactStats) error {
	scans := map[*segment]*segScan{}
	in := map[*segment]bool{}
	for _, v := range victims {
		sc, err := s.scanSegment(v)
		if err != nil {
			return err
		}
		scans[v], in[v] = sc, true
	}
	// Leave out the segments that would free nothing: what they hold is
	// all still needed. Leaving one out may make tombstones in the others
	// needed: look again until nothing changes.
	for changed := true; changed; {
		changed = false
		keep := s.tombsToKeep(scans, in)
		for _, v := range victims {
			if !in[v] || v.damaged.Load() {
				continue
			}
			s.mu.RLock()
			cost := v.live + int64(keep[v])*recAlign
			s.mu.RUnlock()
			if cost >= v.size && v.size > 0 {
				delete(in, v)
				changed = true
			}
		}
	}
	if len(in) == 0 {
		return nil
	}
	// Retire them: from now on no Put indexes a record in them (one that
	// was written there but not yet indexed is written again), and what
	// the index points to in them is all there is to copy.
	gen, live := s.retire(in)
	if live == nil {
		return nil // wiped meanwhile
	}
	ok := false
	defer func() {
		if !ok {
			s.unretire(in)
		}
	}()
	if err := s.moveAll(ctx, live, st); err != nil {
		return err
	}
	var carry []string
	for _, keys := range s.tombsToCarry(scans, in) {
		carry = append(carry, keys...)
	}
	slices.Sort(carry)
	carried := st.Tombstones
	if err := s.carryTombs(ctx, carry, st); err != nil {
		return err
	}
	carried = st.Tombstones - carried
	if s.group != nil {
		if err := s.group.Sync(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("compact: %w", err)
		}
	}
	if err := s.hook("copied"); err != nil {
		return err
	}
	s.mu.RLock()
	for v := range in {
		if v.live != 0 || v.gen != gen || s.gen != gen {
			s.mu.RUnlock()
			return fmt.Errorf("compact: segment %016x still holds shards after they were copied", v.id)
		}
	}
	s.mu.RUnlock()
	ok = true
	return s.removeSegments(in, scans, carried, st)
}

// tombsToKeep counts, for each segment in, the tombstones it holds that
// must outlive it (tombsToCarry).
func (s *LogStore) tombsToKeep(scans map[*segment]*segScan, in map[*segment]bool) map[*segment]int {
	n := map[*segment]int{}
	for v, keys := range s.tombsToCarry(scans, in) {
		n[v] = len(keys)
	}
	return n
}

// tombsToCarry lists, by segment of in, the CIDs whose tombstones must be
// copied forward for the segments of in to go: the CID is not held, and a
// segment that stays holds a shard record of it, which without a newer
// tombstone would be the CID's latest record when the store is next
// opened. Each CID is listed once.
func (s *LogStore) tombsToCarry(scans map[*segment]*segScan, in map[*segment]bool) map[*segment][]string {
	out := map[*segment][]string{}
	seen := map[string]bool{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for v, sc := range scans {
		if !in[v] {
			continue
		}
		for _, key := range sc.tombs {
			if seen[key] {
				continue
			}
			seen[key] = true
			if _, held := s.index[key]; held {
				continue // its live record is newer than any tombstone
			}
			for _, seg := range s.dead[key] {
				if !in[seg] && s.segs[seg.id] == seg {
					out[v] = append(out[v], key)
					break
				}
			}
		}
	}
	return out
}

// liveEntry is a shard the index points to in a segment being compacted.
type liveEntry struct {
	key string
	loc shardLoc
}

// retire marks the segments of in retired and returns the store's
// generation and what the index points to in them, in record order; nil
// if the store was wiped. The index is read after the segments are
// retired, when nothing can be added to what it points to in them, and
// under a read lock: Gets go on meanwhile.
func (s *LogStore) retire(in map[*segment]bool) (uint64, []liveEntry) {
	s.mu.Lock()
	gen, live := s.gen, int64(0)
	for v := range in {
		if v.gen != gen || s.index == nil {
			s.mu.Unlock()
			return 0, nil
		}
		live += v.live
	}
	for v := range in {
		v.retired.Store(true)
	}
	s.mu.Unlock()
	entries := []liveEntry{}
	if live == 0 {
		return gen, entries
	}
	s.mu.RLock()
	for k, l := range s.index {
		if in[l.seg] {
			entries = append(entries, liveEntry{k, l})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(entries, func(a, b liveEntry) int {
		return cmp.Or(cmp.Compare(a.loc.seg.id, b.loc.seg.id), cmp.Compare(a.loc.off, b.loc.off))
	})
	return gen, entries
}

// unretire gives the segments of in back to the store: a round that
// failed leaves them as they were, less what it copied out.
func (s *LogStore) unretire(in map[*segment]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range in {
		v.retired.Store(false)
	}
}

// moveAll copies the live shards to the segment taking appends, in
// batches, and points the index at the copies.
func (s *LogStore) moveAll(ctx context.Context, live []liveEntry, st *CompactStats) error {
	r := s.newRecReader()
	defer r.Close()
	for len(live) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, bytes := 0, 0
		for n < len(live) && n < maxBatchRecs && (n == 0 || bytes+live[n].loc.n <= maxBatchBytes) {
			bytes += live[n].loc.n
			n++
		}
		if err := s.moveBatch(ctx, r, live[:n], st); err != nil {
			return err
		}
		live = live[n:]
	}
	return nil
}

// moveBatch copies one batch, each shard under its lock: a Put or Delete
// of it waits for its copy to be indexed, so that the copy's sequence
// number is never newer than theirs.
func (s *LogStore) moveBatch(ctx context.Context, r *recReader, batch []liveEntry, st *CompactStats) error {
	for _, e := range batch {
		s.locks.lock(e.key)
	}
	defer func() {
		for _, e := range batch {
			s.locks.unlock(e.key)
		}
	}()
	var (
		recs []*pending
		olds []liveEntry
	)
	for _, e := range batch {
		if loc, ok := s.lookup(e.key); !ok || loc != e.loc {
			continue // deleted or put again meanwhile
		}
		data, err := r.read(e.key, e.loc)
		switch {
		case errors.Is(err, errDamagedHeader):
			// The content is right: its copy is the repair.
		case errors.Is(err, ErrCorrupt):
			// Copying it would vouch for bad bytes; treat it as Get does.
			id, cerr := cid.Cast([]byte(e.key))
			if cerr == nil {
				_ = s.quarantine(id, e.key, data, err)
				st.Corrupt = append(st.Corrupt, id)
			}
			continue
		case err != nil:
			return fmt.Errorf("compact: %w", err)
		}
		recs = append(recs, newPending(recShard, []byte(e.key), data, e.loc.crc))
		olds = append(olds, e)
	}
	if len(recs) == 0 {
		return nil
	}
	s.appendAll(ctx, recs)
	// Indexed before they are synced: until the segments they came from
	// are removed, which waits for a sync, those still hold the shards,
	// and a copy a crash tears loses to its original when the store is
	// opened again (load checks a newer record of the same bytes).
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for i, rec := range recs {
		key := olds[i].key
		if rec.err != nil {
			if rec.loc.seg != nil {
				s.addDead(key, rec.loc.seg)
			}
			errs = append(errs, rec.err)
			continue
		}
		if cur, ok := s.index[key]; !ok || cur != olds[i].loc || rec.loc.seg.gen != s.gen {
			s.addDead(key, rec.loc.seg)
			continue
		}
		s.unindex(key, olds[i].loc)
		s.index[key] = rec.loc
		s.bytes += int64(rec.loc.n)
		l := recBytes(key, rec.loc.n)
		rec.loc.seg.live += l
		st.Moved++
		st.MovedBytes += int64(rec.loc.n)
		st.Written += l
	}
	if len(errs) > 0 {
		return fmt.Errorf("compact: %w", errors.Join(errs...))
	}
	return nil
}

// carryTombs appends a tombstone for each CID of keys that is still not
// held, under its lock (a Put of it meanwhile makes it unnecessary).
func (s *LogStore) carryTombs(ctx context.Context, keys []string, st *CompactStats) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), maxBatchRecs)]
		keys = keys[len(batch):]
		if err := s.carryBatch(ctx, batch, st); err != nil {
			return err
		}
	}
	return nil
}

func (s *LogStore) carryBatch(ctx context.Context, keys []string, st *CompactStats) error {
	for _, k := range keys {
		s.locks.lock(k)
	}
	defer func() {
		for _, k := range keys {
			s.locks.unlock(k)
		}
	}()
	var recs []*pending
	for _, k := range keys {
		if _, held := s.lookup(k); !held {
			recs = append(recs, newPending(recTombstone, []byte(k), nil, 0))
		}
	}
	s.appendAll(ctx, recs)
	for _, r := range recs {
		if r.err != nil {
			return fmt.Errorf("compact: %w", r.err)
		}
		st.Tombstones++
		st.Written += recAlign
	}
	return nil
}

// removeSegments removes the compacted segments: the compaction record
// first, durably, then the files, then the record.
func (s *LogStore) removeSegments(in map[*segment]bool, scans map[*segment]*segScan, carried int64, st *CompactStats) error {
	var names []string
	for v := range in {
		names = append(names, segName(v.id))
	}
	slices.Sort(names)
	record := filepath.Join(s.dir, compactFile)
	if err := durable.WriteFile(record, []byte(compactText+strings.Join(names, "\n")+"\n"), filePerm); err != nil {
		s.unretire(in)
		return fmt.Errorf("compact: %w", err)
	}
	// From here the segments are gone: if what follows fails, opening the
	// store finishes it.
	s.mu.Lock()
	for v := range in {
		if s.segs[v.id] == v {
			delete(s.segs, v.id)
		}
	}
	s.mu.Unlock()
	var tombs int64
	for v := range in {
		tombs += int64(len(scans[v].tombs))
		st.Removed++
		st.Freed += v.size
	}
	st.Dropped += tombs - carried
	defer func() {
		for v := range in {
			v.r.Close() // a Get still reading it looks again, and finds the copy
		}
		s.forget(in, scans)
	}()
	if err := s.hook("recorded"); err != nil {
		return err
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(s.dir, segmentsDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("compact: %w", err)
		}
		if err := s.hook("removed"); err != nil {
			return err
		}
	}
	if err := durable.SyncDir(filepath.Join(s.dir, segmentsDir)); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := os.Remove(record); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return nil
}

// forget drops the removed segments from the dead-record lists.
func (s *LogStore) forget(in map[*segment]bool, scans map[*segment]*segScan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range in {
		for _, key := range scans[v].shards {
			l := slices.DeleteFunc(s.dead[key], func(seg *segment) bool { return in[seg] })
			if len(l) == 0 {
				delete(s.dead, key)
			} else {
				s.dead[key] = l
			}
		}
	}
}

func (s *LogStore) hook(stage string) error {
	if s.compactHook == nil {
		return nil
	}
	return s.compactHook(stage)
}

func segName(id uint64) string { return fmt.Sprintf("%016x", id) }

// readCompactRecord returns the names of the segments the compaction
// record in dir lists, or nil if there is none.
func readCompactRecord(dir string) (map[string]bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, compactFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rest, ok := strings.CutPrefix(string(b), compactText)
	if !ok {
		return nil, fmt.Errorf("unsupported compaction record %q", strings.SplitN(string(b), "\n", 2)[0])
	}
	names := map[string]bool{}
	for _, name := range strings.Fields(rest) {
		if _, err := strconv.ParseUint(name, 16, 64); err != nil || len(name) != 16 {
			return nil, fmt.Errorf("compaction record: %q is not a segment", name)
		}
		names[name] = true
	}
	return names, nil
}

// finishCompaction completes a compaction that a crash interrupted: the
// segments its record lists were copied out, and go.
func finishCompaction(dir string) error {
	names, err := readCompactRecord(dir)
	if err != nil || names == nil {
		return err
	}
	for name := range names {
		if err := os.Remove(filepath.Join(dir, segmentsDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := durable.SyncDir(filepath.Join(dir, segmentsDir)); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, compactFile)); err != nil {
		return err
	}
	return durable.SyncDir(dir)
}
