// Package compare runs the same S3 workloads against Cairn's dev cluster
// and against MinIO on the same machine, in alternation, and reports the
// two side by side with Cairn's memory use and the machine's raw limits.
// It is what `make bench-compare` runs, through cmd/compare.
//
// # What it does
//
//   - Builds storaged from the working tree, and MinIO at the pinned
//     MinIOVersion from its Go module (once: the binary is cached under
//     the user cache directory, cairn-bench/minio-VERSION).
//   - Measures the machine: loopback TCP throughput, sequential disk writes
//     with fsync, the latency of a small fsync, SHA-256 on one core.
//   - Starts `storaged --dev` (6 storage nodes, 4+2) and MinIO (6 drive
//     directories, EC:2, so also 4+2) with their data under one temporary
//     directory on the same disk, both serving S3 on loopback.
//   - Runs each workload of the plan against both, alternating which goes
//     first from round to round (round 1: Cairn, MinIO; round 2: MinIO,
//     Cairn; …), and reports for each the round with the most operations
//     per second (best of Rounds).
//   - Loads each server with a 50/50 GET/PUT mix of 64 MiB objects at
//     concurrency 64, sampling its VmRSS every 100 ms, and reads VmRSS
//     again after an idle period.
//   - Stops both servers and removes every temporary directory, also when
//     its context is cancelled (Ctrl-C).
//
// Both servers stay up for the whole comparison, so the idle one's
// background work (MinIO's scanner, Cairn's gossip) runs beside the busy
// one's load; the load generator runs in the same process as the driver, on
// the same cores as the servers.
package compare
