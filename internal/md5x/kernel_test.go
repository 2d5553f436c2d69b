package md5x

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// runLanes hashes bufs[i] (whole blocks each, all the same length) with
// block16 from digests' states and returns the states after.
func runLanes(t testing.TB, bufs [][]byte) [][4]uint32 {
	t.Helper()
	var st [64]uint32
	var offs [16]int32
	var mask uint16
	base := unsafe.Pointer(unsafe.SliceData(bufs[0]))
	for i, b := range bufs {
		for j, v := range [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476} {
			st[16*j+i] = v
		}
		off := int64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) - int64(uintptr(base))
		if off != int64(int32(off)) {
			t.Fatalf("buffers %d bytes apart: more than the kernel's int32 offsets reach", off)
		}
		offs[i] = int32(off)
		mask |= 1 << i
	}
	block16(&st, (*byte)(base), &offs, len(bufs[0])/64, mask)
	out := make([][4]uint32, len(bufs))
	for i := range bufs {
		for j := range 4 {
			out[i][j] = st[16*j+i]
		}
	}
	return out
}

func TestKernel(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, lanes := range []int{1, 2, 3, 7, 15, 16} {
		for _, blocks := range []int{1, 2, 17} {
			t.Run(fmt.Sprintf("%dx%d", lanes, blocks), func(t *testing.T) {
				arena := make([]byte, lanes*(blocks*64+7)+16)
				for i := range arena {
					arena[i] = byte(r.Uint32())
				}
				bufs := make([][]byte, lanes)
				for i := range bufs {
					off := i*(blocks*64+7) + i%5 // odd alignments
					bufs[i] = arena[off : off+blocks*64]
				}
				got := runLanes(t, bufs)
				for i, b := range bufs {
					d := md5.New()
					d.Write(b)
					want, err := getState(d)
					if err != nil {
						t.Fatal(err)
					}
					if got[i] != want.s {
						t.Errorf("lane %d: state %x, want %x", i, got[i], want.s)
					}
				}
			})
		}
	}
}

// BenchmarkKernel hashes 64 KiB on each of 1–16 lanes in one call; the
// bytes counted are all lanes'. Compare with BenchmarkCryptoMD5 (one core).
func BenchmarkKernel(b *testing.B) {
	if !haveKernel {
		b.Skip("no AVX-512")
	}
	const size = 64 << 10
	for _, lanes := range []int{1, 2, 4, 8, 16} {
		b.Run(fmt.Sprintf("lanes=%d", lanes), func(b *testing.B) {
			arena := make([]byte, lanes*size)
			bufs := make([][]byte, lanes)
			for i := range bufs {
				bufs[i] = arena[i*size : (i+1)*size]
			}
			b.SetBytes(int64(lanes * size))
			b.ReportAllocs()
			for b.Loop() {
				runLanes(b, bufs)
			}
		})
	}
}

func BenchmarkCryptoMD5(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	d := md5.New()
	for b.Loop() {
		d.Write(buf)
	}
}
