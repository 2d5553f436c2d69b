package erasure

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// ShardNameCodec is the CID codec of a shard name, from multicodec's
// private-use range: the CID does not address the shard's bytes, it names
// the shard by its place in a stripe.
const ShardNameCodec = 0x300c5d

// shardNameVersion is the first byte of a shard name's digest.
const shardNameVersion = 1

// ErrNotContentAddressed is returned, wrapped with the CID, by Verify for
// a shard name: it names its bytes without hashing them, so there is
// nothing to check them against.
var ErrNotContentAddressed = errors.New("erasure: CID names its bytes without hashing them")

// ShardName returns the name of shard i (data shards first) of the k+m
// stripe of the chunk with CID chunk: CIDv1, codec ShardNameCodec,
// multihash identity over a version byte (1), k, m and i as uvarints, and
// the chunk's binary CID. Equal chunks coded alike get equal names, as content
// addresses would, because Codec.Encode is deterministic; but naming
// costs no pass over the shard's bytes. What guards the bytes is the
// chunk's CID, checked after the stripe is decoded, and the storage
// node's own checksum of each record.
func ShardName(chunk cid.Cid, k, m, i int) (cid.Cid, error) {
	if !chunk.Defined() {
		return cid.Undef, errors.New("erasure: shard name: undefined chunk CID")
	}
	if k < 1 || m < 0 || k+m > maxShards || i < 0 || i >= k+m {
		return cid.Undef, fmt.Errorf("erasure: shard name: shard %d of a %d+%d stripe", i, k, m)
	}
	d := make([]byte, 0, 1+3*binary.MaxVarintLen16+chunk.ByteLen())
	d = append(d, shardNameVersion)
	d = binary.AppendUvarint(d, uint64(k))
	d = binary.AppendUvarint(d, uint64(m))
	d = binary.AppendUvarint(d, uint64(i))
	d = append(d, chunk.Bytes()...)
	mh, err := multihash.Encode(d, multihash.IDENTITY)
	if err != nil {
		return cid.Undef, fmt.Errorf("erasure: shard name: %w", err)
	}
	return cid.NewCidV1(ShardNameCodec, mh), nil
}

// ParseShardName returns the chunk CID and stripe position a shard name
// stands for, and ok=false if id is not a shard name (a content-addressed
// shard CID, say).
func ParseShardName(id cid.Cid) (chunk cid.Cid, k, m, i int, ok bool) {
	if !id.Defined() || id.Type() != ShardNameCodec {
		return cid.Undef, 0, 0, 0, false
	}
	dm, err := multihash.Decode(id.Hash())
	if err != nil || dm.Code != multihash.IDENTITY || len(dm.Digest) < 1 || dm.Digest[0] != shardNameVersion {
		return cid.Undef, 0, 0, 0, false
	}
	d := dm.Digest[1:]
	var v [3]uint64
	for j := range v {
		x, n := binary.Uvarint(d)
		if n <= 0 || x > maxShards {
			return cid.Undef, 0, 0, 0, false
		}
		v[j], d = x, d[n:]
	}
	k, m, i = int(v[0]), int(v[1]), int(v[2])
	n, chunk, err := cid.CidFromBytes(d)
	if err != nil || n != len(d) || k < 1 || k+m > maxShards || i >= k+m {
		return cid.Undef, 0, 0, 0, false
	}
	return chunk, k, m, i, true
}

// IsShardName reports whether id is a shard name rather than a content
// address.
func IsShardName(id cid.Cid) bool {
	_, _, _, _, ok := ParseShardName(id)
	return ok
}
