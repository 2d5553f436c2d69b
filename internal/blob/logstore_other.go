//go:build !linux

package blob

import (
	"os"
)

const canDirect = false

func openAppend(path string, _ bool) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
}

func openRead(path string, _ bool) (*os.File, error) { return os.Open(path) }

func adviseRandom(*os.File) {}

func clearDirect(*os.File) error { return nil }

func isInvalid(error) bool { return false }

// writeVec writes bufs one after another at off.
func writeVec(f *os.File, bufs [][]byte, off int64) error {
	for _, b := range bufs {
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}
