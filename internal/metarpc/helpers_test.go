package metarpc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"cairn/internal/meta"
	"cairn/internal/nodeauth"

	"github.com/hashicorp/raft"
)

var (
	bg          = context.Background()
	testSecret  = []byte("metarpc test cluster secret 0123")
	otherSecret = []byte("not the cluster secret, same size")
	// clockTime is what every test store's clock reads, so that two
	// stores given the same calls hold the same state.
	clockTime = time.Date(2025, 6, 7, 8, 9, 10, 11, time.UTC)
)

// testLogger discards unless CAIRN_META_LOG is set (to a slog level),
// then logs to stderr.
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

func newSigner(t testing.TB, secret []byte) *nodeauth.Signer {
	t.Helper()
	s, err := nodeauth.NewSigner(secret, nil)
	must(t, err)
	return s
}

// testConfig is a meta config with test timers: elections in tens of
// milliseconds.
func testConfig(dir, id string) meta.Config {
	cfg := meta.Default()
	cfg.Dir = dir
	cfg.NodeID = id
	cfg.Logger = testLogger()
	cfg.HeartbeatTimeout = 100 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	cfg.LeaderLeaseTimeout = 100 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.SoloTimeout = 50 * time.Millisecond
	cfg.Now = func() time.Time { return clockTime }
	return cfg
}

// node is a meta store on an in-memory raft transport, served by a
// metarpc Server over a real HTTP listener.
type node struct {
	t     testing.TB
	id    string
	trans *raft.InmemTransport
	s     *meta.Store
	srv   *Server
	http  *httptest.Server
	// hits counts the requests the node's HTTP server received.
	hits  atomic.Int64
	alive atomic.Bool
}

// openNode opens a store in dir and serves it; cfgFn may adjust the
// server config.
func openNode(t testing.TB, dir, id string, bootstrap bool, scfg func(*ServerConfig)) *node {
	t.Helper()
	nd := &node{t: t, id: id}
	_, nd.trans = raft.NewInmemTransport(raft.ServerAddress(id))
	cfg := testConfig(dir, id)
	cfg.Transport = nd.trans
	cfg.Bootstrap = bootstrap
	s, err := meta.Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	nd.s = s
	sc := ServerConfig{Store: s, Signer: newSigner(t, testSecret), Logger: testLogger()}
	if scfg != nil {
		scfg(&sc)
	}
	nd.srv, err = NewServer(sc)
	must(t, err)
	mux := http.NewServeMux()
	mux.Handle(PathPrefix, nd.srv)
	nd.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nd.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	nd.alive.Store(true)
	t.Cleanup(nd.kill)
	return nd
}

// kill stops the node's HTTP server and store.
func (nd *node) kill() {
	if !nd.alive.Swap(false) {
		return
	}
	nd.http.Close()
	if err := nd.s.Close(); err != nil {
		nd.t.Errorf("close %s: %v", nd.id, err)
	}
	_ = nd.trans.Close()
}

// newDev opens a single-voter store, served, and waits until it leads.
func newDev(t testing.TB, scfg func(*ServerConfig)) *node {
	t.Helper()
	nd := openNode(t, filepath.Join(t.TempDir(), "n1"), "n1", true, scfg)
	waitLeader(t, nd.s)
	return nd
}

func waitLeader(t testing.TB, s *meta.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	must(t, s.WaitLeader(ctx))
}

// newClient returns a client of leader, signing with secret.
func newClient(t testing.TB, secret []byte, leader func() string, cfgFn func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{Leader: leader, Signer: newSigner(t, secret)}
	if cfgFn != nil {
		cfgFn(&cfg)
	}
	c, err := NewClient(cfg)
	must(t, err)
	return c
}

func fixed(url string) func() string { return func() string { return url } }

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

// cid returns a test chunk CID named s.
func cid(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return append([]byte{0x01, 0x55, 0x12, 0x20}, h[:]...) // CIDv1 raw sha2-256 shape
}

func chunk(s string, size int64) meta.Chunk {
	shards := make([][]byte, 6)
	for i := range shards {
		shards[i] = cid(fmt.Sprintf("%s/shard%d", s, i))
	}
	return meta.Chunk{CID: cid(s), Size: size, Stripe: meta.Stripe{K: 4, M: 2, Layout: 1, ShardSize: int(size+3) / 4, Shards: shards}}
}

func chunks(names ...string) []meta.Chunk {
	out := make([]meta.Chunk, len(names))
	for i, n := range names {
		out[i] = chunk(n, 1<<20)
	}
	return out
}

func object(bucket, key string, cs ...string) *meta.Object {
	return &meta.Object{
		Bucket: bucket, Key: key, Size: int64(len(cs)) << 20, ETag: fmt.Sprintf("%x", sha256.Sum256([]byte(key)))[:32],
		CID: "bafk" + key, Modified: time.Date(2025, 2, 3, 4, 5, 6, 7, time.UTC), ContentType: "text/plain",
		UserMeta: map[string]string{"k": "v"}, Chunks: chunks(cs...),
	}
}
