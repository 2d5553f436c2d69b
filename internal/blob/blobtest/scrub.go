package blobtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
)

// FakeClock is a blob.Clock whose Sleep returns at once, moving the time
// on by what was asked: a scrub paced at any rate runs at full speed and
// its pacing can be read off the clock. OnSleep, if set, is called after
// each Sleep with the time since the clock was made.
type FakeClock struct {
	mu      sync.Mutex
	start   time.Time
	now     time.Time
	OnSleep func(elapsed time.Duration)
}

// NewFakeClock returns a FakeClock at an arbitrary fixed time.
func NewFakeClock() *FakeClock {
	t := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	return &FakeClock{start: t, now: t}
}

func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Elapsed is the time slept since the clock was made.
func (c *FakeClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}

func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	elapsed := c.now.Sub(c.start)
	c.mu.Unlock()
	if c.OnSleep != nil {
		c.OnSleep(elapsed)
	}
	return ctx.Err()
}

var _ blob.Clock = (*FakeClock)(nil)

func scrubber(t *testing.T, s blob.Store) blob.Scrubber {
	t.Helper()
	sc, ok := s.(blob.Scrubber)
	if !ok {
		t.Skipf("%T is not a blob.Scrubber", s)
	}
	return sc
}

// scrubShards fills s with shards of the sizes a store meets, and returns
// them with their total size.
func scrubShards(t *testing.T, s blob.Store) (map[cid.Cid][]byte, int64) {
	t.Helper()
	rng := rngFor(t)
	all := map[cid.Cid][]byte{}
	var total int64
	for i, size := range []int{0, 1, 100, 4000, 4096, 5000, 70_000, 262_144, 300_001, 1<<20 + 3} {
		for j := range 3 {
			id, data := NewShard(t, rng, size+j)
			if i%2 == 1 && j == 1 {
				// A shard name, as stripes name their shards now.
				name, err := erasure.ShardName(erasure.ChunkCID(data), 4, 2, i%6)
				if err != nil {
					t.Fatal(err)
				}
				id = name
			}
			put(t, s, id, data)
			all[id] = data
			total += int64(len(data))
		}
	}
	return all, total
}

// verifies reports whether the store checks what it reads of id.
func verifies(s blob.Store, id cid.Cid) bool {
	v, ok := s.(interface{ VerifiesReads(cid.Cid) bool })
	return !ok || v.VerifiesReads(id)
}

func testScrubClean(t *testing.T, h Harness) {
	s := h.New(t)
	sc := scrubber(t, s)
	ctx := context.Background()
	if st, err := sc.Scrub(ctx, blob.ScrubOptions{}, nil); err != nil || st.Shards != 0 || st.Next != "" {
		t.Fatalf("Scrub of an empty store: %+v, %v", st, err)
	}
	all, total := scrubShards(t, s)
	unverifiable := int64(0)
	for id := range all {
		if !verifies(s, id) {
			unverifiable++
		}
	}
	var findings []blob.ScrubFinding
	st, err := sc.Scrub(ctx, blob.ScrubOptions{}, func(f blob.ScrubFinding) { findings = append(findings, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Fatalf("Scrub of a sound store found %v", findings)
	}
	want := blob.ScrubStats{Shards: int64(len(all)), Bytes: total, Unverifiable: unverifiable, Duration: st.Duration}
	if st != want {
		t.Fatalf("Scrub stats %+v, want %+v", st, want)
	}
	for id, data := range all {
		mustGet(t, s, id, data)
	}
	if _, err := sc.Scrub(ctx, blob.ScrubOptions{From: "no such place"}, nil); err == nil {
		t.Fatal("Scrub from a malformed cursor succeeded")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if st, err := sc.Scrub(canceled, blob.ScrubOptions{}, nil); !errors.Is(err, context.Canceled) || st.Shards != 0 {
		t.Fatalf("Scrub with a canceled context: %+v, %v", st, err)
	}
}

func testScrubCorrupt(t *testing.T, h Harness) {
	if h.Corrupt == nil {
		t.Skip("no Harness.Corrupt")
	}
	s := h.New(t)
	sc := scrubber(t, s)
	ctx := context.Background()
	all, _ := scrubShards(t, s)
	var bad []cid.Cid
	for id, data := range all {
		if len(data) > 1000 && verifies(s, id) && len(bad) < 2 {
			bad = append(bad, id)
			h.Corrupt(t, s, id)
		}
	}
	found := map[cid.Cid]blob.ScrubFinding{}
	st, err := sc.Scrub(ctx, blob.ScrubOptions{}, func(f blob.ScrubFinding) {
		if _, dup := found[f.CID]; dup {
			t.Errorf("%s reported twice", f.CID)
		}
		found[f.CID] = f
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Corrupt != int64(len(bad)) || st.Unreadable != 0 || st.Shards != int64(len(all)) || len(found) != len(bad) {
		t.Fatalf("Scrub with %d shards corrupted: %+v, findings %v", len(bad), st, found)
	}
	for _, id := range bad {
		f, ok := found[id]
		if !ok || f.Fault != blob.FaultCorrupt || !errors.Is(f.Err, blob.ErrCorrupt) {
			t.Fatalf("finding for %s: %+v (found: %v)", id, f, ok)
		}
		// Quarantined, as Get does: the store no longer holds it.
		wantNotFound(t, s, id)
	}
	for id, data := range all {
		if _, isBad := found[id]; !isBad {
			mustGet(t, s, id, data)
		}
	}
	st, err = sc.Scrub(ctx, blob.ScrubOptions{}, func(f blob.ScrubFinding) { t.Errorf("second pass found %+v", f) })
	if err != nil || st.Shards != int64(len(all)-len(bad)) || st.Corrupt != 0 {
		t.Fatalf("second pass: %+v, %v", st, err)
	}
	// Repair puts them back.
	for _, id := range bad {
		put(t, s, id, all[id])
		mustGet(t, s, id, all[id])
	}
}

// testScrubRate: a pass reads at the rate asked, on the clock it is given.
func testScrubRate(t *testing.T, h Harness) {
	s := h.New(t)
	sc := scrubber(t, s)
	all, total := scrubShards(t, s)
	const rate = 256 << 10
	clock := NewFakeClock()
	realStart := time.Now()
	st, err := sc.Scrub(context.Background(), blob.ScrubOptions{BytesPerSecond: rate, Clock: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Shards != int64(len(all)) || st.Bytes != total {
		t.Fatalf("paced pass: %+v", st)
	}
	// It reads at least the content, and at most a header block and a
	// block of padding more per shard.
	low := time.Duration(float64(total) / rate * float64(time.Second))
	high := time.Duration(float64(total+int64(len(all))*8192) / rate * float64(time.Second))
	if got := clock.Elapsed(); got < low || got > high+time.Second {
		t.Fatalf("%d bytes at %d B/s took %v on the clock, want %v to %v", total, rate, got, low, high)
	}
	if st.Duration != clock.Elapsed() {
		t.Fatalf("Duration %v, clock says %v", st.Duration, clock.Elapsed())
	}
	if real := time.Since(realStart); real > 30*time.Second {
		t.Fatalf("the pass slept for real: %v", real)
	}
}

// testScrubResume: a pass stopped by its context says where to resume,
// and resuming checks the rest, each shard once.
func testScrubResume(t *testing.T, h Harness) {
	s := h.New(t)
	sc := scrubber(t, s)
	all, total := scrubShards(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const rate = 256 << 10
	half := time.Duration(float64(total) / rate / 2 * float64(time.Second))
	clock := NewFakeClock()
	clock.OnSleep = func(elapsed time.Duration) {
		if elapsed >= half {
			cancel()
		}
	}
	first, err := sc.Scrub(ctx, blob.ScrubOptions{BytesPerSecond: rate, Clock: clock}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped pass returned %v", err)
	}
	if first.Shards == 0 || first.Shards >= int64(len(all)) || first.Next == "" {
		t.Fatalf("stopped pass: %+v", first)
	}
	rest, err := sc.Scrub(context.Background(), blob.ScrubOptions{From: first.Next}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Next != "" || first.Shards+rest.Shards != int64(len(all)) || first.Bytes+rest.Bytes != total {
		t.Fatalf("pass stopped at %+v, resumed %+v: want %d shards, %d bytes in all", first, rest, len(all), total)
	}
}

// testScrubConcurrent: passes run while shards are put, read and deleted,
// and find nothing wrong with a sound store.
func testScrubConcurrent(t *testing.T, h Harness) {
	s := h.New(t)
	sc := scrubber(t, s)
	rng := rngFor(t)
	type shard struct {
		id   cid.Cid
		data []byte
	}
	shards := make([]shard, 40)
	for i := range shards {
		shards[i].id, shards[i].data = NewShard(t, rng, 3000+i*997)
		put(t, s, shards[i].id, shards[i].data)
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
	for g := range 4 {
		wg.Go(func() {
			for k := 0; ctx.Err() == nil; k++ {
				sh := shards[(g*11+k)%len(shards)]
				var err error
				switch k % 4 {
				case 0:
					err = s.Delete(ctx, sh.id)
				case 1, 2:
					err = s.Put(ctx, sh.id, sh.data)
				case 3:
					var got []byte
					got, err = s.Get(ctx, sh.id, nil)
					if errors.Is(err, blob.ErrNotFound) {
						err = nil
					} else if err == nil && string(got) != string(sh.data) {
						err = fmt.Errorf("Get(%s): wrong content", sh.id)
					}
				}
				if err != nil && ctx.Err() == nil {
					fail(err)
					return
				}
			}
		})
	}
	for range 5 {
		_, err := sc.Scrub(context.Background(), blob.ScrubOptions{}, func(f blob.ScrubFinding) {
			fail(fmt.Errorf("scrub found %+v", f))
		})
		if err != nil {
			fail(err)
		}
	}
	cancel()
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
}
