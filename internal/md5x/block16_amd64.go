//go:build amd64 && !purego

package md5x

import "golang.org/x/sys/cpu"

// haveKernel reports whether block16 can run: it needs AVX-512 F (and the
// OS saving ZMM state, which cpu checks).
var haveKernel = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

// block16 hashes n 64-byte blocks on each lane i whose bit is set in
// mask: lane i's blocks start at base+offs[i], and its state is
// state[i], state[16+i], state[32+i], state[48+i] (a, b, c, d). Other
// lanes' state and memory are not touched.
//
//go:noescape
func block16(state *[64]uint32, base *byte, offs *[16]int32, n int, mask uint16)
