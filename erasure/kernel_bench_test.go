package erasure

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha256"
	"testing"

	"github.com/klauspost/reedsolomon"
	"github.com/minio/highwayhash"
	"github.com/zeebo/blake3"
)

// The raw kernels, BenchmarkKernel<Name>, measured in the same run as the
// package's benchmarks so that each figure also reads as a fraction of the
// floor it cannot beat on this machine (cairn/bench/benchfmt computes it).
// Every kernel works on one goroutine over a kernelSize buffer, the chunk
// size, and counts the bytes it processes. The same kernels, with the same
// names, are in every package whose benchmarks have a limit.

const kernelSize = 1 << 20

func BenchmarkKernelSHA256(b *testing.B) {
	data := bytesOf(1, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}

func BenchmarkKernelHighwayHash(b *testing.B) {
	data, key := bytesOf(1, kernelSize), bytesOf(2, 32)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		highwayhash.Sum128(data, key)
	}
}

func BenchmarkKernelBLAKE3(b *testing.B) {
	data := bytesOf(1, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		blake3.Sum256(data)
	}
}

func BenchmarkKernelMD5(b *testing.B) {
	data := bytesOf(1, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		md5.Sum(data)
	}
}

// BenchmarkKernelAESGCM seals with AES-256-GCM: what TLS or encryption at
// rest would add per byte. (The nonce repeats: harmless for a timing.)
func BenchmarkKernelAESGCM(b *testing.B) {
	data := bytesOf(1, kernelSize)
	block, err := aes.NewCipher(bytesOf(2, 32))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, gcm.NonceSize())
	dst := make([]byte, 0, kernelSize+gcm.Overhead())
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		dst = gcm.Seal(dst[:0], nonce, data, nil)
	}
}

// BenchmarkKernelCopy copies a 1 MiB chunk into four 256 KiB buffers, as
// Encode splits a chunk and Join joins one: the copy whose stores stay in
// cache. (A single copy() of 1 MiB or more takes the runtime's
// non-temporal path, which is slower for bytes read again soon.)
func BenchmarkKernelCopy(b *testing.B) {
	src, dst := bytesOf(1, kernelSize), make([]byte, kernelSize)
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < kernelSize; off += kernelSize / 4 {
			copy(dst[off:off+kernelSize/4], src[off:])
		}
	}
}

// BenchmarkKernelRSEncode4p2 computes the two parity shards of a 1 MiB
// chunk's four data shards with klauspost/reedsolomon itself, on one
// goroutine; the bytes counted are the chunk's.
func BenchmarkKernelRSEncode4p2(b *testing.B) {
	enc, err := reedsolomon.New(4, 2, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		b.Fatal(err)
	}
	shards := reedsolomon.AllocAligned(6, kernelSize/4)
	for i, s := range shards[:4] {
		copy(s, bytesOf(uint64(i), len(s)))
	}
	b.SetBytes(kernelSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
	}
}
