// Package machine describes the machine a benchmark runs on and measures
// its raw limits in the same run as the benchmark: one TCP stream over
// loopback (or to a listener the caller made in another network
// namespace), mutual TLS 1.3 over loopback as nodes speak it, sequential
// disk writes made durable, the latency of a small fsync, and per 1 MiB
// chunk on one core: SHA-256, MD5, BLAKE3, AES-256-GCM sealing with a key
// per chunk, memory copy, Reed-Solomon encoding as a gateway does it and
// reconstruction as repair does it. A figure means little without the
// limits the same machine showed minutes apart (bench/RESULTS.md records
// both).
//
// Every measurement is bounded in bytes or time, touches only loopback
// (or the listener it is given) and the directory it is given, and
// removes what it wrote.
package machine
