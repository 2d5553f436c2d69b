package erasure

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/minio/highwayhash"
	"github.com/multiformats/go-multihash"
	"github.com/zeebo/blake3"
)

// Sealing: a chunk leaves the gateway encrypted and authenticated, under a
// key only the tenant holds, and is stored under a name that says nothing
// about its plaintext.
//
// From the tenant's 32-byte master key three keys are derived with
// HKDF-SHA256 (distinct labels, so that none says anything about another):
//
//	nameKey = HKDF(master, info "cairn/seal/v1/name")
//	sealKey = HKDF(master, info "cairn/seal/v1/chunk")
//	sumKey  = HKDF(master, info "cairn/seal/v1/sum")
//
// A chunk's keyed name is a CIDv1 of codec ChunkNameCodec whose identity
// multihash holds the version byte 1 and HMAC-SHA256(nameKey, the chunk's
// binary CID). A chunk is sealed with AES-256-GCM under its own key,
// HMAC-SHA256(sealKey, the chunk CID's multihash: sha2-256 of the plaintext),
// with a nonce of twelve zero bytes, and no additional data: the sealed
// chunk is the ciphertext followed by the 16-byte tag. A fixed nonce is safe
// because a key seals only one plaintext: the key is a function of the
// plaintext's hash. Equal chunks get equal names and seal to equal bytes,
// so deduplication keeps working across objects and writers.

// ChunkNameCodec is the CID codec of a chunk's keyed name (Sealer.Name),
// from multicodec's private-use range next to ShardNameCodec: the CID
// names a sealed chunk without revealing its content address.
const ChunkNameCodec = 0x300c5e

// chunkNameVersion is the first byte of a keyed name's digest.
const chunkNameVersion = 1

// SealV1 is the meta.Stripe.Seal value of a stripe sealed by this scheme
// (AES-256-GCM under a per-chunk key, fixed nonce, keyed chunk names); 0
// is a stripe that codes the plaintext chunk.
const SealV1 = 1

// SealCustomer is the meta.Stripe.Seal value of a stripe sealed as SealV1
// but by a Sealer from ForCustomer: its keys mix in a customer's key
// (S3's SSE-C), so that it opens only with that key. Such a chunk is
// known by its keyed name alone (sealed under the name, not its CID), and
// a healer, which holds no customer key, checks it by its shard sums.
const SealCustomer = 2

// SealOverhead is how many bytes sealing adds to a chunk: the GCM tag.
const SealOverhead = 16

// MasterKeySize is the length of a Sealer's master key.
const MasterKeySize = 32

// Shard sums: a sealed stripe records one per shard (meta.Stripe.Sums), so
// that a single shard can be checked (an audit, a rebuilt shard) without
// decoding its stripe. The kind of a sum is told by its length:
//
//   - ShardSumSize (17) bytes, what Sealer.ShardSum writes: the kind byte
//     ShardSumHighway (1), then the 128-bit HighwayHash of the shard keyed
//     with sumKey. About four times cheaper than BLAKE3 (10.6 against 2.8
//     GB/s on one core, bench/RESULTS.md), and a storage node, which never
//     has the key, cannot compute the sum of any bytes, so altered bytes
//     cannot be made to match.
//   - ShardSumBLAKE3Size (16) bytes: the first 16 bytes of the unkeyed
//     BLAKE3 of the shard (ShardSumBLAKE3), what stripes sealed before
//     2026-12-07 record. Still checked; no longer written.

// ShardSumSize is the length of Sealer.ShardSum's result.
const ShardSumSize = 1 + 16

// ShardSumHighway is the first byte of a keyed HighwayHash-128 shard sum.
const ShardSumHighway = 1

// ShardSumBLAKE3Size is the length of a BLAKE3 shard sum (ShardSumBLAKE3).
const ShardSumBLAKE3Size = 16

// ErrShardSumMismatch is returned by CheckShardSum when a shard's bytes
// are not the ones its sum was taken of.
var ErrShardSumMismatch = errors.New("erasure: shard does not match its sum")

// ErrShardSumUnknown is returned by CheckShardSum for a sum it cannot
// check: of a kind it does not know, or keyed while it has no key (a nil
// Sealer). It says nothing about the shard.
var ErrShardSumUnknown = errors.New("erasure: shard sum of a kind that cannot be checked here")

// ErrSealBroken is returned, wrapped with the chunk's CID, by Open when the
// sealed bytes do not authenticate under the chunk's key: they are not
// what was sealed for this chunk (a node lied, a disk rotted, or the key is
// not the one that sealed them).
var ErrSealBroken = errors.New("erasure: sealed chunk does not authenticate")

// The labels the master key's two keys are derived with.
const (
	nameKeyLabel = "cairn/seal/v1/name"
	sealKeyLabel = "cairn/seal/v1/chunk"
	sumKeyLabel  = "cairn/seal/v1/sum"
)

// sealNonce is the nonce of every seal: each key seals one plaintext only.
var sealNonce [12]byte

// Sealer seals chunks and names them under a tenant's master key. It holds
// only keys that never change, so it is safe for concurrent use.
type Sealer struct {
	nameKey [32]byte
	sealKey [32]byte
	sumKey  [32]byte
}

// NewSealer returns a Sealer for a master key of MasterKeySize bytes,
// which the caller keeps secret (the Sealer keeps only keys derived from
// it).
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("erasure: sealer: master key of %d bytes, want %d", len(master), MasterKeySize)
	}
	s := new(Sealer)
	for _, d := range []struct {
		key   *[32]byte
		label string
	}{{&s.nameKey, nameKeyLabel}, {&s.sealKey, sealKeyLabel}, {&s.sumKey, sumKeyLabel}} {
		k, err := hkdf.Key(sha256.New, master, nil, d.label, 32)
		if err != nil {
			return nil, fmt.Errorf("erasure: sealer: %w", err)
		}
		copy(d.key[:], k)
	}
	return s, nil
}

// customerLabel is what a customer key is mixed into the master key's
// two keys with.
const customerLabel = "cairn/seal/v1/customer"

// CustomerKeySize is the length of a customer key (SSE-C: AES-256).
const CustomerKeySize = 32

// ForCustomer returns a Sealer whose keys are derived from s's and a
// customer's key of CustomerKeySize bytes, with HKDF-SHA256 (the
// customer key as salt):
//
//	nameKey' = HKDF(nameKey, salt customer key, info "cairn/seal/v1/customer")
//	sealKey' = HKDF(sealKey, salt customer key, info "cairn/seal/v1/customer")
//
// Chunks it seals open only with the same master and customer keys, and
// their names differ from the names of the same chunks under any other
// key, so that they deduplicate with nothing sealed otherwise. The
// customer key is not kept.
func (s *Sealer) ForCustomer(customerKey []byte) (*Sealer, error) {
	if len(customerKey) != CustomerKeySize {
		return nil, fmt.Errorf("erasure: sealer: customer key of %d bytes, want %d", len(customerKey), CustomerKeySize)
	}
	c := new(Sealer)
	for _, d := range []struct{ from, to *[32]byte }{{&s.nameKey, &c.nameKey}, {&s.sealKey, &c.sealKey}} {
		k, err := hkdf.Key(sha256.New, d.from[:], customerKey, customerLabel, 32)
		if err != nil {
			return nil, fmt.Errorf("erasure: sealer: %w", err)
		}
		copy(d.to[:], k)
	}
	// Shard sums stay under the tenant's sum key: healing and audits check
	// a customer-sealed stripe's shards without the customer's key.
	c.sumKey = s.sumKey
	return c, nil
}

// Name returns the keyed name of the chunk with CID chunk: a CIDv1 of codec
// ChunkNameCodec, identity multihash of the version byte (1) and
// HMAC-SHA256(nameKey, chunk.Bytes()). Equal chunks have equal names; no
// one without the master key can tell which chunk a name stands for, nor
// compute the name of a chunk they know. Sealed stripes name their shards
// ShardName(Name(chunk), k, m, i) and are placed by the name.
func (s *Sealer) Name(chunk cid.Cid) cid.Cid {
	mac := hmac.New(sha256.New, s.nameKey[:])
	mac.Write(chunk.Bytes())
	d := make([]byte, 1, 1+sha256.Size)
	d[0] = chunkNameVersion
	d = mac.Sum(d)
	mh, err := multihash.Encode(d, multihash.IDENTITY)
	if err != nil {
		panic(err) // identity of 33 bytes always encodes
	}
	return cid.NewCidV1(ChunkNameCodec, mh)
}

// IsChunkName reports whether id is a keyed chunk name (Sealer.Name), as a
// shard name of a sealed stripe holds in place of a chunk CID.
func IsChunkName(id cid.Cid) bool {
	if !id.Defined() || id.Type() != ChunkNameCodec {
		return false
	}
	dm, err := multihash.Decode(id.Hash())
	return err == nil && dm.Code == multihash.IDENTITY && len(dm.Digest) == 1+sha256.Size && dm.Digest[0] == chunkNameVersion
}

// aead returns the AES-256-GCM of the chunk with CID id.
func (s *Sealer) aead(id cid.Cid) (cipher.AEAD, error) {
	if !id.Defined() {
		return nil, errors.New("erasure: seal: undefined chunk CID")
	}
	mac := hmac.New(sha256.New, s.sealKey[:])
	mac.Write(id.Hash())
	var key [32]byte
	mac.Sum(key[:0])
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal appends the sealed chunk, len(chunk)+SealOverhead bytes, to dst and
// returns the extended slice. id must be the chunk's CID (ChunkCID(chunk)):
// the key is derived from it, and Open needs the same one. To seal in
// place pass chunk[:0] as dst, with cap(chunk) >= len(chunk)+SealOverhead;
// otherwise dst's spare capacity must not overlap chunk. Seal is
// deterministic: equal chunks seal to equal bytes.
func (s *Sealer) Seal(dst, chunk []byte, id cid.Cid) []byte {
	g, err := s.aead(id)
	if err != nil {
		// Only an undefined CID gets here: a caller's bug, as a nil
		// chunk would be.
		panic(err)
	}
	return g.Seal(dst, sealNonce[:], chunk, nil)
}

// Open authenticates and decrypts a sealed chunk of the chunk with CID id,
// appends the chunk (len(sealed)-SealOverhead bytes) to dst and returns
// the extended slice. Opening is the chunk's integrity check: bytes that
// were not sealed for id under this master key give an error wrapping
// ErrSealBroken, and then nothing is appended that could be mistaken for
// the chunk (dst's spare capacity may have been overwritten). To open in
// place pass sealed[:0] as dst; otherwise dst's spare capacity must not
// overlap sealed.
func (s *Sealer) Open(dst, sealed []byte, id cid.Cid) ([]byte, error) {
	if len(sealed) < SealOverhead {
		return dst, fmt.Errorf("%w: chunk %s: %d bytes, shorter than the tag", ErrSealBroken, id, len(sealed))
	}
	g, err := s.aead(id)
	if err != nil {
		return dst, err
	}
	out, err := g.Open(dst, sealNonce[:], sealed, nil)
	if err != nil {
		return dst, fmt.Errorf("%w: chunk %s", ErrSealBroken, id)
	}
	return out, nil
}

// ShardSum returns the sum a sealed stripe records for a shard:
// ShardSumSize bytes, ShardSumHighway and the HighwayHash-128 of shard
// under the sum key. Equal shards have equal sums; without the master key
// no one can compute the sum of any bytes.
func (s *Sealer) ShardSum(shard []byte) []byte {
	sum := highwayhash.Sum128(shard, s.sumKey[:])
	return append(append(make([]byte, 0, ShardSumSize), ShardSumHighway), sum[:]...)
}

// CheckShardSum checks shard against sum, a sum of either kind a stripe
// may record (ShardSum's, or the BLAKE3 sums of older stripes): nil if it
// matches, an error wrapping ErrShardSumMismatch if it does not, and one
// wrapping ErrShardSumUnknown if the sum cannot be checked here (an
// unknown kind, or a keyed sum and s is nil). A nil Sealer checks BLAKE3
// sums.
func (s *Sealer) CheckShardSum(sum, shard []byte) error {
	var ok bool
	switch {
	case len(sum) == ShardSumBLAKE3Size:
		ok = subtle.ConstantTimeCompare(sum, ShardSumBLAKE3(shard)) == 1
	case len(sum) == ShardSumSize && sum[0] == ShardSumHighway && s != nil:
		ok = subtle.ConstantTimeCompare(sum, s.ShardSum(shard)) == 1
	default:
		return fmt.Errorf("%w: %d bytes, kind %d", ErrShardSumUnknown, len(sum), sumKind(sum))
	}
	if !ok {
		return ErrShardSumMismatch
	}
	return nil
}

// CanCheckShardSum reports whether CheckShardSum can check sum (whether
// it would not return ErrShardSumUnknown).
func (s *Sealer) CanCheckShardSum(sum []byte) bool {
	return len(sum) == ShardSumBLAKE3Size || (len(sum) == ShardSumSize && sum[0] == ShardSumHighway && s != nil)
}

func sumKind(sum []byte) int {
	if len(sum) == 0 {
		return -1
	}
	return int(sum[0])
}

// ShardSumBLAKE3 returns the first ShardSumBLAKE3Size bytes of the BLAKE3
// digest of shard: the shard sum stripes sealed before 2026-12-07 record
// (CheckShardSum still checks it). New stripes record Sealer.ShardSum.
func ShardSumBLAKE3(shard []byte) []byte {
	sum := blake3.Sum256(shard)
	return append(make([]byte, 0, ShardSumBLAKE3Size), sum[:ShardSumBLAKE3Size]...)
}
