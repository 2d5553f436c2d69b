package erasure

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"

	"github.com/ipfs/go-cid"
)

// The raw kernels (BenchmarkKernel…) sit beside the package's operations so
// that each figure reads against the floor it cannot beat on this machine.

func BenchmarkKernelCopy1MiB(b *testing.B) {
	src, dst := bytesOf(1, MiB), make([]byte, MiB)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		copy(dst, src)
	}
}

func BenchmarkKernelSHA256_1MiB(b *testing.B) {
	data := bytesOf(1, MiB)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BenchmarkChunker splits a 64 MiB in-memory stream into 1 MiB chunks.
func BenchmarkChunker(b *testing.B) {
	data := bytesOf(1, 64*MiB)
	buf := make([]byte, DefaultChunkSize)
	r := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		c := NewChunker(r, DefaultChunkSize)
		for {
			if _, err := c.Next(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkChunkCID1MiB(b *testing.B) {
	data := bytesOf(1, MiB)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		ChunkCID(data)
	}
}

func BenchmarkVerify1MiB(b *testing.B) {
	data := bytesOf(1, MiB)
	id := ChunkCID(data)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(id, data); err != nil {
			b.Fatal(err)
		}
	}
}

var benchCodes = []struct {
	k, m int
	opts []Option
	name string
}{
	{4, 2, nil, "4+2"},
	{4, 2, []Option{WithConcurrency(1)}, "4+2/1goroutine"},
	{8, 4, nil, "8+4"},
}

// BenchmarkEncode codes a 1 MiB chunk into reused shard buffers; the bytes
// counted are the chunk's.
func BenchmarkEncode1MiB(b *testing.B) {
	chunk := bytesOf(1, MiB)
	for _, bc := range benchCodes {
		b.Run(bc.name, func(b *testing.B) {
			c := mustCodec(b, bc.k, bc.m, bc.opts...)
			shards, err := c.Encode(chunk, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(MiB)
			b.ReportAllocs()
			for b.Loop() {
				if shards, err = c.Encode(chunk, shards); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReconstructData rebuilds the first two data shards of a 1 MiB
// chunk in place (m = 2 lost, the worst case a 4+2 read survives).
func BenchmarkReconstructData1MiB(b *testing.B) {
	chunk := bytesOf(1, MiB)
	for _, bc := range benchCodes {
		b.Run(bc.name, func(b *testing.B) {
			c := mustCodec(b, bc.k, bc.m, bc.opts...)
			shards, err := c.Encode(chunk, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(MiB)
			b.ReportAllocs()
			for b.Loop() {
				shards[0], shards[1] = shards[0][:0], shards[1][:0]
				if err := c.ReconstructData(shards); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJoin1MiB(b *testing.B) {
	c := mustCodec(b, 4, 2)
	shards, err := c.Encode(bytesOf(1, MiB), nil)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, MiB)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		if dst, err = c.Join(dst[:0], shards, MiB); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDAGBuilder adds one 1 MiB leaf per op, and takes the root of a
// 300 MiB object's worth of leaves every 300 ops. The bytes counted are the
// object bytes the leaves stand for: the figure shows what the DAG costs
// per MiB stored, beside ChunkCID's hashing of that MiB.
func BenchmarkDAGBuilder(b *testing.B) {
	leaves := make([]cid.Cid, 1024)
	for i := range leaves {
		leaves[i] = ChunkCID(fmt.Appendf(nil, "leaf %d", i))
	}
	d := NewDAGBuilder()
	b.SetBytes(DefaultChunkSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Add(leaves[i%len(leaves)], DefaultChunkSize)
		if i++; i%300 == 0 {
			if _, err := d.Root(); err != nil {
				b.Fatal(err)
			}
			d = NewDAGBuilder()
		}
	}
}
