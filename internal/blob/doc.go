// Package blob keeps shards on a storage node: content-addressed blobs,
// each stored under its CID and checked against it when read.
//
// Store is the interface the node API, scrubbing and repair use; DirStore
// implements it on a local directory. The conformance suite in blobtest
// runs the same tests against every Store.
//
// # Guarantees
//
//   - Put verifies the content against the CID before storing it, and is
//     durable when it returns nil: the shard survives a crash or power
//     loss. A crash never leaves a partial shard visible.
//   - Get verifies what it reads. A shard whose bytes no longer match its
//     CID (a disk fault) is moved to quarantine and reported as ErrCorrupt;
//     from then on the store does not hold it, and repair can put it back.
//   - Puts of the same CID are serialized; putting a shard the store holds
//     costs a stat. Deletes are not synced: after a crash a deleted shard
//     may reappear, and garbage collection deletes it again.
//   - If the directory disappears while the store is in use (a disk pulled
//     or the directory removed), reads report ErrNotFound, and Put
//     recreates the layout and succeeds.
//
// # On-disk format, version 1
//
// A DirStore directory holds:
//
//	cairn-blob          "cairn blob store 1\n": the layout version. OpenDir
//	                    creates it in a new store and refuses any other.
//	shards/XX/<cid>     one file per shard. <cid> is the CID's string
//	                    form (CIDv1, multibase base32, lower case: the name
//	                    is the same on case-insensitive file systems); only
//	                    CIDv1 is stored. XX is the last byte of the binary
//	                    CID (the last byte of its multihash digest) in
//	                    lower-case hex, so shards spread evenly over 256
//	                    directories, created on first use.
//	tmp/                files being written; anything here when the store
//	                    is opened is left by a crash and is removed.
//	quarantine/<cid>.<unix nanoseconds>
//	                    shard files that failed verification, kept for
//	                    inspection and never read again; an operator may
//	                    delete them.
//
// A shard file is an 8-byte header followed by the shard's bytes:
//
//	offset 0: "CAIRNSH" (7 bytes, ASCII), the magic
//	offset 7: 0x01, the format version
//	offset 8: the shard content, to the end of the file
//
// The content's length is the file size minus 8. The header carries no
// checksum: the CID is the checksum. A file with another magic or version,
// shorter than 8 bytes, or whose content does not hash to its CID is
// corrupt.
//
// Writing a shard: create tmp/<cid>.<random>, write header and content,
// fsync it, rename it to shards/XX/<cid>, fsync shards/XX. Directories
// that a write creates are fsynced into their parents.
package blob
