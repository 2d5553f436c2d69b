package md5x

import (
	"crypto/md5"
	"hash"
	"math"
	"math/bits"
	"sync"
	"time"
	"unsafe"
)

// Lanes is how many streams one kernel call hashes at most.
const Lanes = 16

// Options tune a Batcher. The zero value means the defaults.
type Options struct {
	// MaxWait bounds how long a caller waiting for a chunk (a wait func,
	// Submit with a full queue) waits for other streams' chunks to join it
	// before the chunks pending are hashed as they are. Default 20 ms
	// (see the package doc: chunks arrive slower than the kernel hashes).
	MaxWait time.Duration
	// MinLanes is how many streams must be open for chunks to be batched,
	// and how many chunks a round must hold to use the multi-lane kernel:
	// below it chunks are hashed with crypto/md5, in Submit when too few
	// streams are open. Default 3: one lane of the kernel runs no faster
	// than crypto/md5, and two barely pay (BenchmarkBatcher).
	MinLanes int
	// Scalar turns the multi-lane kernel off: every chunk is hashed with
	// crypto/md5 in Submit (for comparisons, and what CPUs without
	// AVX-512 get).
	Scalar bool
}

// maxQueue is how many of a stream's chunks may wait to be hashed.
const maxQueue = 8

// minChunk is the smallest chunk worth a place in a batch; shorter ones
// are hashed in Submit.
const minChunk = 4 << 10

// Batcher hashes chunks from many Streams together, up to Lanes at a
// time. A round of hashing runs in the goroutine of a caller waiting for
// one of its chunks (a wait func, Sum or Close); the batcher has no
// goroutine of its own. Safe for concurrent use.
type Batcher struct {
	maxWait  time.Duration
	minLanes int
	lanes    bool
	offLimit int64 // how far from the first a lane's bytes may be (tests shrink it)

	mu      sync.Mutex
	cond    sync.Cond
	active  int       // streams open
	busy    int       // streams whose chunk a round is hashing
	pending []*Stream // streams with a chunk to hash, not in a round
	urgent  int       // callers of Sum waiting
	waiting int       // callers waiting for a chunk to be hashed
	armed   bool      // timer runs: it sets expired after maxWait
	expired bool      // a caller waited maxWait for a pending chunk
	timer   *time.Timer
	stats   stats
}

// stats count what the rounds did, for benchmarks.
type stats struct {
	rounds, lanes, scalarRounds, expired int
}

// NewBatcher returns a Batcher. Without AVX-512 it hashes every chunk with
// crypto/md5 as it is submitted.
func NewBatcher(opts Options) *Batcher {
	b := &Batcher{maxWait: opts.MaxWait, minLanes: opts.MinLanes, lanes: haveKernel && !opts.Scalar, offLimit: math.MaxInt32}
	if b.maxWait <= 0 {
		b.maxWait = 20 * time.Millisecond
	}
	if b.minLanes <= 0 {
		b.minLanes = 3
	}
	b.cond.L = &b.mu
	b.timer = time.AfterFunc(time.Hour, b.expire)
	b.timer.Stop()
	return b
}

// Stream is the MD5 of one sequence of chunks. Its methods are not safe
// for concurrent use with each other, but the wait funcs Submit returns
// may be called from any goroutine.
type Stream struct {
	b    *Batcher
	d    hash.Hash // crypto/md5; a round's alone while the stream is busy
	data []byte    // the chunk being hashed; data[pos:] is left
	pos  int
	next [][]byte // chunks submitted after data, at most maxQueue-1
	n    uint64   // bytes hashed
	seq  uint64   // chunks submitted to the batcher
	done uint64   // of them, chunks hashed
	open bool
}

// NewStream opens a stream. Close it when no more chunks will come, Sum
// or not.
func (b *Batcher) NewStream() *Stream {
	b.mu.Lock()
	b.active++
	b.mu.Unlock()
	return &Stream{b: b, d: md5.New(), open: true}
}

// Submit adds data to the stream's hash. The caller must not modify data
// until wait returns, and must call wait (once or more, from any
// goroutine) before it reuses data. Submit blocks while maxQueue of the
// stream's chunks wait to be hashed, and may hash data before returning.
func (s *Stream) Submit(data []byte) (wait func()) {
	b := s.b
	b.mu.Lock()
	if !b.lanes || !s.open || b.active < b.minLanes || len(data) < minChunk {
		b.waitLocked(s, s.seq) // what came before first
		b.mu.Unlock()
		s.d.Write(data)
		s.n += uint64(len(data))
		return func() {}
	}
	if s.seq-s.done >= maxQueue {
		b.waitLocked(s, s.seq+1-maxQueue)
	}
	if s.seq == s.done {
		s.data, s.pos = data, 0
		b.pending = append(b.pending, s)
		b.armLocked()
		if b.readyLocked() {
			b.cond.Broadcast() // a waiter may run the round now
		}
	} else {
		s.next = append(s.next, data) // after the chunk being hashed
	}
	s.seq++
	seq := s.seq
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		b.waitLocked(s, seq)
		b.mu.Unlock()
	}
}

// Sum appends the MD5 of everything submitted to in, waiting for (and
// perhaps hashing) the last chunk. The stream may go on after it.
func (s *Stream) Sum(in []byte) []byte {
	s.flush()
	return s.d.Sum(in)
}

// Close says no more chunks will come: other streams' chunks stop
// waiting for this one's, and this one's stop waiting for others'. Chunks
// submitted before are still hashed (wait for them, or Sum), and Sum may
// be called after Close; a chunk submitted after it is hashed with
// crypto/md5 in Submit. Close may be called more than once. Every stream
// must be closed.
func (s *Stream) Close() {
	b := s.b
	b.mu.Lock()
	if s.open {
		s.open = false
		b.active--
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}

func (s *Stream) flush() {
	b := s.b
	b.mu.Lock()
	if s.done < s.seq {
		b.urgent++
		b.cond.Broadcast()
		b.waitLocked(s, s.seq)
		b.urgent--
	}
	b.mu.Unlock()
}

// waitLocked returns when s's chunk seq is hashed, running rounds when
// they are due.
func (b *Batcher) waitLocked(s *Stream, seq uint64) {
	if s.done >= seq {
		return
	}
	b.waiting++
	b.armLocked()
	for s.done < seq {
		if b.readyLocked() {
			b.roundLocked()
			continue
		}
		b.cond.Wait()
	}
	b.waiting--
}

// readyLocked reports whether a round is due: a full kernel's worth is
// pending, or someone wants a sum, or a closed stream's chunk is pending
// (no more of its chunks will come: hashing its last ones now keeps its
// latency), or every open stream not in a round has a chunk pending, or a
// caller waited maxWait. But fewer than minLanes chunks wait for a round
// running, which brings its streams' next chunks back, rather than go
// through crypto/md5.
func (b *Batcher) readyLocked() bool {
	n := len(b.pending)
	switch {
	case n == 0:
		return false
	case n >= Lanes || b.urgent > 0:
		return true
	case n < b.minLanes && b.busy > 0:
		return false
	case n >= b.active-b.busy || b.expired:
		return true
	}
	for _, s := range b.pending {
		if !s.open {
			return true
		}
	}
	return false
}

func (b *Batcher) armLocked() {
	if len(b.pending) > 0 && b.waiting > 0 && !b.armed && !b.expired {
		b.armed = true
		b.timer.Reset(b.maxWait)
	}
}

func (b *Batcher) expire() {
	b.mu.Lock()
	if b.armed {
		b.armed, b.expired = false, true
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}

// roundLocked takes up to Lanes pending chunks and hashes them, unlocked.
// Chunks with blocks left over go back to the end of pending.
func (b *Batcher) roundLocked() {
	var batch [Lanes]*Stream
	n := copy(batch[:], b.pending)
	b.pending = append(b.pending[:0], b.pending[n:]...)
	clear(b.pending[len(b.pending):cap(b.pending)])
	b.busy += n
	b.stats.rounds++

	if b.expired {
		b.stats.expired++
	}
	b.expired = false
	if b.armed {
		b.armed = false
		b.timer.Stop()
	}
	b.armLocked()
	b.mu.Unlock()

	lanes := hashRound(batch[:n], b.minLanes, b.offLimit)

	b.mu.Lock()
	b.stats.lanes += lanes
	if lanes == 0 {
		b.stats.scalarRounds++
	}
	b.busy -= n
	for _, s := range batch[:n] {
		if s.pos == len(s.data) {
			s.data, s.pos = nil, 0
			s.done++
			if len(s.next) > 0 {
				s.data = s.next[0]
				copy(s.next, s.next[1:])
				s.next[len(s.next)-1] = nil
				s.next = s.next[:len(s.next)-1]
			}
		}
		if s.data != nil {
			b.pending = append(b.pending, s)
		}
	}
	b.armLocked()
	b.cond.Broadcast()
}

// hashRound hashes the chunks of batch: what is not a whole block (the
// end of a partial block the digest holds, a tail) with crypto/md5; the
// blocks, when at least minLanes chunks have some, with one kernel call
// over the number of blocks they all have. The rest is left in s.pos. It
// returns how many lanes the kernel ran (0: none).
func hashRound(batch []*Stream, minLanes int, offLimit int64) (lanesUsed int) {
	var (
		lanes [Lanes]*Stream
		sts   [Lanes]laneState
		n     int
	)
	for _, s := range batch {
		// Up to the stream's next block boundary with crypto/md5.
		if nx := int(s.n % md5.BlockSize); nx != 0 {
			s.write(min(md5.BlockSize-nx, len(s.data)-s.pos))
		}
		if len(s.data)-s.pos >= md5.BlockSize {
			if st, err := getState(s.d); err == nil {
				lanes[n], sts[n] = s, st
				n++
				continue
			}
		}
		s.write(len(s.data) - s.pos)
	}
	if n < minLanes {
		for _, s := range lanes[:n] {
			s.write(len(s.data) - s.pos)
		}
		return 0
	}
	var (
		state [64]uint32
		offs  [Lanes]int32
		mask  uint16
	)
	base := unsafe.Pointer(&lanes[0].data[lanes[0].pos])
	blocks := -1
	for i, s := range lanes[:n] {
		p := unsafe.Pointer(&s.data[s.pos])
		off := int64(uintptr(p)) - int64(uintptr(base))
		if off > offLimit || off < -offLimit-1 {
			continue // too far from base: a later round
		}
		offs[i] = int32(off)
		mask |= 1 << i
		for j, v := range sts[i].s {
			state[16*j+i] = v
		}
		if nb := (len(s.data) - s.pos) / md5.BlockSize; blocks < 0 || nb < blocks {
			blocks = nb
		}
	}
	block16(&state, (*byte)(base), &offs, blocks, mask)
	for i, s := range lanes[:n] {
		if mask&(1<<i) == 0 {
			continue
		}
		st := laneState{len: sts[i].len + uint64(blocks*md5.BlockSize)}
		for j := range st.s {
			st.s[j] = state[16*j+i]
		}
		if err := setState(s.d, st); err != nil {
			panic(err) // crypto/md5 took its own format: unreachable
		}
		s.pos += blocks * md5.BlockSize
		s.n += uint64(blocks * md5.BlockSize)
		if k := len(s.data) - s.pos; k < md5.BlockSize {
			s.write(k) // buffered in the digest: no block hashed
		}
	}
	return bits.OnesCount16(mask)
}

// write hashes the next k bytes of s's chunk with crypto/md5.
func (s *Stream) write(k int) {
	s.d.Write(s.data[s.pos : s.pos+k])
	s.pos += k
	s.n += uint64(k)
}
