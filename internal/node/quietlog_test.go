package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// quietLogger returns a logger through a quietHandler at level, writing
// text lines without times to the returned buffer, and its clock.
func quietLogger(level slog.Level) (*slog.Logger, *quietHandler, *bytes.Buffer, *time.Time) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	text := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	h := newQuietHandler(text, func() time.Time { return now })
	return slog.New(h), h, &buf, &now
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSpace(buf.String())
	buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestQuietRepeatedPeerErrors: Raft's heartbeat errors about a down peer,
// twenty-five a second, come out as one line a minute with the count of
// those not logged; another peer's are counted apart; other errors pass.
func TestQuietRepeatedPeerErrors(t *testing.T) {
	log, _, buf, now := quietLogger(slog.LevelDebug)
	raft := log.With("component", "raft")
	for i := range 25*60 + 1 {
		*now = now.Add(40 * time.Millisecond)
		raft.Error("failed to heartbeat to", "peer", "10.0.0.2:7947", "error", "connection refused")
		if i%100 == 0 {
			raft.Error("failed to heartbeat to", "peer", "10.0.0.3:7947", "error", "connection refused")
		}
	}
	got := lines(buf)
	if len(got) != 4 {
		t.Fatalf("a minute of errors about two peers: %d lines, want 4 (each peer's first, then each one's summary):\n%s", len(got), strings.Join(got, "\n"))
	}
	if !strings.Contains(got[0], "peer=10.0.0.2:7947") || strings.Contains(got[0], "repeated") || !strings.Contains(got[0], "level=ERROR") {
		t.Errorf("first line %q", got[0])
	}
	if !strings.Contains(got[1], "peer=10.0.0.3:7947") {
		t.Errorf("second line %q: want the other peer's first", got[1])
	}
	// 1501 errors about the first peer: the first logged, then the first
	// a minute later (the 1501st) with the 1499 in between.
	if want := "peer=10.0.0.2:7947 error=\"connection refused\" repeated=1499 over=1m0s"; !strings.Contains(got[2], want) {
		t.Errorf("summary line %q, want it to hold %q", got[2], want)
	}
	if want := "peer=10.0.0.3:7947 error=\"connection refused\" repeated=14 over=1m0s"; !strings.Contains(got[3], want) {
		t.Errorf("summary line %q, want it to hold %q", got[3], want)
	}
	// Warnings about no peer are not limited, but for those that come
	// once per chunk while a node is down.
	for range 3 {
		log.Warn("disk almost full", "free", "1%")
	}
	if got := lines(buf); len(got) != 3 {
		t.Errorf("warnings about no peer: %d lines, want 3", len(got))
	}
	for i := range 100 {
		log.Warn("degraded read: rebuilding chunk from parity", "chunk", i, "missing", 1)
	}
	*now = now.Add(summaryInterval)
	log.Warn("degraded read: rebuilding chunk from parity", "chunk", 100, "missing", 1)
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[1], "repeated=99 over=1m0s") {
		t.Errorf("degraded reads, 100 then one a minute later: %q, want the first and one with repeated=99", got)
	}
}

func TestQuietRoutine(t *testing.T) {
	log, h, buf, _ := quietLogger(slog.LevelDebug)
	raft := log.With("component", "raft")
	for _, tc := range []struct {
		name  string
		log   func()
		level string
	}{
		{"first election", func() {
			raft.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "", "last-leader-id", "")
		}, "INFO"},
		{"leader lost", func() {
			raft.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "10.0.0.1:7947", "last-leader-id", "n1")
		}, "WARN"},
		{"new voter catching up", func() {
			raft.Warn("appendEntries rejected, sending older logs", "peer", "{Suffrage:Voter ID:n2 Address:10.0.0.2:7947}", "next", 1)
		}, "INFO"},
		{"new voter's empty log", func() {
			raft.Warn("failed to get previous log", "previous-index", 7, "last-index", 0, "error", "log not found")
		}, "INFO"},
		{"a voter lost entries", func() {
			raft.Warn("failed to get previous log", "previous-index", 7, "last-index", 5, "error", "log not found")
		}, "WARN"},
		{"member failed while running", func() {
			log.Warn("member failed", "id", "n3")
		}, "WARN"},
		{"a peer down, gossip unknown", func() {
			raft.Error("failed to appendEntries to", "peer", "{Suffrage:Voter ID:n2 Address:10.0.0.2:7947}", "error", "refused")
		}, "ERROR"},
		{"S3 client probing", func() {
			log.Warn("request failed", "code", "NotImplemented", "err", "acl")
		}, "DEBUG"},
		{"S3 backend failing", func() {
			log.Warn("request failed", "code", "ServiceUnavailable", "err", "no leader")
		}, "WARN"},
	} {
		tc.log()
		got := lines(buf)
		if len(got) != 1 || !strings.Contains(got[0], "level="+tc.level+" ") {
			t.Errorf("%s: %q, want one line at %s", tc.name, got, tc.level)
		}
	}
	// Gossip's complaints while this node runs are kept; while it stops
	// they are its own sockets and its peers' closing.
	gossip := log.With("component", "gossip")
	gossipLines := func() {
		gossip.Error("Failed to send gossip to 127.0.0.1:41731: write udp 127.0.0.1:36567->127.0.0.1:41731: use of closed network connection", "lib", "memberlist")
		gossip.Warn("Was able to connect to dev-1 over TCP but UDP probes failed, network may be misconfigured", "lib", "memberlist")
	}
	gossipLines()
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[0], "level=ERROR") || !strings.Contains(got[1], "level=WARN") {
		t.Errorf("gossip failing while this node runs: %q, want ERROR and WARN", got)
	}
	h.stopping.Store(true)
	log.Warn("member failed", "id", "n3")
	if got := lines(buf); len(got) != 1 || !strings.Contains(got[0], "level=INFO") {
		t.Errorf("member failed while this node stops: %q, want INFO", got)
	}
	gossipLines()
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[0], "level=INFO") || !strings.Contains(got[1], "level=INFO") {
		t.Errorf("gossip failing while this node stops: %q, want INFO", got)
	}

	// Lowered below the handler's level, a line is dropped.
	log, _, buf, _ = quietLogger(slog.LevelWarn)
	log.Warn("heartbeat timeout reached, starting election", "last-leader-id", "")
	log.Warn("request failed", "code", "NotImplemented")
	if got := lines(buf); len(got) != 0 {
		t.Errorf("at level WARN, routine lines were logged: %q", got)
	}
}
