package blob

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ipfs/go-cid"

	"cairn/internal/durable"
)

// Format 2: shards appended to segment files; doc.go describes it.
const (
	logVersionText = "cairn blob store 2\n"
	segmentsDir    = "segments"

	// recAlign is the alignment of records in a segment, of the buffers
	// they are written from and of every write: 4096 satisfies direct
	// I/O on any device and file system that offers it.
	recAlign     = 4096
	recFixed     = 28  // fixed part of a record header
	maxCIDLen    = 128 // longest CID a record holds
	recShard     = 1   // record kinds
	recTombstone = 2

	// bounceSize is the aligned buffer content that does not start at an
	// aligned address is copied through, in pieces of at most this.
	bounceSize = 1 << 20

	// DefaultSegmentSize is the size past which a segment takes no more
	// records.
	DefaultSegmentSize = 1 << 30
	// DefaultWriters is how many segments take appends at once: one, so
	// that records queue behind the write in flight and go out together
	// in the next. Measured on a 2-core VM with six stores on one disk
	// (64 MiB PUTs at concurrency 16): 330-380 MiB/s with one writer per
	// store, 275-285 with two, 277-330 with four.
	DefaultWriters = 1
)

var (
	recMagic = [4]byte{'C', 'S', 'R', '1'}
	castagn  = crc32.MakeTable(crc32.Castagnoli)
)

// LogOptions tune a LogStore; zero values take the defaults.
type LogOptions struct {
	// SegmentSize: a segment that has reached it is sealed and a new one
	// started.
	SegmentSize int64
	// Writers is how many segments take appends at once: the number of
	// writes that can be on their way to the disk together, each with
	// every record that queued meanwhile (up to 4 MiB).
	Writers int
	// CompactBelow: Compact rewrites a segment when the shards it holds
	// take less than this fraction of its bytes (default 0.5, at most 1).
	// Lower leaves more space unreclaimed; higher copies more bytes per
	// byte freed (at 0.5, at most one byte copied per byte freed; at 1,
	// any segment with a byte to free is rewritten).
	CompactBelow float64
}

// LogStore is a Store that appends shards to a few large segment files
// and keeps an index of where each is in memory, rebuilt from the
// segments when the store is opened. Where the file system allows it,
// records are written with direct I/O (no page cache) in aligned pieces.
//
// Compared with a file per shard (DirStore), a shard write creates no
// file and no directory entry and dirties no page cache, which on the
// machines we measured was most of the cost of a large PUT. The price is
// an index in memory (about 100 bytes per shard, and as much again per
// deleted or replaced shard whose record is still on the disk), and space
// that a delete frees only when Compact rewrites its segment.
type LogStore struct {
	dir     string
	opts    LogOptions
	group   *durable.Group
	locks   keyLock
	writers chan *segment // segments open for appends; nil: start one
	bounce  sync.Pool     // *[]byte, bounceSize, aligned
	blocks  sync.Pool     // *[]byte, recAlign, aligned

	qmu   sync.Mutex
	queue []*pending // records waiting for a segment

	cmu         sync.Mutex               // one Compact at a time
	compactHook func(stage string) error // tests: fail Compact at a stage

	mu     sync.RWMutex
	gen    uint64 // bumped when the directory is found wiped
	direct bool   // direct I/O works here
	index  map[string]shardLoc
	// dead lists, for each CID, the segments that hold shard records of
	// it that the index does not point to (deleted, replaced or written
	// by a Put that failed): a tombstone of that CID must outlive them.
	dead    map[string][]*segment
	segs    map[uint64]*segment
	bytes   int64
	seq     uint64 // last record sequence number used
	nextSeg uint64 // number of the next segment to create
}

var _ Store = (*LogStore)(nil)

// shardLoc is where a shard's bytes are: n bytes at off in seg, whose
// CRC-32C is crc.
type shardLoc struct {
	seg *segment
	off int64
	n   int
	crc uint32
}

// segment is one segment file: read by everyone through r, appended to
// through w by the one writer that holds it.
type segment struct {
	id  uint64
	gen uint64
	r   *os.File
	w   *os.File // nil once sealed, or for segments found at open
	// size is where the next record goes: the writer's while the segment
	// takes appends, fixed once it is sealed.
	size int64
	live int64 // bytes of the records the index points to; the store's mu

	retired atomic.Bool // compacted away: its file is closed or about to be
	damaged atomic.Bool // a record header failed a check: rewrite it
}

// OpenLog opens the format-2 store in dir, creating it if dir holds
// nothing, and rebuilds its index from the segments. It fails if dir
// holds a store of another format.
func OpenLog(dir string, opts LogOptions) (*LogStore, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Writers <= 0 {
		opts.Writers = DefaultWriters
	}
	if opts.CompactBelow <= 0 {
		opts.CompactBelow = defaultCompactBelow
	}
	opts.CompactBelow = min(opts.CompactBelow, 1)
	s := &LogStore{dir: dir, opts: opts, direct: canDirect, writers: make(chan *segment, opts.Writers)}
	s.bounce.New = func() any { b := alignedBuf(bounceSize); return &b }
	s.blocks.New = func() any { b := alignedBuf(recAlign); return &b }
	for range opts.Writers {
		s.writers <- nil
	}
	if err := s.ensureLayout(); err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, versionFile))
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	if string(b) != logVersionText {
		return nil, fmt.Errorf("open blob store %s: unsupported format %q", dir, bytesTrim(b))
	}
	if s.group, err = durable.GroupFor(dir); err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	if err := finishCompaction(dir); err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	if err := s.load(nil); err != nil {
		s.Close()
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	return s, nil
}

func bytesTrim(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return string(b)
}

// alignedBuf returns n bytes starting at a multiple of recAlign.
func alignedBuf(n int) []byte {
	b := make([]byte, n+recAlign)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b)))) & (recAlign - 1)
	return b[skip : skip+n : skip+n]
}

// Dir returns the store's directory.
func (s *LogStore) Dir() string { return s.dir }

// ensureLayout creates what is missing of the directory layout and makes
// it durable.
func (s *LogStore) ensureLayout() error {
	return makeLayout(s.dir, logVersionText, []string{segmentsDir, quarantineDir}, nil)
}

// putHeader writes a record header into b and returns its length: n
// bytes of content whose CRC-32C is crc.
func putHeader(b []byte, kind byte, seq uint64, id []byte, n int, crc uint32) int {
	copy(b[0:4], recMagic[:])
	b[4], b[5] = kind, 0
	binary.LittleEndian.PutUint16(b[6:8], uint16(len(id)))
	binary.LittleEndian.PutUint64(b[8:16], seq)
	binary.LittleEndian.PutUint32(b[16:20], uint32(n))
	binary.LittleEndian.PutUint32(b[20:24], crc)
	copy(b[recFixed:], id)
	hcrc := crc32.Update(crc32.Checksum(b[0:24], castagn), castagn, id)
	binary.LittleEndian.PutUint32(b[24:28], hcrc)
	return recFixed + len(id)
}

// header is a record header as read back.
type header struct {
	kind byte
	seq  uint64
	id   []byte
	n    int
	crc  uint32 // of the content
}

// parseHeader decodes the header at the start of b, or reports that b
// does not start with a valid one.
func parseHeader(b []byte) (header, bool) {
	if len(b) < recFixed || [4]byte(b[0:4]) != recMagic || b[5] != 0 {
		return header{}, false
	}
	h := header{
		kind: b[4],
		seq:  binary.LittleEndian.Uint64(b[8:16]),
		n:    int(binary.LittleEndian.Uint32(b[16:20])),
		crc:  binary.LittleEndian.Uint32(b[20:24]),
	}
	l := int(binary.LittleEndian.Uint16(b[6:8]))
	if (h.kind != recShard && h.kind != recTombstone) || l == 0 || l > maxCIDLen || len(b) < recFixed+l || h.n > maxShard {
		return header{}, false
	}
	h.id = b[recFixed : recFixed+l]
	hcrc := crc32.Update(crc32.Checksum(b[0:24], castagn), castagn, h.id)
	if binary.LittleEndian.Uint32(b[24:28]) != hcrc {
		return header{}, false
	}
	return h, true
}

// load reads every segment's record headers (except those of the
// segments in skip) and builds the index: for each CID the record with
// the highest sequence number wins, and a tombstone means the shard is
// not held; every other shard record is dead. A segment's records end at
// the first header that is not valid (a crash tore the tail, which held
// only writes that were never acknowledged).
func (s *LogStore) load(skip map[string]bool) error {
	entries, err := os.ReadDir(filepath.Join(s.dir, segmentsDir))
	if err != nil {
		return err
	}
	type last struct {
		seq  uint64
		kind byte
		loc  shardLoc
	}
	// latest is each CID's newest record, prev the one before it.
	latest, prev := map[string]last{}, map[string]last{}
	s.segs = map[uint64]*segment{}
	s.dead = map[string][]*segment{}
	buf := make([]byte, recAlign)
	for _, e := range entries {
		id, err := strconv.ParseUint(e.Name(), 16, 64)
		if err != nil || len(e.Name()) != 16 || !e.Type().IsRegular() || skip[e.Name()] {
			continue
		}
		f, err := os.Open(filepath.Join(s.dir, segmentsDir, e.Name()))
		if err != nil {
			return err
		}
		seg := &segment{id: id, r: f}
		s.segs[id] = seg
		s.nextSeg = max(s.nextSeg, id+1)
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		seg.size = fi.Size()
		err = scanRecords(f, buf, fi.Size(), func(off int64, h header) {
			content, _ := recLayout(len(h.id), h.n)
			key := string(h.id)
			r := last{h.seq, h.kind, shardLoc{seg, off + content, h.n, h.crc}}
			// Keep the two newest; every other shard record is dead.
			if l, ok := latest[key]; !ok || r.seq > l.seq {
				latest[key], r = r, l
				if !ok {
					r = last{}
				}
			}
			if p, ok := prev[key]; r.kind != 0 && (!ok || r.seq > p.seq) {
				prev[key], r = r, p
			}
			if r.kind == recShard {
				s.addDead(key, r.loc.seg)
			}
			s.seq = max(s.seq, h.seq)
		})
		if err != nil {
			return fmt.Errorf("segment %s: %w", e.Name(), err)
		}
		// The scan read the headers in order, with read-ahead; Gets read
		// one record at a time.
		adviseRandom(f)
	}
	s.index = make(map[string]shardLoc, len(latest))
	for key, l := range latest {
		p, ok := prev[key]
		if ok && l.kind == recShard && p.kind == recShard && p.loc.n == l.loc.n && p.loc.crc == l.loc.crc {
			// Two records of the same bytes, one after the other: a copy
			// Compact made, or a Put of a shard whose record was torn. A
			// crash may have torn the newer one before it was synced (a
			// copy is indexed before its sync, as its original stays
			// until then): if its bytes are wrong, the older one holds
			// the shard.
			if _, err := s.read(l.loc, nil); errors.Is(err, ErrCorrupt) {
				l, p = p, l
			}
		}
		if ok && p.kind == recShard {
			s.addDead(key, p.loc.seg)
		}
		if l.kind == recShard {
			s.index[key] = l.loc
			s.bytes += int64(l.loc.n)
			l.loc.seg.live += recBytes(key, l.loc.n)
		}
	}
	return nil
}

// scanRecords calls fn for each valid record header of the first size
// bytes of f, with the record's offset, up to the first that is not
// valid. h.id is only valid during the call. buf is a block to read into.
func scanRecords(f *os.File, buf []byte, size int64, fn func(off int64, h header)) error {
	for off := int64(0); off < size; {
		n, err := f.ReadAt(buf[:recAlign], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		h, ok := parseHeader(buf[:n])
		if !ok {
			return nil
		}
		_, l := recLayout(len(h.id), h.n)
		if off+l > size {
			return nil
		}
		fn(off, h)
		off += l
	}
	return nil
}

// recBytes is the length of the record of an n-byte shard under key.
func recBytes(key string, n int) int64 {
	_, l := recLayout(len(key), n)
	return l
}

// addDead records that seg holds a shard record of key that the index
// does not point to. The caller holds mu (or is load).
func (s *LogStore) addDead(key string, seg *segment) {
	if s.dead == nil || seg.gen != s.gen {
		return
	}
	if l := s.dead[key]; !slices.Contains(l, seg) {
		s.dead[key] = append(l, seg)
	}
}

// unindex takes key's entry, at old, out of the index's accounting:
// its record becomes dead. The caller holds mu.
func (s *LogStore) unindex(key string, old shardLoc) {
	s.bytes -= int64(old.n)
	old.seg.live -= recBytes(key, old.n)
	s.addDead(key, old.seg)
}

// Close closes the segment files. The store must not be used after.
func (s *LogStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, seg := range s.segs {
		if seg.w != nil {
			errs = append(errs, seg.w.Close())
		}
		errs = append(errs, seg.r.Close())
	}
	s.segs = nil
	s.index = nil
	return errors.Join(errs...)
}

// Put implements Store.Put.
func (s *LogStore) Put(ctx context.Context, id cid.Cid, data []byte) error {
	if err := Verify(id, data); err != nil {
		return fmt.Errorf("put shard %s: %w", id, err)
	}
	return s.PutComputed(ctx, id, data)
}

// PutComputed is Put for a caller that computed id from data itself, in
// this process (see DirStore.PutComputed).
func (s *LogStore) PutComputed(ctx context.Context, id cid.Cid, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := logKey(id)
	if err != nil {
		return err
	}
	if len(data) > maxShard {
		return fmt.Errorf("put shard %s: %d bytes is more than a shard can be", id, len(data))
	}
	s.locks.lock(key)
	defer s.locks.unlock(key)
	// Already held? A record found when the store opened may have been
	// torn by a crash (check the bytes), or be written but not yet synced
	// if only the process died (join a sync before saying yes).
	if loc, ok := s.lookup(key); ok && loc.n == len(data) {
		if held, err := s.read(loc, nil); err == nil && Verify(id, held) == nil {
			if s.group != nil {
				if err := s.group.Sync(ctx); err != nil {
					return fmt.Errorf("put shard %s: %w", id, err)
				}
			}
			return nil
		}
	}
	for attempt := 0; ; attempt++ {
		loc, err := s.append(ctx, recShard, []byte(key), data)
		if err == nil && s.group != nil {
			err = s.group.Sync(ctx)
		}
		if err == nil {
			err = s.index1(key, loc)
		}
		if err != nil && loc.seg != nil {
			s.orphan(key, loc) // the record may be on the disk all the same
		}
		if (errors.Is(err, errWiped) || errors.Is(err, errMoved)) && attempt < 4 {
			// The directory was removed under us, or Compact took the
			// segment away before the record was indexed: start again.
			continue
		}
		if err != nil {
			return fmt.Errorf("put shard %s: %w", id, err)
		}
		return nil
	}
}

// orphan records that loc holds a record of key that the index does not
// point to: a write that failed, or was written where Compact had
// already passed.
func (s *LogStore) orphan(key string, loc shardLoc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.index[key]; !ok || cur.seg != loc.seg || cur.off != loc.off {
		s.addDead(key, loc.seg)
	}
}

// index1 records that key's content is at loc, unless the store was
// wiped since loc was written (errWiped) or Compact retired loc's
// segment (errMoved).
func (s *LogStore) index1(key string, loc shardLoc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case loc.seg.gen != s.gen || s.index == nil:
		return errWiped
	case loc.seg.retired.Load():
		return errMoved
	}
	if old, ok := s.index[key]; ok {
		s.unindex(key, old)
	}
	s.index[key] = loc
	s.bytes += int64(loc.n)
	loc.seg.live += recBytes(key, loc.n)
	return nil
}

// logKey is the index key of a shard: its binary CID.
func logKey(id cid.Cid) (string, error) {
	if !id.Defined() {
		return "", errors.New("blob: undefined CID")
	}
	if id.Version() != 1 {
		return "", fmt.Errorf("blob: CID %s: only CIDv1 is stored", id)
	}
	k := id.KeyString()
	if len(k) > maxCIDLen {
		return "", fmt.Errorf("blob: CID %.40s...: longer than %d bytes", id, maxCIDLen)
	}
	return k, nil
}

func (s *LogStore) lookup(key string) (shardLoc, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	loc, ok := s.index[key]
	return loc, ok
}

// errWiped reports that the store's directory was removed while in use.
var errWiped = errors.New("blob: store directory removed while in use")

// wiped forgets everything held: the directory was removed (an operator,
// or a disk pulled), so the store holds nothing, and new writes recreate
// the layout.
func (s *LogStore) wiped(gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen || s.segs == nil {
		return
	}
	s.gen++
	for _, seg := range s.segs {
		seg.r.Close()
	}
	s.segs = map[uint64]*segment{}
	s.index = map[string]shardLoc{}
	s.dead = map[string][]*segment{}
	s.bytes = 0
}

// read reads a shard's content into dst[:0] and checks its CRC.
func (s *LogStore) read(loc shardLoc, dst []byte) ([]byte, error) {
	buf := slices.Grow(dst[:0], loc.n)[:loc.n]
	_, err := loc.seg.r.ReadAt(buf, loc.off)
	switch {
	case err == nil:
		if crc32.Checksum(buf, castagn) != loc.crc {
			return buf, ErrCorrupt
		}
		return buf, nil
	case errors.Is(err, io.EOF):
		return buf[:0], ErrCorrupt // the segment is shorter than its index
	case errors.Is(err, os.ErrClosed):
		return buf[:0], ErrNotFound // wiped or closed meanwhile
	}
	return buf[:0], err
}

// VerifiesReads reports that Get(id) returns only the bytes stored under
// id: true for every id, as Put checked content addresses and every record
// carries a CRC-32C that each read checks.
func (s *LogStore) VerifiesReads(cid.Cid) bool { return true }

// Get implements Store.Get.
func (s *LogStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return dst[:0], err
	}
	key, err := logKey(id)
	if err != nil {
		return dst[:0], fmt.Errorf("get shard: %w: %w", ErrNotFound, err)
	}
	loc, ok := s.lookup(key)
	if !ok {
		return dst[:0], fmt.Errorf("get shard %s: %w", id, ErrNotFound)
	}
	data, err := s.readFrom(key, loc, dst)
	if errors.Is(err, ErrCorrupt) {
		data, err = s.recheck(id, key, dst, s.read)
	}
	if err != nil {
		return data[:0], fmt.Errorf("get shard %s: %w", id, err)
	}
	return data, nil
}

// readFrom reads shard key at loc, where the index said it was, into
// dst[:0]. If Compact moved it away meanwhile and closed the segment, it
// reads it where the index says it is now.
func (s *LogStore) readFrom(key string, loc shardLoc, dst []byte) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		data, err := s.read(loc, dst)
		if loc.seg.retired.Load() {
			if err == nil || attempt == 3 {
				return data, err // what it read was right when it was looked up
			}
			var ok bool
			if loc, ok = s.lookup(key); !ok {
				return data[:0], ErrNotFound
			}
			continue
		}
		if err == nil && unlinked(loc.seg.r) {
			s.wiped(loc.seg.gen)
			err = ErrNotFound
		}
		return data, err
	}
}

// recheck reads a shard that failed verification again under its lock (a
// concurrent Put may have just replaced it), with read (Get reads through
// the page cache, scrub from the disk), and, if it is still bad,
// quarantines it.
func (s *LogStore) recheck(id cid.Cid, key string, dst []byte, read func(shardLoc, []byte) ([]byte, error)) ([]byte, error) {
	s.locks.lock(key)
	defer s.locks.unlock(key)
	loc, ok := s.lookup(key)
	if !ok {
		return dst[:0], ErrNotFound
	}
	data, err := read(loc, dst)
	if !errors.Is(err, ErrCorrupt) {
		return data, err
	}
	return data, s.quarantine(id, key, data, err)
}

// quarantine copies a shard's bad bytes to quarantine and drops the shard
// from the store, with a tombstone; it returns why (wrapped, with any
// trouble quarantining). The caller holds key's lock.
func (s *LogStore) quarantine(id cid.Cid, key string, data []byte, why error) error {
	q := filepath.Join(s.dir, quarantineDir, id.String()+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	qerr := os.WriteFile(q, data, filePerm)
	s.drop(key)
	if _, terr := s.append(context.Background(), recTombstone, []byte(key), nil); terr != nil {
		qerr = errors.Join(qerr, terr)
	}
	if qerr != nil {
		return fmt.Errorf("%w (quarantine: %v)", why, qerr)
	}
	return why
}

// drop removes key from the index.
func (s *LogStore) drop(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.index[key]
	if ok {
		delete(s.index, key)
		s.unindex(key, old)
	}
	return ok
}

// Has implements Store.Has.
func (s *LogStore) Has(ctx context.Context, id cid.Cid) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	key, err := logKey(id)
	if err != nil {
		return false, nil
	}
	_, ok := s.lookup(key)
	return ok, nil
}

// Delete implements Store.Delete: it appends a tombstone, which is not
// synced (after a crash a deleted shard may reappear, and garbage
// collection deletes it again). The space is freed when the segment is
// compacted.
func (s *LogStore) Delete(ctx context.Context, id cid.Cid) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := logKey(id)
	if err != nil {
		return nil
	}
	s.locks.lock(key)
	defer s.locks.unlock(key)
	if !s.drop(key) {
		return nil
	}
	if _, err := s.append(ctx, recTombstone, []byte(key), nil); err != nil && !errors.Is(err, errWiped) {
		return fmt.Errorf("delete shard %s: %w", id, err)
	}
	return nil
}

// Walk implements Store.Walk, over a snapshot of the index.
func (s *LogStore) Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error {
	type entry struct {
		key string
		n   int
	}
	s.mu.RLock()
	all := make([]entry, 0, len(s.index))
	for k, l := range s.index {
		all = append(all, entry{k, l.n})
	}
	s.mu.RUnlock()
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, err := cid.Cast([]byte(e.key))
		if err != nil {
			continue
		}
		if err := fn(id, int64(e.n)); err != nil {
			return err
		}
	}
	return nil
}

// Usage implements Store.Usage, from the index: it costs no disk reads.
func (s *LogStore) Usage(ctx context.Context) (Usage, error) {
	if err := ctx.Err(); err != nil {
		return Usage{}, err
	}
	s.mu.RLock()
	u := Usage{Shards: int64(len(s.index)), Bytes: s.bytes}
	s.mu.RUnlock()
	var err error
	if u.Free, u.Capacity, err = space(s.dir); err != nil {
		return Usage{}, err
	}
	u.FS = fsID(s.dir)
	return u, nil
}

// Locate returns the segment file that holds shard id, and the offset and
// length of its content there (for tools and tests).
func (s *LogStore) Locate(id cid.Cid) (path string, off int64, n int, err error) {
	key, err := logKey(id)
	if err != nil {
		return "", 0, 0, err
	}
	loc, ok := s.lookup(key)
	if !ok {
		return "", 0, 0, fmt.Errorf("locate shard %s: %w", id, ErrNotFound)
	}
	return loc.seg.r.Name(), loc.off, loc.n, nil
}

// ShardRecord is where a format-2 store keeps a shard's content: Size
// bytes at Offset in the segment file Path.
type ShardRecord struct {
	CID    cid.Cid
	Path   string
	Offset int64
	Size   int
}

// Records lists the shards the format-2 store in dir holds, as its
// segments say, without opening the store (which may be in use by another
// process): for tools and tests.
func Records(dir string) ([]ShardRecord, error) {
	s := &LogStore{dir: dir}
	skip, err := readCompactRecord(dir)
	if err == nil {
		err = s.load(skip)
	}
	defer s.Close()
	if err != nil {
		return nil, fmt.Errorf("records of %s: %w", dir, err)
	}
	out := make([]ShardRecord, 0, len(s.index))
	for key, loc := range s.index {
		id, err := cid.Cast([]byte(key))
		if err != nil {
			continue
		}
		out = append(out, ShardRecord{CID: id, Path: loc.seg.r.Name(), Offset: loc.off, Size: loc.n})
	}
	return out, nil
}
