package blob_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"testing"
)

// The raw kernels, BenchmarkKernel<Name>, measured in the same run as the
// store's benchmarks so that each figure also reads as a fraction of its
// limit (cairn/bench/benchfmt computes it). The byte kernels work on one
// goroutine over a 1 MiB buffer, as in every package that has them.

const kernelSize = 1 << 20

func kernelBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func BenchmarkKernelSHA256(b *testing.B) {
	data := kernelBytes(kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BenchmarkKernelCopy copies a 1 MiB chunk into four 256 KiB buffers, as
// Encode splits a chunk and Join joins one: the copy whose stores stay in
// cache. (A single copy() of 1 MiB or more takes the runtime's
// non-temporal path, which is slower for bytes read again soon.)
func BenchmarkKernelCopy(b *testing.B) {
	src, dst := kernelBytes(kernelSize), make([]byte, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < kernelSize; off += kernelSize / 4 {
			copy(dst[off:off+kernelSize/4], src[off:])
		}
	}
}

// BenchmarkKernelFsync is the least a durable new shard costs on the disk
// of the test's temporary directory: create a file, write 256 KiB, fsync
// it, close and remove it (the remove keeps the disk from filling, and costs
// microseconds beside the fsync's milliseconds). A per-op kernel: it counts
// no bytes, its ns/op is the figure.
func BenchmarkKernelFsync(b *testing.B) {
	dir := b.TempDir()
	data := kernelBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.CreateTemp(dir, "fsync")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(f.Name()); err != nil {
			b.Fatal(err)
		}
	}
}
