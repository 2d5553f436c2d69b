package node

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockFile is the file in a data directory that the storaged using it
// holds locked (flock), with its process ID in it.
const lockFile = "LOCK"

// lockDataDir takes an exclusive lock on dir for this process, and writes
// its PID in the lock file. A second storaged on the same directory fails
// at once, naming the process that holds it, rather than waiting on the
// metadata database's own lock. The lock goes with the process (the
// kernel drops it when the process ends, however it ends); unlock
// releases it sooner.
func lockDataDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b, _ := io.ReadAll(io.LimitReader(f, 32))
			holder := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "process " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("data directory %s is in use by %s (another storaged with the same --data?)", dir, holder)
		}
		return nil, fmt.Errorf("lock the data directory %s: %w", dir, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	return func() { f.Close() }, nil
}
