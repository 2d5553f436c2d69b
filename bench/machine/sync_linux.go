package machine

import (
	"os"
	"syscall"
)

// datasync makes f's data durable with fdatasync(2).
func datasync(f *os.File) error {
	return syscall.Fdatasync(int(f.Fd()))
}
