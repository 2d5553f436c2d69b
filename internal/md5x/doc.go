// Package md5x hashes many MD5 streams at once: the ETags of a gateway's
// concurrent uploads.
//
// MD5 is latency-bound: each of a block's 64 steps needs the one before,
// so one stream cannot use a wide core. Sixteen streams can: the kernel
// (block16_amd64.s, written by gen_block16.go) keeps one stream per dword
// lane of the ZMM registers, computes each step's round function with one
// VPTERNLOGD and its rotate with one VPROLD, and masks the lanes in use
// with a k register, so one call runs 1 to 16 lanes the same number of
// blocks. Message words are gathered per lane with VPGATHERDD (one base,
// an int32 offset per lane; a lane further than 2 GiB from the first
// waits for a later call). The gathers of the next block are issued in the
// last round of the current one, as each word's register falls free:
// gathering a block's sixteen words at its start cost 17% more at 16
// lanes (5.7–6.0 against 7.0 GB/s). A 16-lane step costs about what a
// one-lane step does.
//
// A Batcher gathers the lanes. Each upload opens a Stream and submits its
// chunks whole (up to 8 queued per stream); Submit returns a wait func,
// which the caller must call before it changes or reuses the chunk.
// Rounds run in the goroutines that wait for their chunks: the Batcher has
// no goroutine of its own, and rounds of different streams may run at
// once. A round is due when every open stream not in a round has a chunk
// pending (or 16 have), when a stream wants its Sum or has closed, or when
// a caller has waited MaxWait (20 ms) for its chunk; then one kernel call
// hashes the whole blocks all the round's chunks have, and what is left of
// the longer ones goes to the next round. A stream's state lives in a
// crypto/md5 digest between rounds (read and restored through its
// marshalled form), so the partial blocks around a chunk's blocks, the
// tail and the padding are crypto/md5's. With fewer than three streams
// open, or a round of fewer than three chunks, or a CPU without AVX-512,
// chunks are hashed with crypto/md5 alone.
//
// Measured on the 2-core AVX-512 Xeon this was written on, a shared and
// noisy machine (go test -bench): crypto/md5 590–650 MB/s on one core;
// the kernel 400–670 MB/s for one lane and 7.0 GB/s for sixteen. One lane
// is no faster than crypto/md5 and two barely pay, hence three. The
// Batcher, N uploads of 16 chunks of 1 MiB at once hashing only (CPU per
// MiB): crypto/md5 1.62 ms whatever N; md5x 1.14 ms for 3, 0.69 for 5,
// 0.41 for 8, 0.24 for 16. In a gateway's PUT in miniature (BenchmarkUploads:
// SHA-256 and AES-GCM per chunk, 4 chunks in flight per upload), chunks
// arrive slower than a kernel hashes them, so a round's lanes depend on how
// long chunks may wait: with 16 uploads, 3.5 chunks per round with a 1 ms
// wait, 4.7 with 2 ms, 9.2 with 5 ms, 11 with 10 ms (1.70, 1.63, 1.40,
// 1.40 ms of CPU per MiB, against 2.8 with crypto/md5 alone). In storaged
// --dev under bench/cmd/cpuload's PUT (16 uploads of 64 MiB), 6.0 chunks
// per round with 5 ms and 10.8 with 20 ms; in the six-process cluster
// (about five uploads per gateway) 3.6 and 3.9. There the gateways' MD5
// went from 1.8 ms of CPU per MiB stored (crypto/md5 and md5-simd's
// scalar fallback) to 0.7 (profiles of a cpuload PUT). A closed stream's
// chunks do not wait for others, so an object of a few chunks waits at
// most until its body is read; a longer one among slower uploads may see
// its chunks wait up to MaxWait each (with 4 chunks in flight per upload,
// that bounds it near 4 MiB per 20 ms while the others lag).
package md5x

//go:generate go run gen_block16.go
