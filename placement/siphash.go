package placement

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// This file holds the keyed hash behind every score: SipHash-2-4 (Aumasson
// and Bernstein), a PRF with a 128-bit key, chosen because placement hashes
// every member for every 1 MiB chunk and SipHash costs tens of nanoseconds
// where HMAC-SHA256 costs hundreds. The 128-bit key is derived from the
// cluster secret with SHA-256, so the secret may have any length.

// Domains separate placement's uses of the cluster secret from each other
// and from any other use: node races and zone races get different keys.
const (
	nodeDomain = "cairn placement v1 node\x00"
	zoneDomain = "cairn placement v1 zone\x00"
)

// sipKey derives a SipHash key from the cluster secret for a domain.
func sipKey(secret []byte, domain string) (k0, k1 uint64) {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(secret)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])
}

// sipState is SipHash-2-4 in the middle of a message: the state after some
// whole 8-byte blocks. Copying it forks the computation, which lets a Ring
// absorb a node's ID once and reuse the state for every stripe.
type sipState struct {
	v0, v1, v2, v3 uint64
	n              int // bytes absorbed so far (a multiple of 8)
}

func newSip(k0, k1 uint64) sipState {
	return sipState{
		v0: k0 ^ 0x736f6d6570736575,
		v1: k1 ^ 0x646f72616e646f6d,
		v2: k0 ^ 0x6c7967656e657261,
		v3: k1 ^ 0x7465646279746573,
	}
}

// sipRound is one SipRound on values, so that the compiler keeps the state
// in registers.
func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13) ^ v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16) ^ v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21) ^ v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17) ^ v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}

// compress absorbs 8-byte blocks into (v0..v3).
func compress(v0, v1, v2, v3 uint64, blocks []uint64) (uint64, uint64, uint64, uint64) {
	for _, m := range blocks {
		v3 ^= m
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0 ^= m
	}
	return v0, v1, v2, v3
}

// block absorbs one 8-byte block (little-endian).
func (s *sipState) block(m uint64) {
	s.v0, s.v1, s.v2, s.v3 = compress(s.v0, s.v1, s.v2, s.v3, []uint64{m})
	s.n += 8
}

// finish absorbs the last block, b, and returns the hash.
func finish(v0, v1, v2, v3, b uint64) uint64 {
	v3 ^= b
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= b
	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}

// blocks absorbs len(p)/8 whole blocks of p and returns the rest.
func (s *sipState) blocks(p []byte) []byte {
	for len(p) >= 8 {
		s.block(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	return p
}

// sum absorbs tail (fewer than 8 bytes here, but any length works) and
// finishes the hash. It does not modify s.
func (s sipState) sum(tail []byte) uint64 {
	tail = s.blocks(tail)
	total := s.n + len(tail)
	var last [8]byte
	copy(last[:], tail)
	b := binary.LittleEndian.Uint64(last[:]) | uint64(total)<<56
	return finish(s.v0, s.v1, s.v2, s.v3, b)
}

// siphash is SipHash-2-4 of p under (k0, k1), for tests and references.
func siphash(k0, k1 uint64, p []byte) uint64 {
	s := newSip(k0, k1)
	return s.sum(p)
}

// nodePrefix absorbs the node part of the hashed message,
//
//	uint64le(len(id)) || id || zero padding to a multiple of 8 bytes,
//
// after which the stripe ID follows. The length prefix keeps the encoding
// of (id, stripe) injective.
func nodePrefix(k0, k1 uint64, id string) sipState {
	s := newSip(k0, k1)
	s.block(uint64(len(id)))
	for len(id) >= 8 {
		s.block(binary.LittleEndian.Uint64([]byte(id[:8])))
		id = id[8:]
	}
	if len(id) > 0 {
		var last [8]byte
		copy(last[:], id)
		s.block(binary.LittleEndian.Uint64(last[:]))
	}
	return s
}

// stripeMsg is a stripe ID split once into whole blocks and a tail, so that
// hashing it after each member's prefix costs only the rounds.
type stripeMsg struct {
	buf  [8]uint64 // whole blocks when the ID is short (CIDs are ~36 bytes)
	long []uint64  // whole blocks otherwise
	nw   int       // number of whole blocks
	last uint64    // the tail bytes, little-endian, without the length byte
	size int       // len(stripe ID)
}

func (m *stripeMsg) init(stripe []byte) {
	m.nw = len(stripe) / 8
	if m.nw > len(m.buf) {
		long := make([]uint64, m.nw)
		for i := range long {
			long[i] = binary.LittleEndian.Uint64(stripe[8*i:])
		}
		m.long = long
	} else {
		for i := range m.nw {
			m.buf[i] = binary.LittleEndian.Uint64(stripe[8*i:])
		}
	}
	var last [8]byte
	copy(last[:], stripe[8*m.nw:])
	m.last = binary.LittleEndian.Uint64(last[:])
	m.size = len(stripe)
}

// hash returns the keyed 64-bit hash of (node, stripe) given the node's
// prefix state; it equals prefix.sum(stripe).
func (m *stripeMsg) hash(p *sipState) uint64 {
	words := m.long
	if m.nw <= len(m.buf) {
		words = m.buf[:m.nw]
	}
	v0, v1, v2, v3 := compress(p.v0, p.v1, p.v2, p.v3, words)
	return finish(v0, v1, v2, v3, m.last|uint64(p.n+m.size)<<56)
}

// splitmix64 steps a SplitMix64 generator, used to expand one keyed hash
// into the few extra random draws a node needs (its slot order).
func splitmix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// bounded maps a uniform 64-bit x to [0, m) (Lemire's multiply-shift; the
// bias is below 2^-56 for the m used here and, above all, deterministic).
func bounded(x uint64, m int) int {
	hi, _ := bits.Mul64(x, uint64(m))
	return int(hi)
}

// unit maps x to an odd multiple of 2^-53 in (0, 1): both ends excluded,
// exact in float64, uniform over 2^52 values.
func unit(x uint64) float64 {
	return float64(x>>12<<1|1) * 0x1p-53
}
