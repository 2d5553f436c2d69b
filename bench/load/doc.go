// Package load is an S3 load generator: it drives any S3 endpoint with one
// workload (put, get, mixed or list) from Concurrency goroutines and
// measures throughput and latency percentiles per operation type. Command
// s3load (bench/cmd/s3load) is its command line; package compare runs it
// against Cairn and MinIO.
//
//	cfg := load.DefaultConfig()
//	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = "127.0.0.1:9000", ak, sk
//	cfg.Bucket, cfg.Workload, cfg.Size = "bench", load.WorkloadGet, 64<<20
//	res, err := load.Run(ctx, cfg)
//	load.WriteTable(os.Stdout, res)
//
// A benchmark that reads one data set under changing conditions (package
// heal: a healthy cluster, then one repairing) uploads it once with
// Prepare and runs the get workload over it as often as it likes with
// Config.Reuse and Keep; Config.Stop ends a timed phase when something
// else decides, such as a repair finishing.
//
// # Guarantees
//
//   - Object bodies are Body streams: deterministic for a key and size,
//     different for every key (a content-addressed store cannot deduplicate
//     them), generated as they are sent and seekable, never held whole in
//     memory.
//   - Every GET is checked: its length always, and unless NoVerify the
//     xxhash64 of its bytes against the one taken at upload. A GET that
//     reads other bytes is an error, never a success.
//   - Latencies go into HDR histograms of fixed size (about 200 KiB each),
//     however long the run; percentiles are within 0.1%, the maximum exact.
//   - Run removes every object it wrote, and a bucket it created, unless
//     Keep; keys start with a prefix unique to the run.
//   - Run's goroutines (workers, the progress line) have ended when it
//     returns.
package load
