// Package raftlog is the metadata group's raft log store and stable store:
// one bbolt file, Dir/raft.db of a metadata node.
//
// It replaces raft-wal v0.4.0 (the only version the module proxy serves),
// which after two kills in a row can leave a node that never starts again
// (a sealed segment with no index block, hashicorp/raft-wal#31). bbolt is
// copy-on-write with two checksummed meta pages: a kill at any moment
// leaves the file at its last committed transaction, and every write here
// is one transaction, fsynced before it returns. MigrateWAL moves an older
// node's raft-wal directory into a Store on start.
//
// # Guarantees
//
//   - StoreLogs and DeleteRange are atomic and durable when they return
//     nil: after a crash the log holds all of their entries or none.
//   - The log may hold gaps (it is not a raft.MonotonicLogStore): raft
//     deletes what a snapshot covers with DeleteRange as usual.
//   - Get of a stable key the store does not hold fails with "not found",
//     which raft treats as unset; GetUint64 then returns 0.
//
// # Format, version 1
//
// Three bbolt buckets:
//
//	logs    index (8 bytes big endian) -> entry
//	stable  key -> value, as raft gives it; numbers 8 bytes little endian
//	meta    "format" -> FormatVersion (8 bytes big endian);
//	        "migrated-from-raft-wal" -> the raft-wal directory, once migrated
//
// An entry is: byte 1 (its version), uvarint term, byte type, varint the
// leader's append time (Unix ns, 0 when unset), uvarint length and the data,
// uvarint length and the extensions.
package raftlog
