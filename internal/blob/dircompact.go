package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"cairn/internal/durable"
)

var _ Compactor = (*DirStore)(nil)

// Compact implements Compactor. A DirStore frees a shard's space when it
// deletes its file, so all there is left to return is the fan-out
// directories that no shard uses any more: Compact removes the empty
// ones (a Put creates its directory again). It reads only the top
// directory.
func (s *DirStore) Compact(ctx context.Context) (st CompactStats, err error) {
	begin := time.Now()
	defer func() { st.Duration = time.Since(begin) }()
	shards := filepath.Join(s.dir, shardsDir)
	fans, err := os.ReadDir(shards)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("compact: %w", err)
	}
	s.fans.Lock()
	defer s.fans.Unlock()
	for _, fan := range fans {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if !fan.IsDir() {
			continue
		}
		p := filepath.Join(shards, fan.Name())
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		// rmdir(2) removes only an empty directory. A Put waits for
		// fans to move its shard in, and creates the directory again.
		err = syscall.Rmdir(p)
		switch {
		case err == nil:
			st.Removed++
			st.Freed += fi.Size()
		case errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST), errors.Is(err, fs.ErrNotExist):
		default:
			return st, fmt.Errorf("compact: %w", &fs.PathError{Op: "rmdir", Path: p, Err: err})
		}
	}
	if st.Removed > 0 {
		if err := durable.SyncDir(shards); err != nil {
			return st, fmt.Errorf("compact: %w", err)
		}
	}
	return st, nil
}
