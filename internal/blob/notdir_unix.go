//go:build unix

package blob

import (
	"errors"
	"syscall"
)

// isNotDir reports whether err is ENOTDIR: a path component that should be
// a directory is a file (or was replaced by one).
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
