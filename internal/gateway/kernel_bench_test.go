package gateway

import (
	"testing"

	"cairn/internal/kerneltest"
)

// The raw kernels BenchmarkDataPath reads against (see kerneltest).

func BenchmarkKernelSHA256(b *testing.B)      { kerneltest.SHA256(b) }
func BenchmarkKernelBLAKE3(b *testing.B)      { kerneltest.BLAKE3(b) }
func BenchmarkKernelHighwayHash(b *testing.B) { kerneltest.HighwayHash(b) }
func BenchmarkKernelMD5(b *testing.B)         { kerneltest.MD5(b) }
func BenchmarkKernelCopy(b *testing.B)        { kerneltest.Copy(b) }
func BenchmarkKernelAESGCM(b *testing.B)      { kerneltest.AESGCM(b) }
func BenchmarkKernelRSEncode4p2(b *testing.B) { kerneltest.RSEncode4p2(b) }
