//go:build unix

package blob

import "syscall"

// statfs returns the bytes available to an unprivileged user and the total
// size of the file system holding path.
func statfs(path string) (free, capacity int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	bsize := int64(st.Bsize)
	return int64(st.Bavail) * bsize, int64(st.Blocks) * bsize, nil
}
