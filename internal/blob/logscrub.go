package blob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"
)

var _ Scrubber = (*LogStore)(nil)

// errDamagedHeader reports a record whose header does not match what
// the index says of it: when the store is next opened, its segment's
// records will end there.
var errDamagedHeader = errors.New("its record header is damaged")

// errMoved reports that a record's segment is gone from the store
// (compacted away, or the store wiped) since its location was looked up:
// the index says where the shard is now, if anywhere.
var errMoved = errors.New("blob: segment no longer in the store")

// recReader reads whole records, header and content, for scrub and
// compaction, and checks both. Where the store writes with direct I/O it
// reads that way too, one segment file at a time, so that what it checks
// is what the disk holds (not a copy in the page cache) and a pass over
// the store does not flush the page cache of what Gets need. Not safe
// for concurrent use.
type recReader struct {
	s   *LogStore
	seg *segment
	f   *os.File // seg's file, opened for direct reads; nil: read seg.r
	buf []byte   // aligned, bounceSize
}

func (s *LogStore) newRecReader() *recReader {
	return &recReader{s: s}
}

// Close closes the file the reader opened.
func (r *recReader) Close() {
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.seg = nil, nil
}

// file returns the file to read seg from.
func (r *recReader) file(seg *segment) (*os.File, error) {
	if r.seg == seg {
		if r.f != nil {
			return r.f, nil
		}
		return seg.r, nil
	}
	r.Close()
	r.seg = seg
	if !r.s.isDirect() {
		return seg.r, nil
	}
	f, err := openRead(seg.r.Name(), true)
	switch {
	case err == nil:
		r.f = f
		return f, nil
	case errors.Is(err, fs.ErrNotExist):
		r.seg = nil
		return nil, errMoved
	case isInvalid(err):
		return seg.r, nil // no direct I/O for reads here
	}
	r.seg = nil
	return nil, err
}

// readAt reads len(b) bytes at off of loc's segment.
func (r *recReader) readAt(seg *segment, b []byte, off int64) error {
	f, err := r.file(seg)
	if err != nil {
		return err
	}
	_, err = f.ReadAt(b, off)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: record runs past the end of its segment", ErrCorrupt)
	case errors.Is(err, os.ErrClosed):
		return errMoved
	}
	return err
}

// recordSpan returns where the record holding loc's content starts and
// how long it is.
func recordSpan(key string, loc shardLoc) (start, length int64) {
	content, length := recLayout(len(key), loc.n)
	return loc.off - content, length
}

// checkHeader checks that b starts with the header of key's record at
// loc. If not, it marks the segment damaged: when the store is next
// opened its records will end there, so Compact rewrites what it holds.
func checkHeader(b []byte, key string, loc shardLoc) error {
	h, ok := parseHeader(b)
	if !ok || h.kind != recShard || string(h.id) != key || h.n != loc.n || h.crc != loc.crc {
		loc.seg.damaged.Store(true)
		return fmt.Errorf("%w: %w", ErrCorrupt, errDamagedHeader)
	}
	return nil
}

// check reads key's record at loc in pieces and checks its header and
// the CRC-32C of its content. It returns ErrCorrupt (wrapped) if either
// fails, errMoved if the segment left the store, or the read's error.
func (r *recReader) check(ctx context.Context, p *pacer, key string, loc shardLoc) error {
	if r.buf == nil {
		r.buf = alignedBuf(bounceSize)
	}
	start, length := recordSpan(key, loc)
	content, _ := recLayout(len(key), loc.n)
	end := content + int64(loc.n)
	var crc uint32
	for pos := int64(0); pos < length; {
		c := min(length-pos, bounceSize)
		if err := p.wait(ctx, c); err != nil {
			return err
		}
		b := r.buf[:c]
		if err := r.readAt(loc.seg, b, start+pos); err != nil {
			return err
		}
		if pos == 0 {
			if err := checkHeader(b, key, loc); err != nil {
				return err
			}
		}
		if lo, hi := max(content, pos), min(end, pos+c); lo < hi {
			crc = crc32.Update(crc, castagn, b[lo-pos:hi-pos])
		}
		pos += c
	}
	if crc != loc.crc {
		return ErrCorrupt
	}
	return nil
}

// read reads key's record at loc whole and checks it as check does, the
// content first: errDamagedHeader (wrapped with ErrCorrupt) means the
// content is right. It returns the content, in a buffer of its own;
// content of a block or more starts at an aligned address.
func (r *recReader) read(key string, loc shardLoc) ([]byte, error) {
	start, length := recordSpan(key, loc)
	rec := alignedBuf(int(length))
	if err := r.readAt(loc.seg, rec, start); err != nil {
		return nil, err
	}
	content, _ := recLayout(len(key), loc.n)
	data := rec[content : content+int64(loc.n)]
	if crc32.Checksum(data, castagn) != loc.crc {
		return data, ErrCorrupt
	}
	return data, checkHeader(rec, key, loc)
}

// Scrub implements Scrubber. It goes through the segments in order and
// through each in the order of its records, so that the disk reads
// mostly forward, and reads every record whole, header included: a
// damaged header would end its segment's records when the store is next
// opened, so the shard is quarantined as for damaged content.
func (s *LogStore) Scrub(ctx context.Context, opts ScrubOptions, report func(ScrubFinding)) (st ScrubStats, _ error) {
	from, err := parseLogCursor(opts.From)
	if err != nil {
		return st, err
	}
	p := newPacer(opts)
	begin := p.clock.Now()
	defer func() { st.Duration = p.clock.Now().Sub(begin) }()
	r := s.newRecReader()
	defer r.Close()
	last := from
	for _, e := range s.scrubPlan(from) {
		if err := ctx.Err(); err != nil {
			st.Next = last.String()
			return st, err
		}
		id, err := cid.Cast([]byte(e.key))
		if err != nil {
			continue
		}
		held, n, err := s.scrub1(ctx, p, r, id, e.key)
		if ctx.Err() != nil && !held {
			st.Next = last.String()
			return st, ctx.Err()
		}
		last = logCursor{seg: e.seg, off: e.off, set: true}
		if !held {
			continue
		}
		st.Shards++
		st.Bytes += int64(n)
		var f Fault
		switch {
		case err == nil:
			continue
		case errors.Is(err, errRewritten):
			st.Rewritten++
			continue
		case errors.Is(err, ErrCorrupt):
			st.Corrupt++
			f = FaultCorrupt
		default:
			st.Unreadable++
			f = FaultUnreadable
		}
		if report != nil {
			report(ScrubFinding{CID: id, Fault: f, Err: err})
		}
	}
	return st, nil
}

// scrub1 checks the shard key, wherever it is now. held is false if the
// store no longer holds it (deleted since the pass began) or ctx ended
// before it was read; n is its length.
func (s *LogStore) scrub1(ctx context.Context, p *pacer, r *recReader, id cid.Cid, key string) (held bool, n int, err error) {
	for range 3 {
		loc, ok := s.lookup(key)
		if !ok {
			return false, 0, nil
		}
		err = r.check(ctx, p, key, loc)
		switch {
		case err == nil:
			return true, loc.n, nil
		case errors.Is(err, errMoved):
			continue // compacted meanwhile: look again
		case ctx.Err() != nil:
			return false, 0, err
		case errors.Is(err, errDamagedHeader):
			return s.rewrite(ctx, r, id, key, loc)
		case !errors.Is(err, ErrCorrupt):
			return true, loc.n, err
		}
		// As Get does: read it again under its lock, from the disk, and
		// quarantine it if it is still bad.
		_, err = s.recheck(id, key, nil, func(loc shardLoc, _ []byte) ([]byte, error) {
			return r.read(key, loc)
		})
		switch {
		case errors.Is(err, ErrNotFound):
			return false, 0, nil
		case errors.Is(err, errMoved):
			continue
		}
		return true, loc.n, err
	}
	return false, 0, nil
}

// errRewritten reports that scrub rewrote a shard whose record was
// damaged but whose content was right.
var errRewritten = errors.New("blob: rewritten")

// rewrite copies a shard whose record header is damaged but whose
// content is right, as Compact would, and syncs the copy: a restart would
// otherwise lose it (and the rest of its segment, which Compact rewrites
// next, as the segment is marked damaged). If its content turns out bad
// after all, it is quarantined as Get does.
func (s *LogStore) rewrite(ctx context.Context, r *recReader, id cid.Cid, key string, loc shardLoc) (held bool, n int, err error) {
	s.sealIf(func(seg *segment) bool { return seg.damaged.Load() })
	var cst CompactStats
	err = s.moveBatch(ctx, r, []liveEntry{{key, loc}}, &cst)
	if err == nil && s.group != nil {
		err = s.group.Sync(ctx)
	}
	switch {
	case len(cst.Corrupt) > 0:
		return true, loc.n, fmt.Errorf("%w: the content too", ErrCorrupt)
	case err != nil:
		return true, loc.n, err
	case cst.Moved == 0:
		return false, 0, nil // deleted or put again meanwhile
	}
	return true, loc.n, errRewritten
}

// scrubEntry is a shard a scrub pass means to check, where it was when
// the pass began.
type scrubEntry struct {
	key string
	seg uint64
	off int64
}

// scrubPlan lists the shards held after from, in segment order and in
// record order within a segment, from a snapshot of the index.
func (s *LogStore) scrubPlan(from logCursor) []scrubEntry {
	s.mu.RLock()
	plan := make([]scrubEntry, 0, len(s.index))
	for k, l := range s.index {
		e := scrubEntry{k, l.seg.id, l.off}
		if !from.before(e.seg, e.off) {
			continue
		}
		plan = append(plan, e)
	}
	s.mu.RUnlock()
	slices.SortFunc(plan, func(a, b scrubEntry) int {
		return cmp.Or(cmp.Compare(a.seg, b.seg), cmp.Compare(a.off, b.off))
	})
	return plan
}

// logCursor is where a LogStore's scrub got to: the content offset of
// the last shard checked, in its segment. Text form: "log:SEG:OFF", in
// hex.
type logCursor struct {
	seg uint64
	off int64
	set bool
}

// before reports whether a shard at off in segment seg comes after c.
func (c logCursor) before(seg uint64, off int64) bool {
	return !c.set || seg > c.seg || seg == c.seg && off > c.off
}

func (c logCursor) String() string {
	if !c.set {
		return ""
	}
	return "log:" + strconv.FormatUint(c.seg, 16) + ":" + strconv.FormatInt(c.off, 16)
}

func parseLogCursor(s string) (logCursor, error) {
	if s == "" {
		return logCursor{}, nil
	}
	rest, ok := strings.CutPrefix(s, "log:")
	a, b, ok2 := strings.Cut(rest, ":")
	seg, err1 := strconv.ParseUint(a, 16, 64)
	off, err2 := strconv.ParseInt(b, 16, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || off < 0 {
		return logCursor{}, fmt.Errorf("blob: scrub: %q is not where a log store's scrub stopped", s)
	}
	return logCursor{seg: seg, off: off, set: true}, nil
}
