package gateway

import (
	"crypto/md5"
	"crypto/sha256"
	"testing"

	"github.com/klauspost/reedsolomon"
)

// The raw kernels, BenchmarkKernel<Name>, under the names every package
// uses, so that cairn/bench/benchfmt reads BenchmarkDataPath against them:
// each on one goroutine over a 1 MiB buffer (the chunk size). They repeat
// what BenchmarkDataPath's kernel-* sub-benchmarks measure over 64 MiB.

const kernelSize = 1 << 20

func BenchmarkKernelSHA256(b *testing.B) {
	data := randBytes(1, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}

func BenchmarkKernelMD5(b *testing.B) {
	data := randBytes(1, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		md5.Sum(data)
	}
}

// BenchmarkKernelCopy copies a 1 MiB chunk into four 256 KiB buffers, as
// Encode splits a chunk and Join joins one: the copy whose stores stay in
// cache. (A single copy() of 1 MiB or more takes the runtime's
// non-temporal path, which is slower for bytes read again soon.)
func BenchmarkKernelCopy(b *testing.B) {
	src, dst := randBytes(1, kernelSize), make([]byte, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < kernelSize; off += kernelSize / 4 {
			copy(dst[off:off+kernelSize/4], src[off:])
		}
	}
}

// BenchmarkKernelRSEncode4p2 computes the parity of a 1 MiB chunk's four
// data shards with klauspost/reedsolomon itself, on one goroutine; the
// bytes counted are the chunk's.
func BenchmarkKernelRSEncode4p2(b *testing.B) {
	enc, err := reedsolomon.New(4, 2, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		b.Fatal(err)
	}
	shards := reedsolomon.AllocAligned(6, kernelSize/4)
	for i, s := range shards[:4] {
		copy(s, randBytes(uint64(i), len(s)))
	}
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
	}
}
