package erasure

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/go-cid"
)

// MiB is a mebibyte, for test sizes.
const MiB = 1 << 20

// prng is a seeded, fast stream of n pseudo-random bytes: ChaCha8, whose
// output is specified (C2SP chacha8rand), so golden values computed from it
// hold across Go releases. The stream does not depend on how it is read, so
// two readers with the same seed agree whatever their read sizes.
type prng struct {
	r    *rand.ChaCha8
	left int64
}

func newPRNG(seed uint64, n int64) *prng {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return &prng{r: rand.NewChaCha8(key), left: n}
}

func (p *prng) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.r.Read(b) // never fails
	p.left -= int64(n)
	return n, nil
}

// bytesOf returns the first n bytes of the stream with the given seed.
func bytesOf(seed uint64, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(newPRNG(seed, int64(n)), b); err != nil {
		panic(err)
	}
	return b
}

// streamRoot computes the root CID of r the way a gateway does: Chunker,
// ChunkCID and DAGBuilder, holding one chunk in memory.
func streamRoot(r io.Reader, size int) (cid.Cid, error) {
	ck := NewChunker(r, size)
	buf := make([]byte, size)
	b := NewDAGBuilder()
	for {
		chunk, err := ck.Next(buf)
		if err == io.EOF {
			return b.Root()
		}
		if err != nil {
			return cid.Undef, err
		}
		b.Add(ChunkCID(chunk), uint64(len(chunk)))
	}
}

// leavesRoot computes the root CID of the leaves whose sizes are given,
// cut in order from the stream with the given seed.
func leavesRoot(seed uint64, sizes []int) (cid.Cid, error) {
	var total int64
	maxSize := 0
	for _, s := range sizes {
		total += int64(s)
		maxSize = max(maxSize, s)
	}
	r := newPRNG(seed, total)
	buf := make([]byte, maxSize)
	b := NewDAGBuilder()
	for _, s := range sizes {
		if _, err := io.ReadFull(r, buf[:s]); err != nil {
			return cid.Undef, err
		}
		b.Add(ChunkCID(buf[:s]), uint64(s))
	}
	return b.Root()
}

// dagSizeCase is an object of size bytes from the stream seeded with its
// size, cut in DefaultChunkSize chunks.
type dagSizeCase struct {
	name string
	size int64
}

var dagSizeCases = []dagSizeCase{
	{"0", 0},
	{"1", 1},
	{"1MiB-1", MiB - 1},
	{"1MiB", MiB},
	{"1MiB+1", MiB + 1},
	{"5MiB", 5 * MiB},
	{"174MiB", 174 * MiB},
	{"175MiB", 175 * MiB},
	{"300MiB", 300 * MiB},
}

// dagLeavesCase is a DAG over leaves of the given sizes, cut from the
// stream seeded with seed: the shapes a multipart object gives, and
// leaf counts around every boundary of a depth-3 tree (cheap with tiny
// leaves).
type dagLeavesCase struct {
	name  string
	seed  uint64
	sizes []int
}

func dagLeavesCases() []dagLeavesCase {
	repeat := func(n int, pattern ...int) []int {
		out := make([]int, 0, n)
		for i := range n {
			out = append(out, pattern[i%len(pattern)])
		}
		return out
	}
	// parts cuts each of the given part sizes into 1 MiB chunks, as a
	// multipart upload whose parts are chunked one by one does.
	parts := func(partSizes ...int) []int {
		var out []int
		for _, p := range partSizes {
			for ; p > MiB; p -= MiB {
				out = append(out, MiB)
			}
			out = append(out, p)
		}
		return out
	}
	tiny := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = 1 + i%61
		}
		return out
	}
	cases := []dagLeavesCase{
		{"1MiB,1MiB,512KiB x9", 1, repeat(9, MiB, MiB, 512<<10)},
		{"1MiB,1MiB,512KiB x400", 2, repeat(400, MiB, MiB, 512<<10)},
		{"parts 5MB x3 + 1234", 3, parts(5e6, 5e6, 5e6, 1234)},
		{"parts 5MiB+100 x40 + 3", 4, parts(append(repeat(40, 5*MiB+100), 3)...)},
		{"zero-size leaf inside", 5, []int{MiB, 0, MiB, 17}},
	}
	for _, n := range []int{2, 3, 173, 174, 175, 348, 349, 174*174 - 1, 174 * 174, 174*174 + 1, 174*174 + 175, 2*174*174 + 1} {
		cases = append(cases, dagLeavesCase{fmt.Sprintf("%d tiny leaves", n), uint64(100 + n), tiny(n)})
	}
	return cases
}

// mustCID parses a CID string or fails the test.
func mustCID(t testing.TB, s string) cid.Cid {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatalf("parse CID %q: %v", s, err)
	}
	return c
}
