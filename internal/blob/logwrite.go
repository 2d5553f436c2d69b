package blob

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"cairn/internal/durable"
)

// The write path of a LogStore: records queue, and whoever holds a
// segment writes every queued record with one vectored write.

// Limits of one batch: the records one write(2) puts on the disk.
const (
	maxBatchBytes = 4 << 20
	maxBatchRecs  = 128
)

// pending is a record on its way to a segment.
type pending struct {
	kind byte
	id   []byte
	data []byte
	crc  uint32
	seq  uint64
	loc  shardLoc // where its content went
	err  error
	done chan struct{}
}

// append writes one record to a segment and returns where its content
// is; it is durable once a file system sync that started after append
// returned has ended. Records queue up, and whoever gets a segment writes
// every queued record (up to a batch) with one write, so under load many
// shards share one I/O. Once queued, a record is written whatever ctx
// says: another writer may already be putting its bytes on the disk.
func (s *LogStore) append(ctx context.Context, kind byte, id, data []byte) (shardLoc, error) {
	r := newPending(kind, id, data, crc32.Checksum(data, castagn))
	s.appendAll(ctx, []*pending{r})
	return r.loc, r.err
}

func newPending(kind byte, id, data []byte, crc uint32) *pending {
	return &pending{kind: kind, id: id, data: data, crc: crc, done: make(chan struct{})}
}

// appendAll is append for many records at once: it queues them together
// (so that they go out in as few writes as they fit in) and returns when
// each is written, with its location and error in it. If ctx has ended
// it queues nothing, and sets every record's error.
func (s *LogStore) appendAll(ctx context.Context, recs []*pending) {
	if err := ctx.Err(); err != nil {
		for _, r := range recs {
			r.err = err
		}
		return
	}
	s.qmu.Lock()
	s.queue = append(s.queue, recs...)
	s.qmu.Unlock()
	for _, r := range recs {
		s.await(r)
	}
}

// await returns when r is written, writing queued records itself
// whenever it can take a segment.
func (s *LogStore) await(r *pending) {
	for {
		select {
		case <-r.done:
			return
		case seg := <-s.writers:
			if batch := s.takeBatch(); len(batch) > 0 {
				s.writeBatch(seg, batch)
			} else {
				s.writers <- seg // another writer took ours
			}
		}
	}
}

// takeBatch takes records from the head of the queue.
func (s *LogStore) takeBatch() []*pending {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	n, bytes := 0, 0
	for n < len(s.queue) && n < maxBatchRecs && (n == 0 || bytes+len(s.queue[n].data) <= maxBatchBytes) {
		bytes += len(s.queue[n].data)
		n++
	}
	batch := slices.Clone(s.queue[:n])
	clear(s.queue[:n])
	s.queue = s.queue[n:]
	if len(s.queue) == 0 {
		s.queue = nil
	}
	return batch
}

// writeBatch appends batch to seg (or to a new segment), completes every
// record in it and gives the segment back.
func (s *LogStore) writeBatch(seg *segment, batch []*pending) {
	s.mu.Lock()
	gen := s.gen
	for _, r := range batch {
		s.seq++
		r.seq = s.seq
	}
	s.mu.Unlock()
	err := func() error {
		if seg != nil && seg.gen != gen {
			s.seal(seg) // from before a wipe: its file is gone
			seg = nil
		}
		if seg == nil {
			var err error
			if seg, err = s.newSegment(gen); err != nil {
				return err
			}
		}
		n, err := s.writeRecords(seg, batch)
		switch {
		case err != nil:
			return fmt.Errorf("segment %016x: %w", seg.id, err)
		case unlinked(seg.w):
			s.wiped(gen)
			return errWiped
		case s.group == nil:
			if err := seg.w.Sync(); err != nil {
				return fmt.Errorf("segment %016x: %w", seg.id, err)
			}
		}
		seg.size += n
		return nil
	}()
	if err != nil || seg.size >= s.opts.SegmentSize {
		if seg != nil {
			s.seal(seg)
		}
		seg = nil
	}
	s.writers <- seg
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}

// recLayout returns where a record's content starts in it and the
// record's length. Content that fits in the header's block follows the
// header; larger content starts at the next block, aligned, so that it
// can go to the disk straight from the caller's buffer.
func recLayout(cidLen, n int) (content, length int64) {
	h := int64(recFixed + cidLen)
	if h+int64(n) <= recAlign {
		return h, recAlign
	}
	return recAlign, recAlign + (int64(n)+recAlign-1)&^(recAlign-1)
}

// writeRecords writes batch at the end of seg with as few writes as it
// can, fills in each record's location and returns the bytes written.
// Content that starts at an aligned address is written in place; the rest
// goes through aligned copies.
func (s *LogStore) writeRecords(seg *segment, batch []*pending) (int64, error) {
	var (
		bufs  [][]byte
		lent  []*[]byte // pooled buffers to give back
		start = seg.size
		pos   = start
	)
	defer func() {
		for _, b := range lent {
			if len(*b) == recAlign {
				s.blocks.Put(b)
			} else {
				s.bounce.Put(b)
			}
		}
	}()
	block := func() []byte {
		b := s.blocks.Get().(*[]byte)
		lent = append(lent, b)
		return *b
	}
	for _, r := range batch {
		n := len(r.data)
		content, length := recLayout(len(r.id), n)
		hb := block()
		h := putHeader(hb, r.kind, r.seq, r.id, n, r.crc)
		r.loc = shardLoc{seg, pos + content, n, r.crc}
		pos += length
		if content < recAlign {
			clear(hb[h+copy(hb[h:], r.data):])
			bufs = append(bufs, hb)
			continue
		}
		clear(hb[h:])
		bufs = append(bufs, hb)
		body, rest := r.data[:n&^(recAlign-1)], r.data[n&^(recAlign-1):]
		if isAligned(body) {
			bufs = append(bufs, body)
		} else {
			for len(body) > 0 {
				bp := s.bounce.Get().(*[]byte)
				lent = append(lent, bp)
				c := copy(*bp, body)
				bufs = append(bufs, (*bp)[:c])
				body = body[c:]
			}
		}
		if len(rest) > 0 {
			tb := block()
			clear(tb[copy(tb, rest):])
			bufs = append(bufs, tb)
		}
	}
	if err := s.writev(seg, bufs, start); err != nil {
		return 0, err
	}
	return pos - start, nil
}

// isAligned reports whether b starts at an aligned address (a length
// that is a multiple of recAlign is the caller's business).
func isAligned(b []byte) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))&(recAlign-1) == 0
}

// writev writes bufs one after another at off. If direct I/O is refused
// (EINVAL: a file system that takes it at open but not for these
// buffers), the segment and the store fall back to buffered writes.
func (s *LogStore) writev(seg *segment, bufs [][]byte, off int64) error {
	err := writeVec(seg.w, bufs, off)
	if err != nil && isInvalid(err) && s.isDirect() {
		s.mu.Lock()
		s.direct = false
		s.mu.Unlock()
		if err = clearDirect(seg.w); err == nil {
			err = writeVec(seg.w, bufs, off)
		}
	}
	return err
}

func (s *LogStore) isDirect() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.direct
}

// newSegment creates the next segment file, empty, with its name durable.
func (s *LogStore) newSegment(gen uint64) (*segment, error) {
	s.mu.Lock()
	id := s.nextSeg
	s.nextSeg++
	direct := s.direct
	s.mu.Unlock()
	path := filepath.Join(s.dir, segmentsDir, fmt.Sprintf("%016x", id))
	w, err := openAppend(path, direct)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.ensureLayout(); err == nil {
			w, err = openAppend(path, direct)
		}
	}
	if err != nil && direct && isInvalid(err) {
		s.mu.Lock()
		s.direct = false
		s.mu.Unlock()
		w, err = openAppend(path, false)
	}
	if err != nil {
		return nil, fmt.Errorf("new segment: %w", err)
	}
	r, err := os.Open(path)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("new segment: %w", err)
	}
	if s.group == nil {
		if err := durable.SyncDir(filepath.Dir(path)); err != nil {
			w.Close()
			r.Close()
			return nil, fmt.Errorf("new segment: %w", err)
		}
	}
	adviseRandom(r)
	seg := &segment{id: id, gen: gen, r: r, w: w}
	s.mu.Lock()
	if s.segs != nil && gen == s.gen {
		s.segs[id] = seg
	}
	s.mu.Unlock()
	return seg, nil
}

// seal stops appends to seg.
func (s *LogStore) seal(seg *segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seg.w != nil {
		seg.w.Close()
		seg.w = nil
	}
}
