package meta

import "golang.org/x/sys/unix"

// dropResident unmaps the pages of [addr, addr+n) from the process
// (MADV_DONTNEED); a clean shared file mapping reads them back from the
// file on the next access.
func dropResident(addr, n uintptr) error {
	if addr == 0 || n == 0 {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
