package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"cairn/internal/blob"
)

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "segments"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func segmentOf(t *testing.T, s *blob.LogStore, sh testShard) string {
	t.Helper()
	path, _, _, err := s.Locate(sh.id)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(path)
}

// TestLogCompactKeepsTombstones: a segment whose only needed record is a
// tombstone goes, but the tombstone is copied forward, because the
// deleted shard's record remains in a segment that stays: without it the
// shard would be back when the store is next opened. Tombstones whose
// shard records go with them are dropped.
func TestLogCompactKeepsTombstones(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	opts := blob.LogOptions{SegmentSize: 64 << 10}
	s, err := blob.OpenLog(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Segment 0: sixteen 4 KiB records, sealed full.
	var first []testShard
	for i := range 16 {
		id, data := shard(t, uint64(200+i), 1000)
		first = append(first, testShard{id, data})
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	x := first[3]
	// Segment 1: x's tombstone, and three shards put and deleted.
	if err := s.Delete(ctx, x.id); err != nil {
		t.Fatal(err)
	}
	var gone []testShard
	for i := range 3 {
		id, data := shard(t, uint64(300+i), 2000)
		gone = append(gone, testShard{id, data})
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := segmentOf(t, s, first[15]), segmentOf(t, s, gone[0]); a != "0000000000000000" || b != "0000000000000001" {
		t.Fatalf("premise: shards in segments %s and %s, want 0 and 1", a, b)
	}
	for _, sh := range gone {
		if err := s.Delete(ctx, sh.id); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 1 || st.Moved != 0 || st.Tombstones != 1 || st.Dropped != 3 {
		t.Fatalf("Compact: %+v; want segment 1 removed, x's tombstone carried, three dropped", st)
	}
	if segs := segmentFiles(t, dir); slices.Contains(segs, "0000000000000001") || !slices.Contains(segs, "0000000000000000") {
		t.Fatalf("segments after Compact: %v", segs)
	}
	if again, err := s.Compact(ctx); err != nil || again.Removed != 0 || again.Tombstones != 0 {
		t.Fatalf("Compact again, with nothing to free: %+v, %v", again, err)
	}
	s.Close()
	s = openLog(t, dir, opts)
	if ok, _ := s.Has(ctx, x.id); ok {
		t.Fatal("the deleted shard is back after Compact and a reopen")
	}
	for _, sh := range first {
		if !sh.id.Equals(x.id) {
			mustGetShard(t, s, sh)
		}
	}
	for _, sh := range gone {
		if ok, _ := s.Has(ctx, sh.id); ok {
			t.Fatal("a deleted shard is back after Compact and a reopen")
		}
	}
}

var errCrash = errors.New("simulated crash")

// fillForCompaction puts shards across several segments and deletes two
// in three, so that every segment is worth compacting.
func fillForCompaction(t *testing.T, s *blob.LogStore) (live, deleted []testShard) {
	t.Helper()
	ctx := context.Background()
	for i := range 60 {
		id, data := shard(t, uint64(1000+i), 500+i*331)
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			live = append(live, testShard{id, data})
			continue
		}
		deleted = append(deleted, testShard{id, data})
	}
	for _, sh := range deleted {
		if err := s.Delete(ctx, sh.id); err != nil {
			t.Fatal(err)
		}
	}
	return live, deleted
}

// checkReopen opens the store in dir and checks that it holds live and
// none of deleted; then compacts it and checks again, after a reopen too.
func checkReopen(t *testing.T, dir string, opts blob.LogOptions, live, deleted []testShard) {
	t.Helper()
	ctx := context.Background()
	for round := range 3 {
		s, err := blob.OpenLog(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "compacting")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: the compaction record is still there after open: %v", round, err)
		}
		for _, sh := range live {
			mustGetShard(t, s, sh)
		}
		for _, sh := range deleted {
			if ok, _ := s.Has(ctx, sh.id); ok {
				t.Fatalf("round %d: a deleted shard is back", round)
			}
		}
		if round < 2 {
			if _, err := s.Compact(ctx); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		s.Close()
	}
}

// TestLogCompactCrash: a compaction stopped at any stage, as by a crash,
// leaves a store that opens with every live shard and no deleted one,
// and compacts again. "torn" also damages every copy the compaction
// made, as a crash before their sync could: the originals hold.
func TestLogCompactCrash(t *testing.T) {
	for _, tc := range []struct {
		stage string
		torn  bool
	}{
		{"copied", false},
		{"copied", true},
		{"recorded", false},
		{"removed", false},
	} {
		name := tc.stage
		if tc.torn {
			name += "-torn"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			opts := blob.LogOptions{SegmentSize: 64 << 10}
			s, err := blob.OpenLog(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			live, deleted := fillForCompaction(t, s)
			before := segmentFiles(t, dir)
			torn := 0
			s.SetCompactHook(func(stage string) error {
				if stage != tc.stage {
					return nil
				}
				if tc.torn {
					for _, sh := range live {
						if !slices.Contains(before, segmentOf(t, s, sh)) {
							flipLogByte(t, s, sh.id)
							torn++
						}
					}
				}
				return errCrash
			})
			if _, err := s.Compact(context.Background()); !errors.Is(err, errCrash) {
				t.Fatalf("Compact = %v, want the simulated crash", err)
			}
			if tc.torn && torn == 0 {
				t.Fatal("premise: Compact copied no shard to tear")
			}
			if tc.stage != "copied" {
				if _, err := os.Stat(filepath.Join(dir, "compacting")); err != nil {
					t.Fatalf("premise: no compaction record after stage %s: %v", tc.stage, err)
				}
			}
			s.Close()
			checkReopen(t, dir, opts, live, deleted)
		})
	}
}

// TestLogCompactDamagedHeader: a damaged record header ends its
// segment's records when the store is opened, so the shards after it
// would be lost to a restart. Scrub finds it, and Compact rewrites the
// segment however live it is.
func TestLogCompactDamagedHeader(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	opts := blob.LogOptions{SegmentSize: 64 << 10}
	s := openLog(t, dir, opts)
	var all []testShard
	for i := range 16 {
		id, data := shard(t, uint64(400+i), 1000)
		all = append(all, testShard{id, data})
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	bad := all[4]
	path, off, _, err := s.Locate(bad.id)
	if err != nil {
		t.Fatal(err)
	}
	flipAt(t, path, off-off%4096) // the magic: the record, content and all, is one block
	recs, err := blob.Records(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) >= 15 {
		t.Fatalf("premise: a reopen would still see %d shards", len(recs))
	}
	st, err := s.Scrub(ctx, blob.ScrubOptions{}, nil)
	if err != nil || st.Rewritten != 1 || st.Corrupt != 0 {
		t.Fatalf("Scrub: %+v, %v", st, err)
	}
	cst, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cst.Moved != 15 {
		t.Fatalf("Compact of the damaged segment: %+v, want its other 15 shards moved", cst)
	}
	s.Close()
	s = openLog(t, dir, opts)
	for _, sh := range all {
		mustGetShard(t, s, sh)
	}
}

// TestLogCompactScrubConcurrent: Compact, Scrub, Put, Get and Delete all
// at once; no scrub finds anything wrong with a sound store, and every
// held shard reads back after a reopen.
func TestLogCompactScrubConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	opts := blob.LogOptions{SegmentSize: 64 << 10, Writers: 2}
	s, err := blob.OpenLog(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 3
	var own [workers][]testShard
	held := [workers]map[int]bool{}
	for g := range own {
		held[g] = map[int]bool{}
		for i := range 30 {
			id, data := shard(t, uint64(5000+g*100+i), 300+i*97)
			own[g] = append(own[g], testShard{id, data})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	fail := func(err error) {
		select {
		case errs <- err:
		default: // enough said
		}
	}
	for g := range own {
		wg.Go(func() {
			bg := context.Background()
			for k := 0; ctx.Err() == nil; k++ {
				i := (k * 7) % len(own[g])
				sh := own[g][i]
				var err error
				if held[g][i] && k%2 == 0 {
					err = s.Delete(bg, sh.id)
					held[g][i] = false
				} else if !held[g][i] {
					err = s.Put(bg, sh.id, sh.data)
					held[g][i] = true
				} else {
					var got []byte
					got, err = s.Get(bg, sh.id, nil)
					if err == nil && !slices.Equal(got, sh.data) {
						err = errors.New("wrong content")
					}
				}
				if err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			if _, err := s.Scrub(context.Background(), blob.ScrubOptions{}, func(f blob.ScrubFinding) {
				fail(errors.New("scrub found " + f.CID.String() + ": " + f.Err.Error()))
			}); err != nil {
				fail(err)
				return
			}
		}
	})
	var moved int64
	for ctx.Err() == nil {
		st, err := s.Compact(context.Background())
		if err != nil {
			t.Error(err)
			break
		}
		moved += st.Moved
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if moved == 0 {
		t.Fatal("premise: Compact moved nothing")
	}
	s.Close()
	s = openLog(t, dir, opts)
	for g := range own {
		for i, sh := range own[g] {
			ok, _ := s.Has(context.Background(), sh.id)
			if ok != held[g][i] {
				t.Fatalf("after reopen, Has = %v for a shard held = %v", ok, held[g][i])
			}
			if ok {
				mustGetShard(t, s, sh)
			}
		}
	}
}
