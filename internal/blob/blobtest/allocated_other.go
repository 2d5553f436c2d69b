//go:build !unix

package blobtest

import "io/fs"

// allocated is what fi takes on its file system, as far as this platform
// says: its size.
func allocated(fi fs.FileInfo) int64 { return fi.Size() }
