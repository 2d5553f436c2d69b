package nodeapi_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// The raw kernels, BenchmarkKernel<Name>, measured in the same run as the
// package's benchmarks so that each figure also reads as a fraction of its
// limit (cairn/bench/benchfmt computes it). Each works on one goroutine
// over a 1 MiB buffer, as in every package that has them. The Fsync kernel
// the dir variants read against is cairn/internal/blob's.

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

// BenchmarkKernelAESGCM seals with AES-256-GCM: what TLS on the node API,
// not there yet, would add per byte on each end. (The nonce repeats:
// harmless for a timing.)
func BenchmarkKernelAESGCM(b *testing.B) {
	data := kernelBytes(kernelSize)
	block, err := aes.NewCipher(kernelBytes(32))
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
