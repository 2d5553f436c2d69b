//go:build unix

package blob

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestUsageNamesTheFileSystem: two stores in one directory tree are on
// one file system, and their usage says so alike; /proc is another.
func TestUsageNamesTheFileSystem(t *testing.T) {
	dir := t.TempDir()
	var ids []string
	for _, sub := range []string{"a", "b"} {
		st, err := Open(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		u, err := st.Usage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.FS)
	}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Fatalf("two stores on one file system: FS %q and %q, want the same, not empty", ids[0], ids[1])
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		if other := fsID("/proc/self"); other == "" || other == ids[0] {
			t.Fatalf("/proc has FS %q, the temp dir %q: want another", other, ids[0])
		}
	}
}
