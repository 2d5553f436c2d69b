package blobtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
)

// ReclaimOverhead is what a store may keep on the disk after every shard
// it held was deleted and it compacted, over what it took when it was
// new: directories do not shrink on most file systems (ext4 keeps the
// blocks a directory once grew to), and a store may keep a block or two
// of its own. It does not grow with what the store held.
const ReclaimOverhead = 64 << 10

// AllocatedBytes is the space the files and directories under dir take
// on their file system (st_blocks*512 where the platform says).
func AllocatedBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		total += allocated(fi)
		return nil
	})
	return total, err
}

func compactor(t *testing.T, s blob.Store) blob.Compactor {
	t.Helper()
	c, ok := s.(blob.Compactor)
	if !ok {
		t.Skipf("%T is not a blob.Compactor", s)
	}
	return c
}

// testReclaim: after every shard is deleted and the store compacts, the
// space it takes falls back to what it took when new, within
// ReclaimOverhead.
func testReclaim(t *testing.T, h Harness) {
	s := h.New(t)
	c := compactor(t, s)
	d, ok := s.(interface{ Dir() string })
	if !ok {
		t.Skipf("%T does not say where it keeps its files", s)
	}
	ctx := context.Background()
	if _, err := c.Compact(ctx); err != nil {
		t.Fatalf("Compact of an empty store: %v", err)
	}
	empty, err := AllocatedBytes(d.Dir())
	if err != nil {
		t.Fatal(err)
	}
	rng := rngFor(t)
	var ids []cid.Cid
	var total int64
	for i := range 60 {
		id, data := NewShard(t, rng, 1000+i*7919+(i%3)*100_000)
		put(t, s, id, data)
		ids = append(ids, id)
		total += int64(len(data))
	}
	full, err := AllocatedBytes(d.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if full < empty+total {
		t.Fatalf("%d bytes of shards, but the store grew from %d to %d bytes only: is Dir right?", total, empty, full)
	}
	// Half deleted, a compaction, then the rest: what the first leaves
	// must not keep the second from freeing everything.
	for _, id := range ids[:30] {
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[30:] {
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := AllocatedBytes(d.Dir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("empty %d B, with %d B of shards %d B, after deleting them and compacting %d B (%+v)", empty, total, full, after, st)
	if after > empty+ReclaimOverhead {
		t.Fatalf("after deleting every shard and compacting, the store takes %d bytes, %d more than when new (at most %d)",
			after, after-empty, ReclaimOverhead)
	}
	if again, err := c.Compact(ctx); err != nil || again.Removed != 0 || again.Written != 0 {
		t.Fatalf("a second Compact with nothing to do: %+v, %v", again, err)
	}
	for _, id := range ids {
		wantNotFound(t, s, id)
	}
	id, data := NewShard(t, rng, 70_000)
	put(t, s, id, data)
	mustGet(t, s, id, data)
}

// testCompactConcurrent: Compact runs again and again while shards are
// put, read and deleted. A Get of a shard that is held finds it, even as
// Compact moves it; at the end the store holds exactly what it should.
func testCompactConcurrent(t *testing.T, h Harness) {
	s := h.New(t)
	c := compactor(t, s)
	rng := rngFor(t)
	type shard struct {
		id   cid.Cid
		data []byte
		held bool
	}
	const workers = 4
	var own [workers][]*shard
	for g := range own {
		for i := range 25 {
			// Small, so that a segment holds many and a delete leaves
			// it part live: Compact has shards to move.
			id, data := NewShard(t, rng, 200+(g*25+i)*61)
			own[g] = append(own[g], &shard{id: id, data: data})
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for g := range own {
		wg.Go(func() {
			bg := context.Background()
			for k := 0; ctx.Err() == nil; k++ {
				sh := own[g][(k*7)%len(own[g])]
				switch {
				case !sh.held:
					if err := s.Put(bg, sh.id, sh.data); err != nil {
						fail(err)
						return
					}
					sh.held = true
				case k%3 == 0:
					if err := s.Delete(bg, sh.id); err != nil {
						fail(err)
						return
					}
					sh.held = false
				}
				// Every shard this worker holds reads back, wherever
				// Compact has put it.
				for _, o := range own[g][:1+k%len(own[g])] {
					got, err := s.Get(bg, o.id, nil)
					switch {
					case o.held && err != nil:
						fail(fmt.Errorf("get of a held shard: %w", err))
						return
					case o.held && !slices.Equal(got, o.data):
						fail(fmt.Errorf("Get(%s): wrong content", o.id))
						return
					case !o.held && !errors.Is(err, blob.ErrNotFound):
						fail(fmt.Errorf("get of a deleted shard: %v", err))
						return
					}
				}
			}
		})
	}
	var did blob.CompactStats
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 30 || did.Moved+int64(did.Removed) == 0 && time.Now().Before(deadline); i++ {
		st, err := c.Compact(context.Background())
		if err != nil {
			fail(err)
			break
		}
		did.Moved += st.Moved
		did.Removed += st.Removed
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if _, err := c.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	for g := range own {
		for _, sh := range own[g] {
			if sh.held {
				mustGet(t, s, sh.id, sh.data)
			} else {
				wantNotFound(t, s, sh.id)
			}
		}
	}
	// The premise: Compact did move shards (or remove directories) while
	// they were in use.
	if did.Moved+int64(did.Removed) == 0 {
		t.Fatal("Compact found nothing to do while shards were put and deleted")
	}
	t.Logf("while shards were in use, Compact moved %d and removed %d files", did.Moved, did.Removed)
}
