// Package machine describes the machine a benchmark runs on and measures
// its raw limits in the same run as the benchmark: one TCP stream over
// loopback, sequential disk writes made durable, the latency of a small
// fsync, SHA-256 on one core, and Reed-Solomon reconstruction as repair
// does it. A figure means little without the limits the same machine
// showed minutes apart (bench/RESULTS.md records both).
//
// Every measurement is bounded in bytes or time, touches only loopback and
// the directory it is given, and removes what it wrote.
package machine
