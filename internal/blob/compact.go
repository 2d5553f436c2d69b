package blob

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
)

// Compactor returns to the file system the space of shards a store no
// longer holds.
type Compactor interface {
	// Compact frees what deleted and replaced shards still take on the
	// disk, as far as it can at a cost in proportion to what it frees.
	// It finds what to do from what the store keeps in memory, so a call
	// with nothing to do costs no I/O: it can be called periodically (a
	// minute apart, say). It never loses a shard the store holds, even if
	// the process dies in the middle, and never brings a deleted one back.
	// Put, Get, Delete and Scrub go on meanwhile; one Compact runs at a
	// time (a second call waits). It stops early, with ctx's error, when
	// ctx ends.
	Compact(ctx context.Context) (CompactStats, error)
}

// CompactStats is what one Compact did.
type CompactStats struct {
	// Removed counts the files removed: segments (LogStore) or empty
	// fan-out directories (DirStore).
	Removed int
	// Freed is the bytes those files took (their sizes), and Written the
	// bytes Compact wrote to keep what they held that is still needed:
	// Freed-Written is what it gave back.
	Freed, Written int64
	// Moved counts the shards copied out of the segments removed, and
	// MovedBytes their content.
	Moved, MovedBytes int64
	// Tombstones counts the tombstones copied forward, because an older
	// record of their shard remains elsewhere; Dropped those removed with
	// their segment.
	Tombstones, Dropped int64
	// Corrupt lists the shards found corrupt as they were copied: they
	// were quarantined as Get does, and the store no longer holds them.
	// Report them to repair, as a scrub's findings.
	Corrupt  []cid.Cid
	Duration time.Duration
}
