// Package blobtest is a conformance suite for blob.Store implementations:
// every Store runs the same tests. Use it from a _test.go file:
//
//	func TestMyStore(t *testing.T) {
//		blobtest.TestStore(t, func(t *testing.T) blob.Store { return newMyStore(t) })
//	}
//
// or, to include the tests that damage the store underneath, Run with a
// Harness that knows how to do that.
package blobtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
)

// Harness describes a Store under test.
type Harness struct {
	// New returns an empty store, cleaned up when t ends.
	New func(t *testing.T) blob.Store
	// Corrupt changes the stored bytes of shard id behind the store's back
	// (a bit flip on disk). Nil skips the corruption tests.
	Corrupt func(t *testing.T, s blob.Store, id cid.Cid)
	// Wipe removes everything the store keeps, behind its back, while it
	// is in use (an operator pulling the disk). Nil skips those tests.
	Wipe func(t *testing.T, s blob.Store)
}

// TestStore runs the conformance suite against stores made by newStore,
// without the tests that need a Harness.
func TestStore(t *testing.T, newStore func(t *testing.T) blob.Store) {
	Run(t, Harness{New: newStore})
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"PutGet", testPutGet},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"IdempotentPut", testIdempotentPut},
		{"WrongCID", testWrongCID},
		{"Walk", testWalk},
		{"Usage", testUsage},
		{"Canceled", testCanceled},
		{"ConcurrentSameCID", testConcurrentSameCID},
		{"ConcurrentMixed", testConcurrentMixed},
		{"Corrupt", testCorrupt},
		{"Wiped", testWiped},
		{"ScrubClean", testScrubClean},
		{"ScrubCorrupt", testScrubCorrupt},
		{"ScrubRate", testScrubRate},
		{"ScrubResume", testScrubResume},
		{"ScrubConcurrent", testScrubConcurrent},
		{"Reclaim", testReclaim},
		{"CompactConcurrent", testCompactConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

// NewShard returns size random bytes and their CID, as shards are
// addressed (erasure.ShardCID).
func NewShard(t testing.TB, rng *rand.Rand, size int) (cid.Cid, []byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return erasure.ShardCID(data), data
}

func rngFor(t *testing.T) *rand.Rand {
	var seed uint64
	for _, c := range t.Name() {
		seed = seed*31 + uint64(c)
	}
	return rand.New(rand.NewPCG(seed, 1))
}

func put(t *testing.T, s blob.Store, id cid.Cid, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatalf("Put(%s): %v", id, err)
	}
}

func mustGet(t *testing.T, s blob.Store, id cid.Cid, want []byte) {
	t.Helper()
	got, err := s.Get(context.Background(), id, nil)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Get(%s): %d bytes differ from the %d put", id, len(got), len(want))
	}
}

func has(t *testing.T, s blob.Store, id cid.Cid) bool {
	t.Helper()
	ok, err := s.Has(context.Background(), id)
	if err != nil {
		t.Fatalf("Has(%s): %v", id, err)
	}
	return ok
}

func wantNotFound(t *testing.T, s blob.Store, id cid.Cid) {
	t.Helper()
	got, err := s.Get(context.Background(), id, make([]byte, 3, 10))
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get(%s) = %v, want ErrNotFound", id, err)
	}
	if len(got) != 0 {
		t.Fatalf("Get(%s) of a missing shard returned %d bytes", id, len(got))
	}
	if has(t, s, id) {
		t.Fatalf("Has(%s) = true for a missing shard", id)
	}
}

func testPutGet(t *testing.T, h Harness) {
	s := h.New(t)
	rng := rngFor(t)
	for _, size := range []int{0, 1, 1000, 256 << 10, 1<<20 + 7} {
		id, data := NewShard(t, rng, size)
		put(t, s, id, data)
		if !has(t, s, id) {
			t.Fatalf("Has after Put = false (size %d)", size)
		}
		mustGet(t, s, id, data)
		// Get appends to dst[:0], reusing its capacity when it is enough.
		dst := make([]byte, 5, size+64)
		got, err := s.Get(context.Background(), id, dst)
		if err != nil || !slices.Equal(got, data) {
			t.Fatalf("Get with dst: %v", err)
		}
		if size > 0 && &got[0] != &dst[:1][0] {
			t.Errorf("Get did not reuse dst's capacity (size %d)", size)
		}
	}
}

func testMissing(t *testing.T, h Harness) {
	s := h.New(t)
	id, _ := NewShard(t, rngFor(t), 100)
	wantNotFound(t, s, id)
	if err := s.Delete(context.Background(), id); err != nil {
		t.Fatalf("Delete of a missing shard: %v", err)
	}
}

func testDelete(t *testing.T, h Harness) {
	s := h.New(t)
	rng := rngFor(t)
	a, da := NewShard(t, rng, 300)
	b, db := NewShard(t, rng, 400)
	put(t, s, a, da)
	put(t, s, b, db)
	if err := s.Delete(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, a)
	mustGet(t, s, b, db)
	if err := s.Delete(context.Background(), a); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	put(t, s, a, da) // and back
	mustGet(t, s, a, da)
}

func testIdempotentPut(t *testing.T, h Harness) {
	s := h.New(t)
	id, data := NewShard(t, rngFor(t), 5000)
	for range 3 {
		put(t, s, id, data)
	}
	mustGet(t, s, id, data)
	u, err := s.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Shards != 1 || u.Bytes != 5000 {
		t.Fatalf("after three Puts of one shard, Usage = %+v, want 1 shard of 5000 bytes", u)
	}
}

func testWrongCID(t *testing.T, h Harness) {
	s := h.New(t)
	rng := rngFor(t)
	id, data := NewShard(t, rng, 1000)
	_, other := NewShard(t, rng, 1000)
	if err := s.Put(context.Background(), id, other); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Put with content of another CID = %v, want ErrCorrupt", err)
	}
	if has(t, s, id) {
		t.Fatal("rejected Put left the shard in the store")
	}
	// One flipped bit is enough.
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 1
	if err := s.Put(context.Background(), id, flipped); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Put with one bit flipped = %v, want ErrCorrupt", err)
	}
	if err := s.Put(context.Background(), cid.Undef, data); err == nil {
		t.Fatal("Put with an undefined CID succeeded")
	}
}

func testWalk(t *testing.T, h Harness) {
	s := h.New(t)
	rng := rngFor(t)
	want := map[cid.Cid]int64{}
	for i := range 50 {
		id, data := NewShard(t, rng, i*37)
		put(t, s, id, data)
		want[id] = int64(len(data))
	}
	got := map[cid.Cid]int64{}
	err := s.Walk(context.Background(), func(id cid.Cid, size int64) error {
		if _, dup := got[id]; dup {
			return fmt.Errorf("%s walked twice", id)
		}
		got[id] = size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Walk saw %d shards, want %d", len(got), len(want))
	}
	for id, size := range want {
		if got[id] != size {
			t.Fatalf("Walk: %s size %d, want %d", id, got[id], size)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = s.Walk(context.Background(), func(cid.Cid, int64) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Walk with fn failing: err %v after %d calls, want stop after 1", err, calls)
	}
}

func testUsage(t *testing.T, h Harness) {
	s := h.New(t)
	u, err := s.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Shards != 0 || u.Bytes != 0 {
		t.Fatalf("empty store: Usage = %+v", u)
	}
	if u.Free < 0 || u.Capacity < 0 || u.Free > u.Capacity {
		t.Fatalf("Usage free/capacity = %d/%d", u.Free, u.Capacity)
	}
	rng := rngFor(t)
	var total int64
	for i := range 10 {
		id, data := NewShard(t, rng, 1000*i)
		put(t, s, id, data)
		total += int64(len(data))
	}
	u, err = s.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Shards != 10 || u.Bytes != total {
		t.Fatalf("Usage = %+v, want 10 shards, %d bytes", u, total)
	}
}

func testCanceled(t *testing.T, h Harness) {
	s := h.New(t)
	id, data := NewShard(t, rngFor(t), 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, id, data); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with canceled context = %v", err)
	}
	if _, err := s.Get(ctx, id, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with canceled context = %v", err)
	}
	put(t, s, id, data)
	if err := s.Walk(ctx, func(cid.Cid, int64) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Walk with canceled context = %v", err)
	}
}

func testConcurrentSameCID(t *testing.T, h Harness) {
	s := h.New(t)
	id, data := NewShard(t, rngFor(t), 64<<10)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if err := s.Put(context.Background(), id, data); err != nil {
				errs <- err
				return
			}
			// Every Put that returned has made the shard readable.
			got, err := s.Get(context.Background(), id, nil)
			if err == nil && !slices.Equal(got, data) {
				err = errors.New("content differs")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	u, err := s.Usage(context.Background())
	if err != nil || u.Shards != 1 {
		t.Fatalf("after concurrent Puts: Usage %+v, %v", u, err)
	}
}

func testConcurrentMixed(t *testing.T, h Harness) {
	s := h.New(t)
	rng := rngFor(t)
	type shard struct {
		id   cid.Cid
		data []byte
	}
	shards := make([]shard, 20)
	for i := range shards {
		shards[i].id, shards[i].data = NewShard(t, rng, 1000+i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			ctx := context.Background()
			for k := range 100 {
				sh := shards[(g*7+k)%len(shards)]
				var err error
				switch k % 5 {
				case 0, 1:
					err = s.Put(ctx, sh.id, sh.data)
				case 2:
					var got []byte
					got, err = s.Get(ctx, sh.id, nil)
					if errors.Is(err, blob.ErrNotFound) {
						err = nil
					} else if err == nil && !slices.Equal(got, sh.data) {
						err = fmt.Errorf("Get(%s): wrong content", sh.id)
					}
				case 3:
					_, err = s.Has(ctx, sh.id)
				case 4:
					err = s.Delete(ctx, sh.id)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := s.Walk(context.Background(), func(cid.Cid, int64) error { return nil }); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testCorrupt(t *testing.T, h Harness) {
	if h.Corrupt == nil {
		t.Skip("no Harness.Corrupt")
	}
	s := h.New(t)
	rng := rngFor(t)
	id, data := NewShard(t, rng, 10_000)
	other, otherData := NewShard(t, rng, 500)
	put(t, s, id, data)
	put(t, s, other, otherData)
	h.Corrupt(t, s, id)
	if _, err := s.Get(context.Background(), id, nil); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Get of a corrupted shard = %v, want ErrCorrupt", err)
	}
	// The bad copy is gone from the store.
	wantNotFound(t, s, id)
	seen := false
	if err := s.Walk(context.Background(), func(c cid.Cid, _ int64) error {
		seen = seen || c.Equals(id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen {
		t.Fatal("Walk still lists the quarantined shard")
	}
	mustGet(t, s, other, otherData)
	// Repair puts it back.
	put(t, s, id, data)
	mustGet(t, s, id, data)
}

func testWiped(t *testing.T, h Harness) {
	if h.Wipe == nil {
		t.Skip("no Harness.Wipe")
	}
	s := h.New(t)
	rng := rngFor(t)
	id, data := NewShard(t, rng, 2000)
	put(t, s, id, data)
	h.Wipe(t, s)
	wantNotFound(t, s, id)
	if err := s.Delete(context.Background(), id); err != nil {
		t.Fatalf("Delete after wipe: %v", err)
	}
	if err := s.Walk(context.Background(), func(c cid.Cid, _ int64) error {
		return fmt.Errorf("walk after wipe saw %s", c)
	}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Usage(context.Background()); err != nil || u.Shards != 0 {
		t.Fatalf("Usage after wipe = %+v, %v", u, err)
	}
	// Put recreates what it needs.
	put(t, s, id, data)
	mustGet(t, s, id, data)
	id2, data2 := NewShard(t, rng, 3000)
	put(t, s, id2, data2)
	mustGet(t, s, id2, data2)
	// A second wipe in the middle of concurrent traffic panics nothing.
	var more [4][30]struct {
		id   cid.Cid
		data []byte
	}
	for g := range more {
		for k := range more[g] {
			more[g][k].id, more[g][k].data = NewShard(t, rng, 100+k)
		}
	}
	var wg sync.WaitGroup
	for g := range more {
		wg.Go(func() {
			for _, sh := range more[g] {
				_ = s.Put(context.Background(), sh.id, sh.data)
				_, _ = s.Get(context.Background(), sh.id, nil)
			}
		})
	}
	h.Wipe(t, s)
	wg.Wait()
	put(t, s, id, data)
	mustGet(t, s, id, data)
}
