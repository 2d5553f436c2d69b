// Package compare runs the same S3 workloads against Cairn and against
// MinIO on the same machine, in alternation, and reports the two side by
// side with their memory use and the machine's raw limits (kernels). It
// is what `make bench-compare` runs, through cmd/compare.
//
// # Two modes
//
//   - Dev (the default): `storaged --dev` (6 storage nodes in one process,
//     4+2) against one MinIO process with 6 drive directories (EC:2, so
//     also 4+2), each driven through its one S3 endpoint.
//   - Cluster (Config.Cluster, `compare --cluster`): the path a real
//     cluster's bytes take. Six storaged processes on loopback (3 zones of
//     2, every node a storage node, one in each zone also a metadata voter
//     and gateway; 4+2), driven through the three gateways, against
//     MinIO's distributed mode on six processes with one drive each (one
//     erasure set, EC:2), driven through its six endpoints; the load
//     generator takes the endpoints in turn, as a round-robin load
//     balancer would. MinIO in a container (it finds /.dockerenv) refuses
//     endpoints on loopback, and hiding the file takes more than a mount
//     namespace (a bind mount over it still stats), so there it runs in a
//     network namespace of the comparison's own, reached through a veth
//     pair with loopback's MTU; the TCP rate into it joins the kernels.
//     Memory and CPU are summed over each side's six processes.
//
// # Secure variant
//
// By default Cairn's S3 port and all of MinIO are plain HTTP and MinIO
// stores plaintext, while Cairn runs mutual TLS 1.3 between its nodes and
// seals (AES-256-GCM) every chunk at rest whatever it is told. With
// Config.Secure (`compare --secure`, in either mode) both do the same
// work: both serve S3 over HTTPS with one server certificate of a
// throwaway CA (ECDSA P-256, written in the run's temporary directory,
// valid for 127.0.0.1 and MinIO's namespace address), which the load
// generator alone trusts; MinIO gets it through --certs-dir, and in the
// cluster mode its nodes' endpoints become https://, so they talk TLS to
// each other too; and MinIO encrypts at rest with SSE-S3, under a static
// KMS key (MINIO_KMS_SECRET_KEY) and as the bench bucket's default
// encryption. After every MinIO run's timed phase an object the run wrote
// must report x-amz-server-side-encryption AES256, or the comparison
// fails. The report's mode line says what each side runs. In the dev mode
// neither side has traffic between nodes (Cairn's six share its process,
// and MinIO is one).
//
// # What it does
//
//   - Builds storaged from the working tree, and MinIO at the pinned
//     MinIOVersion from its Go module (once: the binary is cached under
//     the user cache directory, cairn-bench/minio-VERSION).
//   - Measures the machine's kernels: loopback TCP, mutual TLS 1.3 over
//     loopback on one connection and on one per CPU, AES-256-GCM sealing
//     of 1 MiB chunks with a key derived per chunk, SHA-256, MD5, BLAKE3,
//     HighwayHash, Reed-Solomon 4+2 encoding and memory copy on one core,
//     sequential disk writes with fsync, and the latency of a small fsync.
//   - Starts both sides with their data under one temporary directory on
//     the same disk.
//   - Runs each workload of the plan against both, alternating which goes
//     first from round to round (round 1: Cairn, MinIO; round 2: MinIO,
//     Cairn; …), and reports for each the round with the most operations
//     per second (best of Rounds). With Config.ProfileDir, it saves a CPU
//     profile of each Cairn process over each of Cairn's timed phases.
//   - Loads each side with a 50/50 GET/PUT mix of 64 MiB objects at
//     concurrency 64, sampling its VmRSS every 100 ms, and reads VmRSS
//     again after an idle period.
//   - Stops every process and removes every temporary directory (and the
//     network namespace), also when its context is cancelled (Ctrl-C).
//
// Both sides stay up for the whole comparison, so the idle one's
// background work (MinIO's scanner, Cairn's gossip) runs beside the busy
// one's load; the load generator runs in the same process as the driver, on
// the same cores as the servers.
package compare
