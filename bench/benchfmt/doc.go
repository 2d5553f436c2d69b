// Package benchfmt reads the output of `go test -bench` and prints it as
// tables, one per package, in which every figure is also a fraction of its
// limit: the throughput the raw kernels it rests on (SHA-256, MD5,
// Reed-Solomon, memory copy, …), measured in the same run, allow.
//
// # Kernels
//
// A kernel is a benchmark named BenchmarkKernel<Name>, with no
// sub-benchmarks, that runs one raw operation over a buffer (1 MiB unless
// its doc says otherwise) with b.SetBytes set to the bytes processed, or,
// for a per-operation kernel such as Fsync, once per op. The names in use
// are the constants SHA256, BLAKE3, HighwayHash, MD5, AESGCM, Copy,
// RSEncode4p2, CRC32C and Fsync. Each package that has bounded benchmarks defines the kernels they
// need, so that a figure and its kernels are measured minutes apart on the
// same machine; a kernel missing from a package is taken from another
// package of the same run, and the table marks it with a dagger.
//
// # Limits
//
// Limits, one table, maps benchmarks to the work each of their operations
// must do, as terms: so many bytes of a byte kernel per byte the
// benchmark counts (b.SetBytes), or so many operations of a per-op kernel
// per operation. The bound on an operation's time is the sum of its terms'
// kernel times, on one core; for a benchmark whose work spreads over
// GOMAXPROCS cores it is the larger of that sum divided by the cores and the
// sum of the terms that stay on one goroutine. "Of limit" is the bound's
// time over the measured time: 100% means the code does nothing but its
// kernels. Terms count only the work the operation's contract requires, so
// that no implementation beats the bound but by the few percent that steps
// sharing the caches gain over kernels run apart.
//
// # Tables
//
// Run.Write prints, per package, benchmark, ns/op, ± (half the range of
// the samples' ns/op over their median), MB/s, allocs/op, "of limit" and
// the limit itself (its throughput and formula: "MD5 + 2.5 SHA256 + …",
// serial terms in brackets), then a footnote for borrowed kernels (†) and
// for fractions over 100% (‡: the machine's speed changed between the
// kernel's run and the benchmark's). Run.Summary gives one line per
// criterion in Criteria, such as the in-process data path's 70% goal.
//
// # Repeated runs
//
// With -count N every metric of a benchmark is the median of its N
// samples, kernels included.
package benchfmt
