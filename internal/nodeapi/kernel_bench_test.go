package nodeapi_test

import (
	"testing"

	"cairn/internal/kerneltest"
)

// The raw kernels the node API's benchmarks read against (see kerneltest).
// The Fsync kernel the dir variants read against is cairn/internal/blob's.

func BenchmarkKernelSHA256(b *testing.B) { kerneltest.SHA256(b) }
func BenchmarkKernelBLAKE3(b *testing.B) { kerneltest.BLAKE3(b) }
func BenchmarkKernelCopy(b *testing.B)   { kerneltest.Copy(b) }
func BenchmarkKernelAESGCM(b *testing.B) { kerneltest.AESGCM(b) }
