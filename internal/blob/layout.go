package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"cairn/internal/durable"
)

// makeLayout creates what is missing of a store's layout in dir: the
// subdirectories subs and the version file holding version. It makes the
// new entries durable, syncing first the subdirectories in syncFirst
// (whose own new entries, such as fan-out directories, need it).
func makeLayout(dir, version string, subs, syncFirst []string) error {
	created := false
	for _, sub := range subs {
		p := filepath.Join(dir, sub)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := os.MkdirAll(p, dirPerm); err != nil {
			return err
		}
		created = true
	}
	vf := filepath.Join(dir, versionFile)
	if _, err := os.Stat(vf); errors.Is(err, fs.ErrNotExist) {
		if err := durable.WriteFile(vf, []byte(version), filePerm); err != nil {
			return err
		}
		created = true
	}
	if !created {
		return nil
	}
	for _, sub := range syncFirst {
		if err := durable.SyncDir(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	if err := durable.SyncDir(dir); err != nil {
		return err
	}
	// The store directory itself may be new; its parent may not be ours
	// to open, so this one is best effort.
	_ = durable.SyncDir(filepath.Dir(filepath.Clean(dir)))
	return nil
}

// space returns the free and total bytes of the file system holding dir.
// The directory may be gone (a disk pulled): then it reports the file
// system of the nearest existing ancestor.
func space(dir string) (free, capacity int64, err error) {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		free, capacity, err := statfs(d)
		if err == nil {
			return free, capacity, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			return 0, 0, fmt.Errorf("usage of %s: %w", dir, err)
		}
	}
}
