package s3gw

import (
	"crypto/sha256"
	"hash/crc32"
	"testing"
)

// The raw kernels, BenchmarkKernel<Name>, measured in the same run as the
// package's benchmarks so that each figure also reads as a fraction of its
// limit (cairn/bench/benchfmt computes it). Each works on one goroutine
// over a 1 MiB buffer, as in every package that has them.

const kernelSize = 1 << 20

func BenchmarkKernelSHA256(b *testing.B) {
	data := randBytes(kernelSize, 1)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BenchmarkKernelCRC32C is the checksum of the unsigned streaming
// trailer, with the table the payload reader uses.
func BenchmarkKernelCRC32C(b *testing.B) {
	data := randBytes(kernelSize, 1)
	table := crc32.MakeTable(crc32.Castagnoli)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		crc32.Checksum(data, table)
	}
}

// BenchmarkKernelCopy copies a 1 MiB chunk into four 256 KiB buffers, as
// Encode splits a chunk and Join joins one: the copy whose stores stay in
// cache. (A single copy() of 1 MiB or more takes the runtime's
// non-temporal path, which is slower for bytes read again soon.)
func BenchmarkKernelCopy(b *testing.B) {
	src, dst := randBytes(kernelSize, 1), make([]byte, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < kernelSize; off += kernelSize / 4 {
			copy(dst[off:off+kernelSize/4], src[off:])
		}
	}
}
