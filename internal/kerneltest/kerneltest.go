// Package kerneltest holds the raw-kernel benchmarks that a package runs
// beside its own, as BenchmarkKernel<Name>, so that cairn/bench/benchfmt
// reads each of its figures as a fraction of a limit measured in the same
// run. Each byte kernel works on one goroutine over a 1 MiB buffer (the
// chunk size). erasure and s3gw, which may not import the project, keep
// copies of the ones they need.
package kerneltest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha256"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/klauspost/reedsolomon"
	"github.com/minio/highwayhash"
	"github.com/zeebo/blake3"
)

// Size is the bytes a byte kernel works on per operation.
const Size = 1 << 20

// Bytes returns n pseudo-random bytes, the same for the same seed.
func Bytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// SHA256 hashes 1 MiB.
func SHA256(b *testing.B) {
	data := Bytes(1, Size)
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BLAKE3 hashes 1 MiB with zeebo/blake3, as shard CIDs are taken.
func BLAKE3(b *testing.B) {
	data := Bytes(1, Size)
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		blake3.Sum256(data)
	}
}

// HighwayHash sums 1 MiB with minio/highwayhash's 128-bit keyed hash, as
// sealed stripes sum their shards (erasure.Sealer.ShardSum).
func HighwayHash(b *testing.B) {
	data := Bytes(1, Size)
	key := Bytes(2, 32)
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		highwayhash.Sum128(data, key)
	}
}

// MD5 hashes 1 MiB.
func MD5(b *testing.B) {
	data := Bytes(1, Size)
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		md5.Sum(data)
	}
}

// CRC32C checksums 1 MiB with CRC-32C (Castagnoli): what a LogStore
// records for every shard written and checks on every read.
func CRC32C(b *testing.B) {
	data := Bytes(1, Size)
	table := crc32.MakeTable(crc32.Castagnoli)
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		crc32.Checksum(data, table)
	}
}

// Copy copies a 1 MiB chunk into four 256 KiB buffers, as Encode splits a
// chunk and Join joins one: the copy whose stores stay in cache. (A single
// copy() of 1 MiB or more takes the runtime's non-temporal path, which is
// slower for bytes read again soon.)
func Copy(b *testing.B) {
	src, dst := Bytes(1, Size), make([]byte, Size)
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < Size; off += Size / 4 {
			copy(dst[off:off+Size/4], src[off:])
		}
	}
}

// AESGCM seals 1 MiB with AES-256-GCM: what TLS on the node API, not there
// yet, would add per byte on each end. (The nonce repeats: harmless for a
// timing.)
func AESGCM(b *testing.B) {
	data := Bytes(1, Size)
	block, err := aes.NewCipher(Bytes(2, 32))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, gcm.NonceSize())
	dst := make([]byte, 0, Size+gcm.Overhead())
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		dst = gcm.Seal(dst[:0], nonce, data, nil)
	}
}

// RSEncode4p2 computes the parity of a 1 MiB chunk's four data shards with
// klauspost/reedsolomon itself, on one goroutine; the bytes counted are the
// chunk's.
func RSEncode4p2(b *testing.B) {
	enc, err := reedsolomon.New(4, 2, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		b.Fatal(err)
	}
	shards := reedsolomon.AllocAligned(6, Size/4)
	for i, s := range shards[:4] {
		copy(s, Bytes(uint64(i), len(s)))
	}
	b.SetBytes(Size)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
	}
}

// Fsync is the least a durable new file of size bytes costs on the disk of
// the test's temporary directory: create it, write, fsync, close and
// remove it (the remove keeps the disk from filling, and costs microseconds
// beside the fsync's milliseconds). A per-op kernel: it counts no bytes,
// its ns/op is the figure.
func Fsync(b *testing.B, size int) {
	dir := b.TempDir()
	data := Bytes(1, size)
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
