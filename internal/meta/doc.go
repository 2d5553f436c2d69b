// Package meta is Cairn's metadata store: buckets, object manifests,
// multipart uploads, access keys, the placement layout and chunk reference
// counts, kept in a state machine that hashicorp/raft replicates over a
// group of 1 (dev), 3 or 5 voters.
//
// # Use
//
//	cfg := meta.Default()
//	cfg.Dir, cfg.NodeID, cfg.BindAddr = dir, "meta1", "10.0.0.1:7001"
//	cfg.Bootstrap = true // first node of a new group only
//	s, err := meta.Open(cfg)
//	...
//	defer s.Close()
//	err = s.WaitLeader(ctx)
//	err = s.CreateBucket(ctx, "photos", time.Now())
//	err = s.PutObject(ctx, manifest)
//
// Dev mode passes raft's in-memory transport (raft.NewInmemTransport) as
// cfg.Transport with Bootstrap; a multi-node group uses the TCP transport
// Open creates, and its leader adds the other nodes with
// s.Raft().AddVoter. Every method is safe for concurrent use.
//
// # Guarantees
//
// Writes are raft entries proposed on the leader. Each method is one entry,
// which carries everything the call changes: an object together with the
// reference counts of the chunks it adds and releases, a multipart
// completion with the object, the upload and every part. A method returns
// nil once its entry is committed (in the fsynced raft log of a majority)
// and applied to the leader's state machine (a fsynced bbolt
// transaction); an error wrapping a sentinel (ErrNoSuchBucket...) means the
// entry was applied and refused and changed nothing. If ctx ends or
// ApplyTimeout passes first, the error says so and the entry may still be
// applied. Arguments are checked before they are proposed
// (ErrInvalidArgument).
//
// Reads are linearizable and served by the leader: once per term the
// leader applies every earlier entry (a raft barrier), and before each read
// it confirms it is still the leader (raft's VerifyLeader, one round of
// heartbeats; skipped when it is the group's only voter, since then no
// other node can be elected without a configuration entry it appends
// itself). Writes acknowledged before a read starts are visible to it:
// S3's read-after-write and list-after-write.
//
// On a follower every method returns a *NotLeaderError, which wraps
// ErrNotLeader and names the leader when known, for the caller to forward
// the call.
//
// The state machine is deterministic: it reads no clock (a command carries
// the proposer's time, from Config.Now or the caller), no network, no
// randomness.
//
// # Raft wiring
//
// The raft log and stable store are one bbolt file (Dir/raft.db, package
// raftlog: a kill at any moment leaves it at its last committed write; a
// node's older raft-wal directory, Dir/wal, is migrated into it on Open);
// the latest 512 entries are also cached in memory. Snapshots are
// raft's file snapshot store (Dir/snapshots); the state machine is one bbolt
// file (Dir/fsm.db) that also records, in the transaction of each batch,
// the last raft index applied. Raft runs with NoSnapshotRestoreOnStart, so a
// restart keeps the bbolt state and raft replays its log from the last
// snapshot: entries at or below the recorded index are skipped, so every
// entry takes effect exactly once. If the state machine is behind the
// newest snapshot (a crash in the middle of installing one, or a lost
// fsm.db), Open restores that snapshot first.
//
// The state machine implements raft.BatchingFSM: raft hands it the
// committed entries in batches, and a batch is one bbolt transaction. So
// that batches are large under concurrent writes, the log store waits
// before each append while the state machine is applying a batch (see
// pacedLog): proposals pile up meanwhile and the next log append and the
// next transaction take them all.
//
// A snapshot is a bbolt read transaction streamed with Tx.WriteTo, without
// holding the state in memory; writes go on meanwhile. Restore (a leader's
// InstallSnapshot, or Raft().Restore) writes the stream to a file beside
// fsm.db, syncs it and renames it over fsm.db. Raft().Restore must be given
// the snapshot's own SnapshotMeta (from the snapshot store it came from),
// whose Index is at least the index recorded in the snapshot.
//
// A node that is its group's only voter when it opens (dev mode, or a
// restarted single-voter group) uses Config.SoloTimeout (100ms) for raft's
// heartbeat, election and lease timeouts instead of the cluster timers
// (1s): a lone voter waits one to two heartbeat timeouts before it elects
// itself, so it leads within about 100-200ms of Open.
//
// bbolt reads fsm.db through a memory map, so every page a read touched
// counts as the process's resident memory until the map is unmapped:
// with many small objects kept inline, hundreds of MiB. ReleaseMemory
// drops those pages from the process (they stay in the page cache), and
// storaged calls it once a burst of reads and writes has ended (Activity
// tells it when).
//
// Raft and its transports log through Config.Logger: their hclog
// records are adapted to slog (attributes stay structured) and raft's Info
// records, which are many, are logged at Debug.
//
// # Stored format
//
// The state machine file is format 2 (stateFormat, under raft/"format"):
// format 1, which kept reference counts in a "refs" bucket and stripes only
// in manifests and garbage records, is migrated into the chunk table when
// fsm.db (or a snapshot) is opened. JSON records are version 1
// (FormatVersion). The bbolt buckets of fsm.db, and what they map:
//
//	raft     "applied" -> last raft index applied, 8 bytes big endian
//	         "format"  -> stateFormat, 8 bytes big endian
//	buckets  bucket name -> Bucket, JSON
//	objects  esc(bucket) key -> object manifest
//	uploads  esc(bucket) esc(key) esc(upload ID) -> Upload, JSON
//	parts    esc(bucket) esc(key) esc(upload ID) part number (4 bytes BE) -> part manifest
//	keys     access key ID -> Key, JSON
//	layouts  version (8 bytes BE) -> Layout, JSON; the last is the current layout
//	chunks   chunk CID -> chunk record: byte its version (1, or 2 when
//	         its stripe has a keyed name or sums), uvarint reference
//	         count, byte state (0 live, 1 garbage, 2 being collected), 8
//	         bytes since when it is garbage (Unix ns BE; not when live),
//	         uvarint the chunk's size, then the stripe as in a manifest
//	         of version 2 (record version 1) or 3 (record version 2)
//	names    keyed name (a sealed stripe's Stripe.Name) -> chunk CID:
//	         every record's name, maintained as records are created,
//	         forgotten and their stripes replaced; built from the chunk
//	         table when a file without it is opened
//	settings "seal-migration" -> 1 byte, 1 when healing is to seal every
//	         live unsealed stripe (SetSealMigration)
//	garbage  when (Unix ns, 8 bytes BE) chunk CID -> nothing: the garbage
//	         chunks, oldest first
//	forgot   chunk CID -> the raft index of the ForgetGarbage that dropped its
//	         record (8 bytes BE), then when (Unix ns, 8 bytes BE): a
//	         tombstone, kept TombstoneRetention; raft/"forgot-horizon"
//	         is the highest index of a pruned one
//	forgot-t when (8 bytes BE) chunk CID -> nothing: the tombstones by time
//	versions esc(bucket) esc(key) ^seq (8 bytes BE) -> manifest of a
//	         noncurrent version (versions.go): newest first per key
//	bucket-config  bucket name -> BucketConfig, JSON: versioning, object
//	         lock, lifecycle rules, tags; absent: the defaults
//	reputation  storage node ID -> Reputation, JSON: what audits and reads
//	         found of the node (counts, last audit and failure, the
//	         window of recent checks the ejection rule weighs) and
//	         whether it was ejected; added to by AddReputation, whose
//	         command carries per node the counts to add, the latest
//	         times, and an eject or pardon flag with the reason
//
// esc(s) is s with each 0x00 byte written 0x00 0xFF, then 0x00 0x01: it
// keeps byte order and no encoding is a prefix of another, so keys sort by
// bucket, then key (objects: in S3 order, raw after the bucket), then
// upload ID, whatever bytes they hold. Every JSON record carries "v":
// FormatVersion.
//
// A manifest (an object's or a part's) is
//
//	byte     its version: 3 (manifestVersion) when a stripe has a keyed
//	         name or sums, else 2 (so that binaries from before sealing
//	         read what a cluster with sealing off writes); version 1,
//	         still read, has no nodes
//	uvarint  n, then n bytes: the Object or Part as JSON, with "chunks": null
//	uvarint  number of chunks, then per chunk:
//	         uvarint len, CID bytes; uvarint size;
//	         the stripe: uvarint k, m, layout, shard size, seal, number of
//	         shards, then per shard uvarint len, shard CID bytes; then
//	         (from version 2) uvarint 0 when no nodes are recorded, else 1 +
//	         their number, and per node uvarint len, node ID ("" for a
//	         shard stored nowhere); then (version 3) uvarint len, the
//	         keyed name's bytes (0: none), and uvarint 0 when no sums are
//	         recorded, else 1 + their number, and per shard uvarint len,
//	         its sum;
//	         and when k is 0 (an inline chunk, no shards): uvarint len,
//	         the chunk's bytes
//
// so that listings decode only the JSON (ListObjects returns objects
// without Chunks) and reference counting decodes only the chunks. A
// manifest's stripe is the one its chunk had when it was written; the
// chunk table's record is where the shards are now, and GetObject and
// ListParts answer with it.
//
// A snapshot is the 8 bytes "CRNMETA" FormatVersion, then the bbolt file.
//
// An object manifest's JSON may carry a version's fields (versions.go):
// "vid" its version ID ("null", or absent, for the null version), "seq"
// its order among the key's versions, "dm" a delete marker, and its
// object lock ("lock_mode", "retain_until", "legal_hold", "hold_set"). A
// manifest without them, from before versioning, is a null version.
//
// A raft command is cmdVersion (1), the op, the proposer's time (Unix ns,
// 8 bytes BE), then the op's arguments (uvarints and length-prefixed
// strings; an object or part travels as its manifest, stored as is). A
// PutObject or PutPart may end with one more uvarint, the writer's
// Fence (a raft index), which commands written before tombstones lack;
// a PutObject (after its fence) or a CompleteUpload may then end with a
// write condition: uvarint flags (1 If-None-Match, 2 If-Match) and the
// ETag. SetBucketConfig, CreateBucketConfigured, DeleteVersions and
// SetObjectLock are newer than every other op.
// ReplaceStripe carries its new stripe as in a version 3 manifest. A node
// that meets a command version or op it does not know stops (panics)
// rather than diverge: upgrade every node before proposing a new command
// (AddReputation is proposed by the auditor of a leader that runs this
// binary). SetObjectTags (op 64: bucket, key, uvarint n, then n key and
// value strings) rewrites an object manifest's JSON, where the object's
// tags are "tags", and keeps its chunk bytes as they are; gateways send it
// for S3 object tagging, so upgrade every meta node before the gateways.
package meta
