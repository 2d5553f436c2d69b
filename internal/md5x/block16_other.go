//go:build !amd64 || purego

package md5x

const haveKernel = false

func block16(state *[64]uint32, base *byte, offs *[16]int32, n int, mask uint16) {
	panic("md5x: no multi-lane kernel on this platform")
}
