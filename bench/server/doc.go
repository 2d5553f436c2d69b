// Package server runs the S3 servers the benchmarks drive — Cairn's
// `storaged --dev`, a cluster of storaged processes (StartCluster: six
// nodes in three zones, as the integration tests start them), and MinIO —
// as child processes listening on loopback, waits until they serve, and
// reads their resident memory and CPU time from /proc (Linux).
//
// A Proc is owned by its caller, who must Stop it; on Linux the child is
// also killed if the benchmark process dies (PR_SET_PDEATHSIG), so a
// benchmark killed with SIGKILL leaves no server behind.
package server
