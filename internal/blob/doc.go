// Package blob keeps shards on a storage node: blobs, each stored under
// its CID (a content address, or a shard name: erasure.ShardName) and
// checked when read.
//
// Store is the interface the node API, scrubbing and repair use. Two
// implementations keep shards in a local directory: LogStore (format 2,
// what new stores are) appends them to large segment files, and DirStore
// (format 1) keeps a file per shard. Open picks the one a directory was
// created with. The conformance suite in blobtest runs the same tests
// against every Store.
//
// # Guarantees
//
//   - Put verifies the content against a content address before storing
//     it (a shard name hashes nothing, and is stored as given: the node
//     API authenticates its body), and is durable when it returns nil:
//     the shard survives a crash or power loss. A crash never leaves a
//     partial shard visible.
//   - Get verifies what it reads: a DirStore against the CID (it cannot
//     check a shard name, and says so: VerifiesReads), a LogStore against
//     the CRC-32C it recorded for the bytes it was given (six times
//     cheaper than hashing again, and what a disk fault needs). A shard
//     that fails is moved to quarantine and reported as ErrCorrupt; from
//     then on the store does not hold it, and repair can put it back.
//   - Scrub (Scrubber, both stores) re-reads every shard held, at a rate
//     the caller bounds, checks it as Get does and quarantines what fails
//     as Get does, reporting each shard found corrupt or unreadable. A
//     LogStore reads whole records, header included, from the disk (with
//     direct I/O where it writes that way, so a copy in the page cache
//     cannot hide a bad sector, and a pass does not evict what Gets
//     need); a shard whose header is damaged but whose content is right
//     is written again, not quarantined. A DirStore reads through the page cache and can check only
//     content addresses: shard names are read and counted Unverifiable.
//     A pass takes a shard's lock only to quarantine it, and can be
//     stopped and resumed from where it got to.
//   - Compact (Compactor, both stores) gives back to the file system the
//     space of the shards a store no longer holds: after every shard is
//     deleted and the store compacted, it takes the space it took when
//     new, but for directories that grew (blobtest.ReclaimOverhead). A
//     call with nothing to do costs no I/O. It never loses a shard the
//     store holds, nor brings back a deleted one (beyond what an unsynced
//     delete allows), even if the process dies in the middle; Put, Get,
//     Delete and Scrub go on meanwhile, and a Get finds a shard Compact
//     is moving at its old place or its new one.
//   - Puts of the same CID are serialized; putting a shard the store holds
//     costs a stat (DirStore) or a read (LogStore). Deletes are not synced:
//     after a crash a deleted shard may reappear, and garbage collection
//     deletes it again.
//   - If the directory is removed while the store is in use (an operator,
//     or a disk pulled), reads report ErrNotFound, and Put recreates the
//     layout and succeeds. (A LogStore notices when a segment it reads or
//     writes has no links left; a directory renamed away is still read.)
//
// # On-disk format, version 2 (LogStore)
//
// A LogStore directory holds:
//
//	cairn-blob          "cairn blob store 2\n": the layout version.
//	segments/NNNN…      segment files, named by a 16-digit lower-case hex
//	                    number; a new segment gets the next number. A
//	                    store appends to segments it created since it was
//	                    opened, and never writes to older ones.
//	quarantine/<cid>.<unix nanoseconds>
//	                    copies of shards that failed their check.
//	compacting          while a compaction removes segments: "cairn
//	                    compaction 1\n", then the names of the segments
//	                    it removes, one a line. Opening the store removes
//	                    every segment listed, then the file.
//
// A segment is a sequence of records, each starting at a multiple of 4096
// bytes and padded with zeros to one. A record is a header, then its
// content:
//
//	offset 0:  "CSR1", the magic
//	offset 4:  kind: 1 a shard, 2 a tombstone (the shard was deleted)
//	offset 5:  0 (reserved)
//	offset 6:  L, the length of the binary CID (uint16, little endian)
//	offset 8:  sequence number (uint64, little endian), increasing over
//	           the whole store
//	offset 16: n, the content length (uint32, little endian); 0 for a
//	           tombstone
//	offset 20: CRC-32C (Castagnoli) of the content
//	offset 24: CRC-32C of bytes 0-23 and the CID
//	offset 28: the binary CID, L bytes
//
// The content follows the CID when it fits in the record's first 4096
// bytes (28+L+n <= 4096); otherwise it starts at offset 4096 of the
// record, so that it is aligned for direct I/O. The record's length is
// 4096, or 4096 plus n rounded up to a multiple of 4096.
//
// Opening a store first finishes a compaction that a crash interrupted
// (the compacting file), then reads every record header. For each CID
// the record with the highest sequence number decides: a shard record is
// where the shard is, a tombstone means it is not held. One exception: if
// the record before it is a shard record of the same length and content
// CRC (a copy made by compaction, which a crash may have torn before it
// was synced, while its original was still there), the newer one's
// content is checked, and if it fails, the older record is where the
// shard is. A segment's records end at the first header that is not
// valid (bad magic, kind or CRC, or a record running past the end of the
// file): a crash tore it, and it held only writes that were never
// acknowledged. (A header damaged later, in the middle of a segment, ends
// its records there too: scrub reads headers and writes that shard again,
// and compaction then rewrites the rest of the segment.)
//
// Writing: records wait in a queue, and a writer holding a segment writes
// every queued record (up to 4 MiB) with one pwritev(2), with direct I/O
// where the file system allows it. A shard's Put returns once a file
// system sync that started after its write has ended (one syncfs(2) is
// shared by the writes of every store on the file system). Deletes
// append a tombstone without waiting for a sync.
//
// Reading: the content is read through the page cache and checked
// against the CRC-32C in its header, which was computed from the bytes
// Put was given (checked against the CID when it is a content address).
// A mismatch quarantines the shard. Readers that got the bytes from
// another machine check the CID itself, or the decoded chunk's CID for a
// shard name.
//
// Compaction: a sealed segment is compacted when the records the index
// points to take less than a fraction of its bytes (LogOptions,
// default half), when none, or when a header in it was found damaged;
// the segment taking appends too when nothing in it is live (it is
// sealed first). Each live shard record is copied, under the shard's
// lock, to the segment taking appends, through the same queue as a Put,
// with a new sequence number (newer than any record of the CID, and
// older than any later Put or Delete of it, which wait for the lock).
// Tombstones are the subtle part: a tombstone may be dropped only if no
// shard record of its CID remains in any segment that stays, or that
// older record would be the CID's newest when the store is next opened,
// and the deleted shard would be back. So for each tombstone in the
// segments being compacted, if its CID is not held and a segment that
// stays holds a shard record of it (deleted, replaced, or written by a
// Put that failed: the store keeps a list of these in memory), the
// tombstone is copied forward with a new sequence number; otherwise it is
// dropped. A segment that would free nothing is left as it is. Once the
// copies are synced, the compacting file lists the segments, durably;
// then the segments are removed, their directory synced, and the file
// removed. The file makes the removal all or nothing across a crash: a
// tombstone in one segment may guard against a record in another of the
// same compaction.
//
// # On-disk format, version 1 (DirStore)
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
//	                    directories, created on first use and removed by
//	                    Compact when empty.
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
