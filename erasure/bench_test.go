package erasure

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"testing"

	"github.com/ipfs/go-cid"
)

// Each benchmark reads against the kernels of kernel_bench_test.go; the
// limits are in cairn/bench/benchfmt.

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

// BenchmarkDataPathCPU is the CPU work of a PUT of unsealed stripes
// (storaged --seal=false), without placement, storage or metadata, on one
// goroutine: cut a 64 MiB stream into 1 MiB chunks, MD5 the whole stream
// (the ETag), and for each chunk take its CID, encode it 4+2 in place, as
// the gateway does, and name the six shards. Its one-core bound is
// computable from the kernels: per byte, one MD5, one SHA-256 (the chunk
// CID), one 4+2 encode and one copy (the stream into the chunk buffer).
// Shard names hash no shard bytes. BenchmarkDataPathCPUSealed is the
// default path, which seals too.
func BenchmarkDataPathCPU(b *testing.B) {
	benchDataPathCPU(b, nil)
}

// BenchmarkDataPathCPUSealed is BenchmarkDataPathCPU as a gateway that
// seals does it: each chunk sealed in place after its CID, the sealed
// chunk encoded, the shards named after the chunk's keyed name and each
// shard summed. Per byte, on top: one AES-GCM seal and one BLAKE3 over the
// 1.5 bytes of shards.
func BenchmarkDataPathCPUSealed(b *testing.B) {
	benchDataPathCPU(b, mustSealer(b, 1))
}

func benchDataPathCPU(b *testing.B, s *Sealer) {
	data := bytesOf(1, 64*MiB)
	c := mustCodec(b, 4, 2, WithConcurrency(1))
	n := c.ShardSize(DefaultChunkSize + SealOverhead)
	buf := make([]byte, 4*n)    // room for a sealed chunk and its padding
	parity := make([][]byte, 2) // the parity buffers, reused for every chunk
	for i := range parity {
		parity[i] = make([]byte, n)
	}
	var etag []byte
	r := bytes.NewReader(data)
	h := md5.New()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		h.Reset()
		ck := NewChunker(r, DefaultChunkSize)
		for {
			chunk, err := ck.Next(buf)
			if err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			h.Write(chunk)
			id := ChunkCID(chunk)
			if s != nil {
				chunk = s.Seal(chunk[:0], chunk, id)
				id = s.Name(id)
			}
			shards, err := c.EncodeInPlace(chunk, parity)
			if err != nil {
				b.Fatal(err)
			}
			for i := range shards {
				if _, err := ShardName(id, 4, 2, i); err != nil {
					b.Fatal(err)
				}
				if s != nil {
					s.ShardSum(shards[i])
				}
			}
		}
		etag = h.Sum(etag[:0])
	}
}

// BenchmarkSeal1MiB seals a 1 MiB chunk into a reused buffer: the per-chunk
// key's derivation, then one AES-256-GCM pass.
func BenchmarkSeal1MiB(b *testing.B) {
	s := mustSealer(b, 1)
	chunk := bytesOf(2, MiB)
	id := ChunkCID(chunk)
	dst := make([]byte, 0, MiB+SealOverhead)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.Seal(dst[:0], chunk, id)
	}
}

// BenchmarkOpen1MiB opens (authenticates and decrypts) a sealed 1 MiB
// chunk into a reused buffer: a sealed read's integrity check.
func BenchmarkOpen1MiB(b *testing.B) {
	s := mustSealer(b, 1)
	chunk := bytesOf(2, MiB)
	id := ChunkCID(chunk)
	sealed := s.Seal(nil, chunk, id)
	dst := make([]byte, 0, MiB)
	b.SetBytes(MiB)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = s.Open(dst[:0], sealed, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShardSum256KiB sums one shard of a 1 MiB chunk's 4+2 stripe
// (keyed HighwayHash-128).
func BenchmarkShardSum256KiB(b *testing.B) {
	s := mustSealer(b, 1)
	shard := bytesOf(3, 256<<10)
	b.SetBytes(256 << 10)
	b.ReportAllocs()
	for b.Loop() {
		s.ShardSum(shard)
	}
}

// BenchmarkShardSumBLAKE3256KiB is BenchmarkShardSum256KiB with the BLAKE3
// sums of stripes sealed before 2026-12-07 (checked, no longer written).
func BenchmarkShardSumBLAKE3256KiB(b *testing.B) {
	shard := bytesOf(3, 256<<10)
	b.SetBytes(256 << 10)
	b.ReportAllocs()
	for b.Loop() {
		ShardSumBLAKE3(shard)
	}
}
