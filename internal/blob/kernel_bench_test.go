package blob_test

import (
	"testing"

	"cairn/internal/kerneltest"
)

// The raw kernels the store's benchmarks read against (see kerneltest).

func BenchmarkKernelSHA256(b *testing.B) { kerneltest.SHA256(b) }
func BenchmarkKernelBLAKE3(b *testing.B) { kerneltest.BLAKE3(b) }
func BenchmarkKernelCopy(b *testing.B)   { kerneltest.Copy(b) }
func BenchmarkKernelCRC32C(b *testing.B) { kerneltest.CRC32C(b) }

// BenchmarkKernelFsync is the least a durable new shard of benchShard
// bytes costs on this disk.
func BenchmarkKernelFsync(b *testing.B) { kerneltest.Fsync(b, benchShard) }
