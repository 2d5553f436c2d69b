// Package erasure turns a stream of object bytes into content-addressed
// chunks and Reed-Solomon shards, and computes the object's IPFS-compatible
// root CID. It is pure: no I/O beyond the io.Reader it is handed, no clock,
// no goroutines of its own apart from those klauspost/reedsolomon starts and
// joins inside a call, and no package-level mutable state.
//
// # Pipeline
//
//	Chunker  — splits a stream into fixed-size chunks in bounded memory
//	ChunkCID — names a chunk: CIDv1, codec raw, sha2-256 of the chunk bytes
//	Sealer   — seals a chunk (AES-256-GCM under a key derived from the
//	           tenant's master key and the chunk's hash) and gives it a
//	           keyed name that reveals nothing of its CID; ShardSum sums
//	           one stored shard (HighwayHash-128 under a key of its own)
//	Codec    — codes a (sealed) chunk into k data + m parity shards (and back)
//	ShardName — names a shard by its chunk's CID and its place in the
//	           stripe, without hashing its bytes (ShardCID, a blake3
//	           content address, is what stripes written before used)
//	DAGBuilder — folds the chunk CIDs into the object's UnixFS root CID
//
// A gateway writing an object does, per chunk:
//
//	ck := erasure.NewChunker(body, erasure.DefaultChunkSize)
//	buf := make([]byte, erasure.DefaultChunkSize)
//	dag := erasure.NewDAGBuilder()
//	for {
//		chunk, err := ck.Next(buf)
//		if err == io.EOF {
//			break
//		}
//		...
//		id := erasure.ChunkCID(chunk)
//		dag.Add(id, uint64(len(chunk)))
//		sealed := sealer.Seal(nil, chunk, id)
//		shards, err := codec.Encode(sealed, shards)
//		... erasure.ShardName(sealer.Name(id), k, m, i) and
//		    sealer.ShardSum(shard) for each shard ...
//	}
//	root, err := dag.Root()
//
// # Guarantees
//
//   - Chunker yields chunks of exactly the requested size except the last,
//     which is 1..size bytes; an empty stream yields no chunk at all. Memory
//     use is the caller's buffer.
//   - ChunkCID and ShardCID are deterministic functions of the bytes alone,
//     and ShardName of its arguments alone.
//     Verify accepts data only if it hashes to the CID's multihash; it
//     supports sha2-256 and blake3 (full or truncated digests) and returns
//     ErrUnsupportedHash for any other hash function rather than guessing,
//     and ErrNotContentAddressed for a shard name.
//   - For equal (k, m), Codec.Encode produces byte-identical shards on every
//     machine and every run: the coding matrix is reedsolomon's default and
//     is part of Cairn's stored format, which is why Codec accepts no option
//     that changes it. Any k of the k+m shards give back the chunk.
//     Codec does not verify shard integrity: check each shard against its
//     CID before handing it to Reconstruct/ReconstructData.
//   - Sealer.Seal is deterministic (equal chunks under one master key seal
//     to equal bytes and get equal names, so deduplication holds) and adds
//     SealOverhead bytes; Open accepts only bytes sealed for that chunk
//     under that master key (else ErrSealBroken), which makes opening a
//     sealed chunk its integrity check. A keyed name (Sealer.Name) and the
//     shard names made from it reveal nothing of the chunk's CID to whoever
//     lacks the master key.
//   - DAGBuilder.Root equals the root CID that IPFS's UnixFS importer
//     (boxo, balanced layout, 174 links per node, CIDv1, raw leaves,
//     sha2-256) computes for the same leaves, byte for byte: for fixed 1 MiB
//     chunks it is what `ipfs add --cid-version=1 --raw-leaves
//     --chunker=size-1048576` prints. Its memory is O(depth × 174) links,
//     whatever the object size.
//
// # Concurrency
//
// Codec and Sealer are safe for concurrent use. Chunker and DAGBuilder are not: each
// belongs to one object being written. The package-level functions are safe
// for concurrent use.
package erasure
