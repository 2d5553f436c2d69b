package benchfmt

// KernelPrefix starts the name of every kernel benchmark: the kernel
// SHA256 is BenchmarkKernelSHA256.
const KernelPrefix = "BenchmarkKernel"

// The kernels the limits use. A byte kernel runs over a 1 MiB buffer and
// reports MB/s; a per-op kernel reports ns/op.
const (
	SHA256      = "SHA256"      // crypto/sha256 (SHA-NI here): chunk CIDs, SigV4 payload hashes
	BLAKE3      = "BLAKE3"      // zeebo/blake3 (AVX2 here): content-addressed shard CIDs, older stripes' shard sums, and shard bodies sent between nodes
	HighwayHash = "HighwayHash" // minio/highwayhash Sum128: sealed stripes' keyed shard sums
	MD5         = "MD5"         // crypto/md5: the S3 ETag of a whole object
	AESGCM      = "AESGCM"      // AES-256-GCM Seal: a chunk's seal (erasure.Sealer), and what TLS would cost per byte
	Copy        = "Copy"        // a 1 MiB chunk copied into four 256 KiB buffers: the floor of a move between buffers of that size
	RSEncode4p2 = "RSEncode4p2" // klauspost/reedsolomon 4+2 Encode of a 1 MiB chunk's shards, one goroutine; bytes are the chunk's
	CRC32C      = "CRC32C"      // hash/crc32 Castagnoli: the S3 checksum trailer
	Fsync       = "Fsync"       // per op: create a file, write 256 KiB, fsync it, close and remove it, on the benchmark's disk
)

// Term is one kind of work an operation must do: PerByte bytes of a byte
// kernel for every byte the benchmark counts with b.SetBytes, or PerOp
// operations of a per-op kernel for every operation.
type Term struct {
	Kernel  string
	PerByte float64
	PerOp   float64
	// Serial marks work that stays on one goroutine however many cores
	// the benchmark has; it matters only in a Parallel limit.
	Serial bool
}

// Limit is the bound of the benchmarks it matches.
type Limit struct {
	Pkg   string // import path
	Bench string // full benchmark name, without the -N suffix; a path.Match pattern
	Terms []Term
	// Parallel says the work spreads over the benchmark's GOMAXPROCS
	// cores, but for the Serial terms. Otherwise the bound is one core's.
	Parallel bool
	// Why says where the terms come from, in the code.
	Why string
}

func perByte(kernel string, n float64) Term { return Term{Kernel: kernel, PerByte: n} }
func perOp(kernel string, n float64) Term   { return Term{Kernel: kernel, PerOp: n} }
func serial(t Term) Term                    { t.Serial = true; return t }

// Limits maps benchmarks to the work their operations must do. The first
// matching entry wins; a benchmark no entry matches has no limit (pure
// computation with no kernel to read against, or bound by fsyncs and Raft
// in ways no kernel models: placement, meta, metarpc, signature checks).
//
// When a benchmarked path changes what it does per byte, change its terms
// here.
var Limits = []Limit{
	// cairn/erasure: the pure pieces.
	{Pkg: "cairn/erasure", Bench: "BenchmarkChunkCID1MiB", Terms: []Term{perByte(SHA256, 1)},
		Why: "one SHA-256 pass"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkVerify1MiB", Terms: []Term{perByte(SHA256, 1)},
		Why: "one SHA-256 pass"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkChunker", Terms: []Term{perByte(Copy, 1)},
		Why: "the stream is read into the chunk buffer"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkEncode1MiB/4+2/1goroutine", Terms: []Term{perByte(Copy, 1), perByte(RSEncode4p2, 1)},
		Why: "the chunk is split into the data shards, then parity is coded"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkEncode1MiB/4+2", Terms: []Term{serial(perByte(Copy, 1)), perByte(RSEncode4p2, 1)}, Parallel: true,
		Why: "as one goroutine, the coding spread over reedsolomon's goroutines"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkEncode1MiB/8+4", Terms: []Term{serial(perByte(Copy, 1)), perByte(RSEncode4p2, 2)}, Parallel: true,
		Why: "8+4 computes 4 parity bytes per 8 data bytes, twice the multiply-adds per byte of 4+2"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkReconstructData1MiB/*/1goroutine", Terms: []Term{perByte(RSEncode4p2, 1)},
		Why: "rebuilding 2 shards from k is the multiply-adds of a 4+2 encode"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkReconstructData1MiB/*", Terms: []Term{perByte(RSEncode4p2, 1)}, Parallel: true,
		Why: "as one goroutine, over reedsolomon's goroutines"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkJoin1MiB", Terms: []Term{perByte(Copy, 1)},
		Why: "the data shards are appended to the output"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkDataPathCPU", Terms: []Term{
		perByte(MD5, 1), perByte(SHA256, 1), perByte(RSEncode4p2, 1), perByte(Copy, 1),
	}, Why: "MD5 of the stream, the chunk CID, the parity, and the stream read into the chunk buffer (the data shards are that buffer; shard names hash nothing)"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkDataPathCPUSealed", Terms: []Term{
		perByte(MD5, 1), perByte(SHA256, 1), perByte(AESGCM, 1), perByte(RSEncode4p2, 1), perByte(HighwayHash, 1.5), perByte(Copy, 1),
	}, Why: "as DataPathCPU, and the seal (in place) and the sums of the 1.5 bytes of shards"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkSeal1MiB", Terms: []Term{perByte(AESGCM, 1)},
		Why: "one AES-256-GCM pass (the per-chunk key is one HMAC of a few bytes)"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkOpen1MiB", Terms: []Term{perByte(AESGCM, 1)},
		Why: "one AES-256-GCM pass that also checks the tag"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkShardSum256KiB", Terms: []Term{perByte(HighwayHash, 1)},
		Why: "one keyed HighwayHash pass over the shard"},
	{Pkg: "cairn/erasure", Bench: "BenchmarkShardSumBLAKE3256KiB", Terms: []Term{perByte(BLAKE3, 1)},
		Why: "one BLAKE3 pass over the shard (older stripes' sums)"},

	// cairn/s3gw: request payloads. The decoders' copies go into io.Copy's
	// small buffer, which stays in L1 and beats the Copy kernel, so only
	// the hashing counts; BenchmarkPlainCopy is that copy alone, the
	// decoders' other baseline.
	{Pkg: "cairn/s3gw", Bench: "BenchmarkChunkedDecoder", Terms: []Term{perByte(SHA256, 1)},
		Why: "every chunk's payload is hashed for its signature"},
	{Pkg: "cairn/s3gw", Bench: "BenchmarkChunkedDecoderUnsigned", Terms: []Term{perByte(CRC32C, 1)},
		Why: "the CRC32C trailer covers every byte"},

	// cairn/internal/blob: a DirStore (format 1) on a real disk and on tmpfs.
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkPut/disk", Terms: []Term{perByte(BLAKE3, 1), perOp(Fsync, 1)},
		Why: "verify, and a new file written and fsynced; the rename and the second sync (of the name) are left out"},
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkPut/tmpfs", Terms: []Term{perByte(BLAKE3, 1), perByte(Copy, 1)},
		Why: "verify, and the write into the page cache (fsync is free on tmpfs)"},
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkPutParallel/tmpfs", Terms: []Term{perByte(BLAKE3, 1), perByte(Copy, 1)}, Parallel: true,
		Why: "as Put/tmpfs, puts spread over the cores (on a disk, overlapping fsyncs follow no kernel)"},
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkPutExisting", Terms: []Term{perByte(BLAKE3, 1)},
		Why: "verify; the shard is held, so no write"},
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkGet", Terms: []Term{perByte(Copy, 1), perByte(BLAKE3, 1)},
		Why: "read from the page cache, verify"},
	// cairn/internal/blob: a LogStore (the format new stores get). On a
	// disk no kernel bounds it: it creates no file (Fsync's kernel does),
	// and its syncs are shared.
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkLogPut/tmpfs", Terms: []Term{perByte(BLAKE3, 1), perByte(CRC32C, 1), perByte(Copy, 1)},
		Why: "verify, the CRC, and the write into tmpfs's pages"},
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkLogPutParallel/tmpfs", Terms: []Term{perByte(BLAKE3, 1), perByte(CRC32C, 1), perByte(Copy, 1)}, Parallel: true,
		Why: "as LogPut/tmpfs, puts spread over the cores"},
	{Pkg: "cairn/internal/blob", Bench: "BenchmarkLogGet", Terms: []Term{perByte(Copy, 1), perByte(CRC32C, 1)},
		Why: "read from the page cache, check the CRC"},

	// cairn/internal/nodeapi: shards over loopback HTTP, one request at a
	// time unless parallel.
	{Pkg: "cairn/internal/nodeapi", Bench: "BenchmarkPut/mem", Terms: []Term{perByte(Copy, 2), perByte(BLAKE3, 1)},
		Why: "client into the socket, socket into the node, the node verifies"},
	{Pkg: "cairn/internal/nodeapi", Bench: "BenchmarkPut/dir", Terms: []Term{perByte(Copy, 2), perByte(BLAKE3, 1), perOp(Fsync, 1)},
		Why: "as mem, and a new file written and fsynced"},
	{Pkg: "cairn/internal/nodeapi", Bench: "BenchmarkGet/mem", Terms: []Term{perByte(Copy, 3), perByte(BLAKE3, 1)},
		Why: "store into the node's buffer, into the socket, into the client; the client verifies"},
	{Pkg: "cairn/internal/nodeapi", Bench: "BenchmarkGet/dir", Terms: []Term{perByte(Copy, 3), perByte(BLAKE3, 2)},
		Why: "as mem, from the page cache, and the node verifies too"},
	{Pkg: "cairn/internal/nodeapi", Bench: "BenchmarkGetParallel", Terms: []Term{perByte(Copy, 3), perByte(BLAKE3, 1)}, Parallel: true,
		Why: "as Get/mem, requests spread over the cores"},

	// cairn/internal/gateway: the whole in-process path, shards in memory,
	// chunks coded in parallel.
	{Pkg: "cairn/internal/gateway", Bench: "BenchmarkDataPath/put", Terms: []Term{
		serial(perByte(Copy, 1)), serial(perByte(MD5, 1)),
		perByte(SHA256, 1), perByte(RSEncode4p2, 1), perByte(Copy, 1.5),
	}, Parallel: true, Why: "read into chunk buffers and MD5 on the request's goroutine; per chunk, in parallel: the chunk CID, parity coded in place, the memory store's copy of 1.5 bytes of shards (shard names hash nothing)"},
	{Pkg: "cairn/internal/gateway", Bench: "BenchmarkDataPath/get", Terms: []Term{
		perByte(Copy, 1), perByte(SHA256, 1),
	}, Parallel: true, Why: "per chunk, in parallel: the memory store's copy of the data shards into their places in the chunk buffer, then the chunk's CID, as the store does not vouch for named shards (the reader writes the chunk buffer out with no copy of its own)"},
	{Pkg: "cairn/internal/gateway", Bench: "BenchmarkDataPath/put-sealed", Terms: []Term{
		serial(perByte(Copy, 1)), serial(perByte(MD5, 1)),
		perByte(SHA256, 1), perByte(AESGCM, 1), perByte(RSEncode4p2, 1), perByte(HighwayHash, 1.5), perByte(Copy, 1.5),
	}, Parallel: true, Why: "as put, and per chunk the seal (in place) and the sums of its 1.5 bytes of shards"},
	{Pkg: "cairn/internal/gateway", Bench: "BenchmarkDataPath/get-sealed", Terms: []Term{
		perByte(Copy, 1), perByte(AESGCM, 1),
	}, Parallel: true, Why: "per chunk, in parallel: the memory store's copy of the data shards into the chunk buffer, then the seal opened in place, which is the check (no CID is hashed)"},
}

// Criterion is a goal one benchmark is held to: a fraction of its limit.
type Criterion struct {
	Label string // what the summary line calls it
	Pkg   string
	Bench string // exact name, without -N
	Goal  float64
	Bound string // what the bound is called, such as "one-core kernel bound"
}

// Criteria are the goals the summary reports on.
var Criteria = []Criterion{
	{Label: "in-process data path", Pkg: "cairn/erasure", Bench: "BenchmarkDataPathCPU", Goal: 0.70, Bound: "one-core kernel bound"},
}
