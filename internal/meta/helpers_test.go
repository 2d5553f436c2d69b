package meta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// testLogger discards unless CAIRN_META_LOG is set (to a slog level:
// debug, info, warn, error), then logs to stderr.
func testLogger() *slog.Logger {
	lv := os.Getenv("CAIRN_META_LOG")
	if lv == "" {
		return nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(lv)); err != nil {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// testClock is a settable clock for Config.Now.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.set(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	return c
}
func (c *testClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// testConfig is a config with test timers (like memberlist's test
// configs): elections in tens of milliseconds.
func testConfig(dir, id string, trans raft.Transport) Config {
	cfg := Default()
	cfg.Dir = dir
	cfg.NodeID = id
	cfg.Transport = trans
	cfg.Logger = testLogger()
	cfg.HeartbeatTimeout = 100 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	cfg.LeaderLeaseTimeout = 100 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.SoloTimeout = 50 * time.Millisecond
	return cfg
}

// node is a store with its in-memory transport, reopenable on the same
// directory and address.
type node struct {
	t     testing.TB
	cfg   Config
	trans *raft.InmemTransport
	s     *Store
}

func (n *node) open() {
	n.t.Helper()
	_, n.trans = raft.NewInmemTransport(raft.ServerAddress(n.cfg.NodeID))
	n.cfg.Transport = n.trans
	s, err := Open(n.cfg)
	if err != nil {
		n.t.Fatalf("open %s: %v", n.cfg.NodeID, err)
	}
	n.s = s
}

func (n *node) close() {
	n.t.Helper()
	if n.s == nil {
		return
	}
	if err := n.s.Close(); err != nil {
		n.t.Errorf("close %s: %v", n.cfg.NodeID, err)
	}
	_ = n.trans.Close()
	n.s = nil
}

func (n *node) restart() {
	n.t.Helper()
	n.close()
	n.open()
}

// newDev opens a single-voter store (bootstrapped) in a fresh directory and
// waits until it leads. cfgFn may adjust the config.
func newDev(t testing.TB, cfgFn func(*Config)) *node {
	t.Helper()
	cfg := testConfig(filepath.Join(t.TempDir(), "n1"), "n1", nil)
	cfg.Bootstrap = true
	if cfgFn != nil {
		cfgFn(&cfg)
	}
	n := &node{t: t, cfg: cfg}
	n.open()
	t.Cleanup(n.close)
	waitLeader(t, n.s)
	return n
}

func waitLeader(t testing.TB, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
}

// retry calls fn until it returns nil or timeout passes, then fails with
// its last error.
func retry(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

var bg = context.Background()

// cid returns a test chunk CID named s.
func cid(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return append([]byte{0x01, 0x55, 0x12, 0x20}, h[:]...) // CIDv1 raw sha2-256 shape
}

func chunk(s string, size int64) Chunk {
	shards := make([][]byte, 6)
	for i := range shards {
		shards[i] = cid(fmt.Sprintf("%s/shard%d", s, i))
	}
	return Chunk{CID: cid(s), Size: size, Stripe: Stripe{K: 4, M: 2, Layout: 1, ShardSize: int(size+3) / 4, Shards: shards}}
}

func chunks(names ...string) []Chunk {
	out := make([]Chunk, len(names))
	for i, n := range names {
		out[i] = chunk(n, 1<<20)
	}
	return out
}

func object(bucket, key string, cs ...string) *Object {
	return &Object{
		Bucket: bucket, Key: key, Size: int64(len(cs)) << 20, ETag: fmt.Sprintf("%x", sha256.Sum256([]byte(key)))[:32],
		CID: "bafk" + key, Modified: time.Date(2025, 2, 3, 4, 5, 6, 7, time.UTC), ContentType: "text/plain",
		UserMeta: map[string]string{"k": "v"}, Chunks: chunks(cs...),
	}
}

// dump returns every record of the state machine but the applied index,
// as bucket -> key -> value, for comparing replicas and restores.
func (f *fsm) dump(t testing.TB) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	err := f.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				if bytes.Equal(name, bRaft) && bytes.Equal(k, kApplied) {
					return nil
				}
				m[string(k)] = string(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffDump describes the first differences between two dumps, or "".
func diffDump(a, b map[string]map[string]string) string {
	var diffs []string
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	for n := range names {
		for k, v := range a[n] {
			if w, ok := b[n][k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s/%q only in first", n, k))
			} else if v != w {
				diffs = append(diffs, fmt.Sprintf("%s/%q differs", n, k))
			}
		}
		for k := range b[n] {
			if _, ok := a[n][k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s/%q only in second", n, k))
			}
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("... %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "; ")
}

// parallel runs fn(i) for i in [0, n) on w goroutines and returns the
// first error.
func parallel(n, w int, fn func(i int) error) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		err1 error
	)
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if err1 == nil {
						err1 = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return err1
}

func refsOf(t testing.TB, s *Store, name string) int64 {
	t.Helper()
	n, err := s.ChunkRefs(bg, cid(name))
	must(t, err)
	return n
}

type boltTx = bolt.Tx

func testLoggerOrDiscard() *slog.Logger {
	if l := testLogger(); l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
