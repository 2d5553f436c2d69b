package erasure

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"github.com/zeebo/blake3"
)

// ErrCIDMismatch is returned, wrapped with the CID, when data does not hash
// to the CID it is supposed to have.
var ErrCIDMismatch = errors.New("erasure: data does not match its CID")

// ErrUnsupportedHash is returned, wrapped with the hash function's name, by
// Verify for a CID whose multihash uses a hash function other than sha2-256
// or blake3.
var ErrUnsupportedHash = errors.New("erasure: unsupported multihash function")

// ChunkCID returns a chunk's content address: CIDv1, codec raw (0x55),
// multihash sha2-256 of data. It is the CID IPFS gives the same bytes as a
// raw leaf.
func ChunkCID(data []byte) cid.Cid {
	return rawSHA256CID(cid.Raw, data)
}

// ShardCID returns a shard's content address: CIDv1, codec raw, multihash
// blake3 (32 bytes) of data. Shards are internal to Cairn, so they need not
// match IPFS; BLAKE3 hashes them at three times SHA-256's speed on the
// machines we measured, and every shard is hashed when written and read.
// Stores written before held sha2-256 shard CIDs; Verify accepts both.
func ShardCID(data []byte) cid.Cid {
	var mh [2 + 32]byte
	mh[0], mh[1] = multihash.BLAKE3, 32
	sum := blake3.Sum256(data)
	copy(mh[2:], sum[:])
	return cid.NewCidV1(cid.Raw, mh[:])
}

// rawSHA256CID returns the CIDv1 with the given codec and a sha2-256
// multihash of data.
func rawSHA256CID(codec uint64, data []byte) cid.Cid {
	var mh [2 + sha256.Size]byte
	mh[0], mh[1] = multihash.SHA2_256, sha256.Size
	sum := sha256.Sum256(data)
	copy(mh[2:], sum[:])
	return cid.NewCidV1(codec, mh[:])
}

// Verify checks that data hashes to id. It returns nil on a match, an error
// wrapping ErrCIDMismatch (and naming id) if the digest differs, one
// wrapping ErrUnsupportedHash if id's multihash function is neither
// sha2-256 nor blake3,
// one wrapping ErrNotContentAddressed for a shard name (ShardName),
// and a plain error if id or its multihash is malformed. A truncated
// sha2-256 digest (length below 32) is compared on its length; blake3 is
// accepted with digests of 1 to 32 bytes (its default length), compared
// the same way. The CID's
// codec is not checked: it says how to interpret the bytes, not what they
// hash to.
func Verify(id cid.Cid, data []byte) error {
	if !id.Defined() {
		return errors.New("erasure: verify: undefined CID")
	}
	if id.Type() == ShardNameCodec {
		return fmt.Errorf("%w: %s", ErrNotContentAddressed, id)
	}
	dm, err := multihash.Decode(id.Hash())
	if err != nil {
		return fmt.Errorf("erasure: verify %s: %w", id, err)
	}
	switch dm.Code {
	case multihash.SHA2_256:
		if dm.Length < 1 || dm.Length > sha256.Size {
			return fmt.Errorf("erasure: verify %s: sha2-256 digest length %d", id, dm.Length)
		}
		sum := sha256.Sum256(data)
		if !bytes.Equal(sum[:dm.Length], dm.Digest) {
			return fmt.Errorf("%w: %s", ErrCIDMismatch, id)
		}
		return nil
	case multihash.BLAKE3:
		if dm.Length < 1 || dm.Length > 32 {
			return fmt.Errorf("erasure: verify %s: blake3 digest length %d", id, dm.Length)
		}
		sum := blake3.Sum256(data)
		if !bytes.Equal(sum[:dm.Length], dm.Digest) {
			return fmt.Errorf("%w: %s", ErrCIDMismatch, id)
		}
		return nil
	default:
		name := multihash.Codes[dm.Code]
		if name == "" {
			name = fmt.Sprintf("0x%x", dm.Code)
		}
		return fmt.Errorf("%w: %s (CID %s)", ErrUnsupportedHash, name, id)
	}
}
