package durable

import (
	"os"

	"golang.org/x/sys/unix"
)

const canSyncFS = true

func syncFS(f *os.File) error { return unix.Syncfs(int(f.Fd())) }

func deviceOf(f *os.File) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, err
	}
	return st.Dev, nil
}
