package upkeep_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
	"cairn/internal/metrics/metricstest"
	"cairn/internal/upkeep"
)

const MiB = 1 << 20

// fakeStore holds n shards of size bytes, named by their index. Its
// Scrub goes through them in order from ScrubOptions.From; with a gate,
// each shard waits for a token. It records every Scrub call's options.
type fakeStore struct {
	n    int
	size int64
	gate chan struct{}

	mu    sync.Mutex
	calls []blob.ScrubOptions

	compactions atomic.Int64
}

func (f *fakeStore) Scrub(ctx context.Context, opts blob.ScrubOptions, report func(blob.ScrubFinding)) (st blob.ScrubStats, _ error) {
	f.mu.Lock()
	f.calls = append(f.calls, opts)
	f.mu.Unlock()
	first := 0
	if opts.From != "" {
		i, err := strconv.Atoi(opts.From)
		if err != nil {
			return st, err
		}
		first = i + 1
	}
	st.Next = opts.From
	for i := first; i < f.n; i++ {
		if f.gate != nil {
			select {
			case <-f.gate:
			case <-ctx.Done():
				return st, ctx.Err()
			}
		} else if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Shards++
		st.Bytes += f.size
		st.Next = strconv.Itoa(i)
	}
	st.Next = ""
	return st, nil
}

func (f *fakeStore) Compact(ctx context.Context) (blob.CompactStats, error) {
	f.compactions.Add(1)
	return blob.CompactStats{}, nil
}

func (f *fakeStore) Usage(ctx context.Context) (blob.Usage, error) {
	return blob.Usage{Shards: int64(f.n), Bytes: int64(f.n) * f.size}, nil
}

func (f *fakeStore) scrubCalls() []blob.ScrubOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]blob.ScrubOptions(nil), f.calls...)
}

// start runs an Upkeep over cfg until the test ends, or until the
// returned stop is called.
func start(t *testing.T, cfg upkeep.Config) (*upkeep.Upkeep, func()) {
	t.Helper()
	u, err := upkeep.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = u.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return u, stop
}

// waitFor polls cond until it holds, or fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRate: a scheduled pass reads the bytes held over four fifths of
// the interval, within the bounds.
func TestRate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		want     int64
	}{
		{"paced", 100 * time.Second, 100 * MiB * 5 / 400}, // 100 MiB in 80 s
		{"floor", 1000 * time.Hour, upkeep.DefaultMinScrubRate},
		{"ceiling", time.Second, upkeep.DefaultMaxScrubRate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStore{n: 100, size: MiB, gate: make(chan struct{})}
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			cfg := upkeep.Default()
			cfg.Store, cfg.ScrubInterval, cfg.Now = f, tc.interval, func() time.Time { return now }
			u, _ := start(t, cfg)
			waitFor(t, "the first pass", func() bool { return len(f.scrubCalls()) > 0 })
			if got := f.scrubCalls()[0].BytesPerSecond; got != tc.want {
				t.Fatalf("rate %d, want %d", got, tc.want)
			}
			s := u.Status()
			if s.Current == nil || s.Current.Requested || s.Current.Held != 100*MiB || !s.Current.Started.Equal(now) {
				t.Fatalf("status of the first pass: %+v", s.Current)
			}
		})
	}
}

// TestScrubNow: a pass asked for replaces the scheduled one in progress,
// starts from the beginning at the maximum rate, and a second request
// while it runs changes nothing.
func TestScrubNow(t *testing.T) {
	f := &fakeStore{n: 10, size: MiB, gate: make(chan struct{})}
	reg := prometheus.NewRegistry()
	cfg := upkeep.Default()
	cfg.Store, cfg.Metrics, cfg.Checkpoint = f, reg, 20*time.Millisecond
	u, _ := start(t, cfg)
	for range 3 {
		f.gate <- struct{}{}
	}
	waitFor(t, "the scheduled pass to checkpoint", func() bool {
		s := u.Status()
		return s.Current != nil && s.Current.Shards == 3
	})
	if !u.ScrubNow() {
		t.Fatal("ScrubNow refused with no requested pass running")
	}
	waitFor(t, "the requested pass", func() bool {
		s := u.Status()
		return s.Current != nil && s.Current.Requested
	})
	if u.ScrubNow() {
		t.Fatal("ScrubNow accepted while a requested pass runs")
	}
	calls := f.scrubCalls()
	last := calls[len(calls)-1]
	if last.From != "" || last.BytesPerSecond != upkeep.DefaultMaxScrubRate {
		t.Fatalf("the requested pass scrubs from %q at %d B/s", last.From, last.BytesPerSecond)
	}
	close(f.gate)
	waitFor(t, "the requested pass to end", func() bool {
		s := u.Status()
		return s.Last != nil && s.Last.Requested
	})
	s := u.Status()
	if s.Last.Shards != 10 || s.Last.Bytes != 10*MiB || s.Last.Progress() != 1 || s.Passes != 1 || s.Current != nil {
		t.Fatalf("status after the requested pass: %+v, last %+v", s, s.Last)
	}
	if want := s.Last.Started.Add(upkeep.DefaultScrubInterval); !s.Next.Equal(want) {
		t.Fatalf("next pass at %v, want %v", s.Next, want)
	}
	m, err := metricstest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		match []string
		want  float64
	}{
		{"cairn_scrub_passes_total", []string{"trigger", "request"}, 1},
		{"cairn_scrub_passes_total", []string{"trigger", "schedule"}, 0},
		{"cairn_scrub_shards_total", nil, 13},
		{"cairn_scrub_running", nil, 0},
	} {
		if v, _ := m.Value(c.name, c.match...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.match, v, c.want)
		}
	}
	if v, _ := m.Value("cairn_scrub_last_pass_end_timestamp_seconds"); v < float64(s.Last.Started.Unix()) {
		t.Errorf("last pass end %v, before it began", v)
	}
}

// TestResume: a pass stopped by the end of Run resumes where it got to
// when the node starts again, with the figures it had.
func TestResume(t *testing.T) {
	state := filepath.Join(t.TempDir(), "scrub-state")
	f := &fakeStore{n: 10, size: MiB, gate: make(chan struct{})}
	cfg := upkeep.Default()
	cfg.Store, cfg.StateFile, cfg.Checkpoint = f, state, 20*time.Millisecond
	_, stop := start(t, cfg)
	for range 4 {
		f.gate <- struct{}{}
	}
	waitFor(t, "the state file to say where the pass got to", func() bool {
		b, _ := os.ReadFile(state)
		var s struct {
			Current struct{ Cursor string } `json:"current"`
		}
		return json.Unmarshal(b, &s) == nil && s.Current.Cursor == "3"
	})
	stop()

	g := &fakeStore{n: 10, size: MiB}
	cfg.Store = g
	u, _ := start(t, cfg)
	waitFor(t, "the resumed pass to end", func() bool { return u.Status().Last != nil })
	if from := g.scrubCalls()[0].From; from != "3" {
		t.Fatalf("resumed from %q, want 3", from)
	}
	if l := u.Status().Last; l.Shards != 10 || l.Bytes != 10*MiB {
		t.Fatalf("resumed pass: %+v, want 10 shards in all", l)
	}
	// The schedule survives too: the next pass waits for the interval.
	time.Sleep(50 * time.Millisecond)
	if n := len(g.scrubCalls()); n != 1 {
		t.Fatalf("%d scrub calls after the pass ended, want 1", n)
	}
}

// TestScrubLogStore: over a real store, a pass finds the one corrupt
// shard, which the store then no longer holds, and counts it.
func TestScrubLogStore(t *testing.T) {
	ctx := context.Background()
	s, err := blob.OpenLog(t.TempDir(), blob.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []blob.ShardRecord
	for range 20 {
		id, data := blobtest.NewShard(t, rng, 8<<10)
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		path, off, n, err := s.Locate(id)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, blob.ShardRecord{CID: id, Path: path, Offset: off, Size: n})
	}
	bad := ids[7]
	f, err := os.OpenFile(bad.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0x00, 0xff}, bad.Offset+100); err != nil {
		t.Fatal(err)
	}
	f.Close()

	reg := prometheus.NewRegistry()
	cfg := upkeep.Default()
	cfg.Store, cfg.Metrics, cfg.MinScrubRate = s, reg, 64*MiB
	u, _ := start(t, cfg)
	waitFor(t, "the first pass to end", func() bool { return u.Status().Last != nil })
	l := u.Status().Last
	if l.Shards != 20 || l.Corrupt != 1 || l.Unreadable != 0 || l.Bytes != 20*8<<10 {
		t.Fatalf("pass: %+v", l)
	}
	if ok, _ := s.Has(ctx, bad.CID); ok {
		t.Fatal("the corrupt shard is still held")
	}
	m, err := metricstest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Value("cairn_scrub_faults_total", "fault", "corrupt"); v != 1 {
		t.Fatalf("cairn_scrub_faults_total{fault=corrupt} = %v, want 1", v)
	}
	if v, _ := m.Value("cairn_scrub_passes_total", "trigger", "schedule"); v != 1 {
		t.Fatalf("cairn_scrub_passes_total{trigger=schedule} = %v, want 1", v)
	}
}

// TestCompaction: shards deleted from a log store give their space back
// within a compaction interval, and the metrics say so.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.OpenLog(dir, blob.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	empty, err := blobtest.AllocatedBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var all []blob.ShardRecord
	for range 32 {
		id, data := blobtest.NewShard(t, rng, 64<<10)
		if err := s.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		all = append(all, blob.ShardRecord{CID: id})
	}
	for _, r := range all {
		if err := s.Delete(ctx, r.CID); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	cfg := upkeep.Default()
	cfg.Store, cfg.Metrics, cfg.CompactInterval = s, reg, 10*time.Millisecond
	start(t, cfg)
	var used int64
	waitFor(t, "the space to come back", func() bool {
		used, err = blobtest.AllocatedBytes(dir)
		return err == nil && used <= empty+blobtest.ReclaimOverhead
	})
	// The metrics count a compaction once it returned.
	var removed, freed, runs float64
	waitFor(t, "the compaction metrics", func() bool {
		m, err := metricstest.Gather(reg)
		if err != nil {
			t.Fatal(err)
		}
		removed, _ = m.Value("cairn_compact_files_removed_total")
		freed, _ = m.Value("cairn_compact_freed_bytes_total")
		runs, _ = m.Value("cairn_compact_runs_total", "result", "ok")
		return runs > 0 && removed > 0
	})
	if freed < 32*64<<10 {
		t.Fatalf("compaction metrics: %v files, %v bytes freed, %v runs", removed, freed, runs)
	}
	t.Logf("%d bytes allocated when empty, %d after compaction; %v bytes freed", empty, used, freed)
}

func TestValidate(t *testing.T) {
	ok := upkeep.Default()
	ok.Store = &fakeStore{}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*upkeep.Config){
		"no store":       func(c *upkeep.Config) { c.Store = nil },
		"interval":       func(c *upkeep.Config) { c.ScrubInterval = -time.Second },
		"rates":          func(c *upkeep.Config) { c.MinScrubRate, c.MaxScrubRate = 10, 5 },
		"checkpoint":     func(c *upkeep.Config) { c.Checkpoint = -1 },
		"compact period": func(c *upkeep.Config) { c.CompactInterval = -1 },
	} {
		c := ok
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestMetricsDocumented: every metric Upkeep registers is in
// docs/metrics.md, which lists every metric.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := upkeep.Default()
	cfg.Store, cfg.Metrics = &fakeStore{}, reg
	if _, err := upkeep.New(cfg); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) < 10 {
		t.Fatalf("%d metric families registered", len(fams))
	}
	for _, f := range fams {
		if !strings.Contains(string(doc), "`"+f.GetName()+"`") {
			t.Errorf("%s is not in docs/metrics.md", f.GetName())
		}
	}
}
