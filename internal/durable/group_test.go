package durable

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestGroupSharedPerFileSystem(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ga, err := GroupFor(a)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := GroupFor(b)
	if err != nil {
		t.Fatal(err)
	}
	if !canSyncFS {
		if ga != nil || gb != nil {
			t.Fatal("a group where the platform cannot sync a file system")
		}
		t.Skip("no syncfs here: stores fsync each file")
	}
	if ga != gb {
		t.Fatal("two directories of one file system got different groups")
	}
	if _, err := GroupFor(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a group for a missing directory")
	}
}

func TestGroupSyncConcurrent(t *testing.T) {
	g, err := GroupFor(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if g == nil {
		t.Skip("no syncfs here")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(f, []byte{byte(i)}, 0o644); err != nil {
				errs <- err
				return
			}
			errs <- g.Sync(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A sync may finish first; either answer is right, a hang is not.
	if err := g.Sync(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("sync with a cancelled context: %v", err)
	}
}
