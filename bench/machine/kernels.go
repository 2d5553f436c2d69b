package machine

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/minio/highwayhash"
	"github.com/zeebo/blake3"

	"cairn/erasure"
)

// ChunkSize is the bytes a chunk kernel works on per step: Cairn's chunk.
const ChunkSize = 1 << 20

// maxSteps bounds a kernel's loop whatever the clock does.
const maxSteps = 1 << 22

// rate runs step, which works on ChunkSize bytes, for about d (at least
// once) and returns the rate in MiB/s.
func rate(d time.Duration, step func(i int)) float64 {
	start := time.Now()
	deadline := start.Add(d)
	n := 0
	for n < maxSteps && (n == 0 || time.Now().Before(deadline)) {
		step(n)
		n++
	}
	return float64(n) * ChunkSize / (1 << 20) / time.Since(start).Seconds()
}

// chunkBytes returns ChunkSize bytes that are not zeros.
func chunkBytes() []byte {
	b := make([]byte, ChunkSize)
	for i := range b {
		b[i] = byte(i*131 + i>>9)
	}
	return b
}

// MD5 hashes 1 MiB chunks on one core for about d and returns the rate in
// MiB/s: what a PUT's ETag costs per byte.
func MD5(d time.Duration) float64 {
	buf := chunkBytes()
	return rate(d, func(int) { md5.Sum(buf) })
}

// BLAKE3 hashes 1 MiB chunks with zeebo/blake3 on one core for about d
// and returns the rate in MiB/s: how the node API's signed requests hash
// a shard's body at each end, and how stripes sealed before 2026-12-07
// summed their shards.
func BLAKE3(d time.Duration) float64 {
	buf := chunkBytes()
	return rate(d, func(int) { blake3.Sum256(buf) })
}

// HighwayHash sums 1 MiB chunks with minio/highwayhash's keyed 128-bit
// hash on one core for about d and returns the rate in MiB/s: how a
// sealed stripe sums its shards (erasure.Sealer.ShardSum).
func HighwayHash(d time.Duration) float64 {
	buf := chunkBytes()
	key := make([]byte, 32)
	return rate(d, func(int) { highwayhash.Sum128(buf, key) })
}

// Copy copies 1 MiB chunks into four 256 KiB buffers, as a chunk is split
// into data shards and joined again, for about d, and returns the rate in
// MiB/s. (One copy() of 1 MiB or more takes the runtime's non-temporal
// path, slower for bytes read again soon.)
func Copy(d time.Duration) float64 {
	src, dst := chunkBytes(), make([]byte, ChunkSize)
	return rate(d, func(int) {
		for off := 0; off < ChunkSize; off += ChunkSize / 4 {
			copy(dst[off:off+ChunkSize/4], src[off:])
		}
	})
}

// RSEncode codes 1 MiB chunks k+m on one goroutine as a gateway does
// (erasure.Codec.Encode with WithConcurrency(1): the chunk copied into k
// data shards, m parity shards computed) for about d, and returns the
// rate in MiB/s of chunk bytes.
func RSEncode(k, m int, d time.Duration) (float64, error) {
	codec, err := erasure.NewCodec(k, m, erasure.WithConcurrency(1), erasure.WithChunkSize(ChunkSize))
	if err != nil {
		return 0, err
	}
	chunk := chunkBytes()
	shards, err := codec.Encode(chunk, nil)
	if err != nil {
		return 0, err
	}
	var encErr error
	v := rate(d, func(int) {
		if _, err := codec.Encode(chunk, shards); err != nil && encErr == nil {
			encErr = err
		}
	})
	return v, encErr
}

// AEAD seals 1 MiB chunks with AES-256-GCM as the gateway does (branch
// seal, erasure.Sealer), on one core, for about d, and returns the rate in
// MiB/s of chunk bytes. Each chunk gets its own key, and deriving it is in
// the time: HMAC-SHA256 under a key that HKDF-SHA256 derived once from a
// 32-byte master key, over the chunk's multihash (34 bytes), then
// aes.NewCipher, cipher.NewGCM and Seal in place with a zero nonce. The
// SHA-256 of the chunk that names it is not in the time (see SHA256).
func AEAD(d time.Duration) (float64, error) {
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i + 1)
	}
	sealKey, err := hkdf.Key(sha256.New, master, nil, "cairn/seal/v1/chunk", 32)
	if err != nil {
		return 0, err
	}
	// Sealed in place, again and again: the bytes do not change the time.
	buf := append(chunkBytes(), make([]byte, 16)...)[:ChunkSize]
	// A multihash: sha2-256 code, length, digest. Each chunk a new one, so
	// each derives a new key.
	mh := make([]byte, 2+sha256.Size)
	mh[0], mh[1] = 0x12, sha256.Size
	var nonce [12]byte
	var sealErr error
	v := rate(d, func(i int) {
		binary.LittleEndian.PutUint64(mh[2:], uint64(i))
		mac := hmac.New(sha256.New, sealKey)
		mac.Write(mh)
		var key [32]byte
		mac.Sum(key[:0])
		block, err := aes.NewCipher(key[:])
		if err != nil {
			sealErr = err
			return
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			sealErr = err
			return
		}
		if out := gcm.Seal(buf[:0], nonce[:], buf, nil); len(out) != ChunkSize+gcm.Overhead() {
			sealErr = fmt.Errorf("machine: sealed %d bytes, want %d", len(out), ChunkSize+gcm.Overhead())
		}
	})
	if sealErr != nil {
		return 0, sealErr
	}
	return v, nil
}
