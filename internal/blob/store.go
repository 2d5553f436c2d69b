package blob

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
)

// Errors returned by stores, possibly wrapped; match them with errors.Is.
var (
	ErrNotFound = errors.New("blob: shard not found")
	ErrCorrupt  = errors.New("blob: shard corrupt") // content did not match its CID
)

// Store keeps shards addressed by CID. Put is durable when it returns nil.
// Safe for concurrent use.
type Store interface {
	// Put stores data under id. It first checks that data hashes to id
	// (ErrCorrupt if not). Putting a shard the store holds is a cheap
	// no-op. The store does not keep data after Put returns.
	Put(ctx context.Context, id cid.Cid, data []byte) error
	// Get appends the shard's bytes to dst[:0] and returns it; it verifies
	// them against id: on mismatch the stored copy is moved aside to
	// quarantine and ErrCorrupt is returned (wrapped), and the shard is
	// then absent. ErrNotFound if absent.
	Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error)
	// Has reports whether the store holds the shard, without reading or
	// verifying it.
	Has(ctx context.Context, id cid.Cid) (bool, error)
	// Delete removes the shard; a missing shard is not an error.
	Delete(ctx context.Context, id cid.Cid) error
	// Walk calls fn for every shard held, with its size in bytes, in no
	// particular order, and stops at fn's first error, which it returns.
	// Shards put or deleted during the walk may or may not be seen.
	Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error
	// Usage reports the shards held and the space left.
	Usage(ctx context.Context) (Usage, error)
}

// Usage is what a store holds and has room for.
type Usage struct {
	Shards   int64 // shards held
	Bytes    int64 // bytes of shard content held (not counting headers)
	Free     int64 // bytes available to the store on its file system
	Capacity int64 // total bytes of that file system
	// FS names that file system (its machine and device), the same for
	// the stores that share it and so its Free and Capacity; "" when
	// unknown. Status counts a file system's capacity once.
	FS string
}

// Verify checks that data hashes to id, and returns an error wrapping
// ErrCorrupt if it does not. Shard and chunk CIDs (blake3, sha2-256) are
// checked with erasure's kernels; any other hash function through
// go-multihash, which allocates a hasher per call. A shard name
// (erasure.ShardName) hashes nothing, so Verify accepts any bytes for it:
// a store guards those with its own record checksum, and a reader with
// the chunk's CID once the stripe is decoded.
func Verify(id cid.Cid, data []byte) error {
	if !id.Defined() {
		return errors.New("blob: undefined CID")
	}
	err := erasure.Verify(id, data)
	switch {
	case err == nil, errors.Is(err, erasure.ErrNotContentAddressed):
		return nil
	case errors.Is(err, erasure.ErrCIDMismatch):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case !errors.Is(err, erasure.ErrUnsupportedHash):
		return err
	}
	got, err := id.Prefix().Sum(data)
	if err != nil {
		return err
	}
	if !got.Equals(id) {
		return ErrCorrupt
	}
	return nil
}
