package blob

import (
	"errors"
	"io"
	"os"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// canDirect: Linux offers direct I/O (O_DIRECT) on most file systems.
const canDirect = true

// openAppend creates a segment file for appends, with direct I/O if asked.
func openAppend(path string, direct bool) (*os.File, error) {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if direct {
		flag |= unix.O_DIRECT
	}
	return os.OpenFile(path, flag, filePerm)
}

// openRead opens a segment file for reads, with direct I/O if asked.
func openRead(path string, direct bool) (*os.File, error) {
	flag := os.O_RDONLY
	if direct {
		flag |= unix.O_DIRECT
	}
	return os.OpenFile(path, flag, 0)
}

// adviseRandom turns read-ahead off for f, a segment file Gets read
// through the page cache (POSIX_FADV_RANDOM). A Get reads one record,
// and the records after it belong to other chunks: read-ahead brought
// them in for nothing, and on the machines we measured made a read of a
// shard not yet in the page cache cost four times the CPU (2.6 against
// 0.59 ms per MiB: bench/RESULTS.md, 2026-12-07). Shards written with
// direct I/O are not in the page cache until a Get reads them. Advice
// only: where it is not taken, reads go on as before.
func adviseRandom(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), 0, 0, unix.FADV_RANDOM) })
	}
}

// clearDirect turns direct I/O off for f.
func clearDirect(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			ferr = err
			return
		}
		_, ferr = unix.FcntlInt(fd, unix.F_SETFL, fl&^unix.O_DIRECT)
	})
	return errors.Join(err, ferr)
}

// isInvalid reports EINVAL, what a file system says to direct I/O it
// does not support.
func isInvalid(err error) bool { return errors.Is(err, syscall.EINVAL) }

// writeVec writes bufs one after another at off, with as few pwritev(2)
// calls as the kernel's limit on vectors allows.
func writeVec(f *os.File, bufs [][]byte, off int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	bufs = slices.Clone(bufs) // a partial write trims them; the caller may retry with its own
	for len(bufs) > 0 {
		vec := bufs[:min(len(bufs), 512)]
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Pwritev(int(fd), vec, off)
			return true
		}); err != nil {
			return err
		}
		if werr != nil {
			if werr == unix.EINTR {
				continue
			}
			return werr
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		// Skip what was written, splitting a buffer written in part.
		for n > 0 {
			if n < len(bufs[0]) {
				bufs[0] = bufs[0][n:]
				break
			}
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
	}
	return nil
}
