//go:build unix

package blob

import (
	"errors"
	"os"
	"syscall"
)

// isNotDir reports whether err is ENOTDIR: a path component that should be
// a directory is a file (or was replaced by one).
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// unlinked reports whether f's file has been removed from the file
// system (its link count is zero).
func unlinked(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
