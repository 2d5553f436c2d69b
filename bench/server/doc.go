// Package server runs the S3 servers the benchmarks drive — Cairn's
// `storaged --dev`, a cluster of storaged processes (StartCluster: six
// nodes in three zones, as the integration tests start them), MinIO on one
// process (StartMinIO) and MinIO's distributed mode (StartMinIOCluster) —
// as child processes listening on loopback, or in a network namespace of
// the benchmark's own (Netns) where MinIO refuses loopback, waits until
// they serve, and reads their resident memory and CPU time from /proc
// (Linux).
//
// A Proc is owned by its caller, who must Stop it; on Linux the child is
// also killed if the benchmark process dies (PR_SET_PDEATHSIG), so a
// benchmark killed with SIGKILL leaves no server behind, and a Netns goes
// with the process that holds it.
package server
