package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var testSecret = []byte("the test cluster secret, 32 byte")

// eventually retries f until it returns nil, failing the test with f's
// last error if that takes longer than a generous timeout.
func eventually(t *testing.T, f func() error) {
	t.Helper()
	const timeout = 30 * time.Second
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// consistently checks that f keeps returning nil for d.
func consistently(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
}

// testLog is a slog destination that forwards to t.Log until the test
// ends (serf's goroutines may still log after Close) and keeps every
// record for assertions.
type testLog struct {
	mu    sync.Mutex
	t     *testing.T
	done  bool
	lines []string
}

func newTestLog(t *testing.T) *testLog {
	l := &testLog{t: t}
	// Registered before any Close cleanup, so it runs after them.
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := string(bytes.TrimRight(p, "\n"))
	l.lines = append(l.lines, line)
	if !l.done {
		l.t.Log(line)
	}
	return len(p), nil
}

func (l *testLog) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.lines, func(line string) bool { return strings.Contains(line, s) })
}

func (l *testLog) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: level}))
}

// testConfig returns a config for a node on loopback with shrunk timers.
// The addresses it announces are never dialled.
func testConfig(t *testing.T, id string, roles ...Role) Config {
	cfg := DefaultConfig()
	cfg.Self = Member{ID: id, Zone: "zone-" + id, Roles: roles, APIAddr: "127.0.0.1:7000"}
	if cfg.Self.HasRole(RoleStorage) {
		cfg.Self.Weight = 1.5
	}
	if cfg.Self.HasRole(RoleMeta) {
		cfg.Self.RaftAddr = "127.0.0.1:7001"
	}
	if cfg.Self.HasRole(RoleGateway) {
		cfg.Self.S3Addr = "127.0.0.1:9000"
	}
	cfg.BindAddr = "127.0.0.1:0"
	cfg.Secret = testSecret
	cfg.Profile = ProfileTest
	cfg.JoinTimeout = 10 * time.Second
	cfg.Logger = newTestLog(t).logger(slog.LevelInfo).With("node", id)
	return cfg
}

// start starts a node, closed when the test ends.
func start(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	c, err := Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Self.ID, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %s: %v", cfg.Self.ID, err)
		}
	})
	return c
}

// member returns the member id as c sees it.
func member(c *Cluster, id string) (Member, bool) {
	for _, m := range c.Members() {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// hasStatus returns nil once c sees member id with status want.
func hasStatus(c *Cluster, id string, want Status) error {
	m, ok := member(c, id)
	if !ok {
		return fmt.Errorf("%s does not list %s", c.Self().ID, id)
	}
	if m.Status != want {
		return fmt.Errorf("%s sees %s %s, want %s", c.Self().ID, id, m.Status, want)
	}
	return nil
}

// drain empties c's event channel.
func drain(c *Cluster) {
	select {
	case <-c.Events():
	default:
	}
}

// waitEvent waits for a notification from c.
func waitEvent(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case <-c.Events():
	case <-ctx.Done():
		t.Fatalf("%s: no membership event", c.Self().ID)
	}
}
