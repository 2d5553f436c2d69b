//go:build unix

package blobtest

import (
	"io/fs"
	"syscall"
)

// allocated is what fi takes on its file system: st_blocks*512.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
