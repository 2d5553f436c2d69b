package node

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cairn/internal/cluster"
)

// quietHandler keeps a node's log to what an operator should read: it
// lowers to INFO what its libraries log as warnings on a normal start or
// stop (routine), and rate-limits warnings and errors repeated about one
// peer: the first of each interval is logged, the ones after it only
// counted, and the first after the interval carries how many were not
// logged (repeated, over). A down Raft peer is thus one line a minute,
// not twenty-five a second. Safe for concurrent use; handlers derived by
// WithAttrs and WithGroup share the limiter.
type quietHandler struct {
	next slog.Handler
	*quietState
}

// quietState is what the handlers derived from one another share.
type quietState struct {
	// stopping is set once the node stops (see routine); members once
	// the node gossips: which peers left on purpose.
	stopping atomic.Bool
	members  atomic.Pointer[cluster.Cluster]
	lim      *peerLimiter
}

// summaryInterval is how often a warning repeated about one peer is
// logged, with the count of those in between.
const summaryInterval = time.Minute

func newQuietHandler(next slog.Handler, now func() time.Time) *quietHandler {
	return &quietHandler{next: next, quietState: &quietState{lim: &peerLimiter{now: now, every: summaryInterval, seen: map[string]*peerWindow{}}}}
}

func (h *quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &quietHandler{next: h.next.WithAttrs(as), quietState: h.quietState}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{next: h.next.WithGroup(name), quietState: h.quietState}
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	level := r.Level
	switch {
	case r.Message == "request failed" && attrString(r, "code") == "NotImplemented":
		// An S3 client probing for a feature Cairn does not have (s3cmd
		// asks for a bucket's ACL, policy, CORS...): the client's
		// business, answered 501 as S3 does; a line per request at DEBUG.
		level = slog.LevelDebug
	case h.routine(r):
		level = slog.LevelInfo
	}
	if !h.next.Enabled(ctx, level) {
		return nil
	}
	key := peerOf(r)
	if key == "" && repeating[r.Message] {
		key = "-"
	}
	var skipped int
	var since time.Duration
	if key != "" {
		var log bool
		if log, skipped, since = h.lim.allow(r.Message + "\x00" + key); !log {
			return nil
		}
	}
	out := slog.NewRecord(r.Time, level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
	if skipped > 0 {
		out.AddAttrs(slog.Int("repeated", skipped), slog.Duration("over", since.Round(time.Second)))
	}
	return h.next.Handle(ctx, out)
}

// repeating are the warnings about no peer in particular that come as
// fast as Raft retries, or once per chunk while a storage node is down:
// rate-limited as those about one peer.
var repeating = map[string]bool{
	"Election timeout reached, restarting election":                         true,
	"failed to contact quorum of nodes, stepping down":                      true,
	"degraded read: rebuilding chunk from parity":                           true,
	"chunk stored without all shards; the missing ones are left for repair": true,
}

// routine reports whether a warning is part of a normal start or stop:
//
//   - Raft's first election: the heartbeat timeout of a node that never
//     had a leader (a new cluster, or a restart) is how Raft starts;
//   - a new voter catching up: the leader sends it older entries, and
//     the voter, whose log is still empty, says it lacks the previous one;
//   - Raft failing to reach a peer that left the cluster on purpose (its
//     gossip said so: storaged stopped), or electing a leader again after
//     the last one left, or finding no quorum when the voters it lacks
//     all left on purpose: an operator stopping nodes;
//   - while this node stops, the members it sees fail: in the dev cluster
//     every node stops at once, and a member that stops before it heard
//     another leave sees it go silent, and gossip's last rounds fail as
//     its own sockets and its peers' close.
//
// The same warnings about a peer that failed (crashed, cut off) stay
// warnings.
func (h *quietHandler) routine(r slog.Record) bool {
	switch r.Message {
	case "heartbeat timeout reached, starting election":
		last := attrString(r, "last-leader-id")
		return last == "" || h.left(last)
	case "appendEntries rejected, sending older logs":
		return true
	case "failed to get previous log":
		return attrString(r, "last-index") == "0"
	case "member failed":
		return h.stopping.Load()
	case "failed to heartbeat to", "failed to appendEntries to", "failed to contact", "failed to make requestVote RPC",
		"failed to start pipeline replication to", "failed to pipeline appendEntries":
		p := peerOf(r)
		_, v, _ := strings.Cut(p, "=")
		return p != "" && h.left(v)
	case "failed to contact quorum of nodes, stepping down", "Election timeout reached, restarting election":
		return h.votersLeft()
	case "leave the cluster", "timeout waiting for leave broadcast: timeout waiting for leave broadcast":
		// The last member to leave has nobody to tell.
		return h.alone()
	}
	err := attrString(r, "err") + attrString(r, "error")
	switch {
	case h.stopping.Load() && strings.Contains(err, "transport shutdown"):
		return true // Raft's connections close as it stops
	case h.stopping.Load() && attrString(r, "lib") == "memberlist":
		// Gossip's last rounds: its own sockets closing, peers stopping
		// at the same moment ("Failed to send gossip ... use of closed
		// network connection", "... over TCP but UDP probes failed").
		return true
	case h.votersLeft() && (strings.Contains(err, "not the raft leader") || strings.Contains(err, "leadership lost") ||
		strings.Contains(err, "no leader")):
		return true // the metadata group stopped with its voters
	}
	return false
}

// alone reports whether gossip has no other member alive.
func (h *quietHandler) alone() bool {
	c := h.members.Load()
	if c == nil {
		return false
	}
	self := c.Self().ID
	for _, m := range c.Members() {
		if m.ID != self && m.Status == cluster.StatusAlive {
			return false
		}
	}
	return true
}

// raftPeer matches Raft's formatting of a server: {Suffrage:Voter ID:n1 Address:10.0.0.1:7947}.
var raftPeer = regexp.MustCompile(`ID:(\S+) Address:([^}\s]+)`)

// left reports whether gossip says the peer (a node ID, an address, or a
// Raft server) left the cluster on purpose.
func (h *quietHandler) left(peer string) bool {
	c := h.members.Load()
	if c == nil {
		return false
	}
	id, addr := peer, peer
	if m := raftPeer.FindStringSubmatch(peer); m != nil {
		id, addr = m[1], m[2]
	}
	for _, m := range c.Members() {
		if m.ID == id || (addr != "" && (m.RaftAddr == addr || m.APIAddr == addr)) {
			return m.Status == cluster.StatusLeft || m.Status == cluster.StatusLeaving
		}
	}
	return false
}

// votersLeft reports whether the other metadata voters this node lacks
// all left on purpose: none failed, and at least one left.
func (h *quietHandler) votersLeft() bool {
	c := h.members.Load()
	if c == nil {
		return false
	}
	self, left := c.Self().ID, 0
	for _, m := range c.Members() {
		if m.ID == self || !m.HasRole(cluster.RoleMeta) {
			continue
		}
		switch m.Status {
		case cluster.StatusFailed:
			return false
		case cluster.StatusLeft, cluster.StatusLeaving:
			left++
		}
	}
	return left > 0
}

// peerKeys are the attributes that name the peer a record is about:
// Raft's ("peer", "server-id", "target"), gossip's and healing's. (The
// node's own ID is an attribute of the logger, not of its records.)
var peerKeys = []string{"peer", "server-id", "member", "target", "node"}

func peerOf(r slog.Record) string {
	for _, k := range peerKeys {
		if v := attrString(r, k); v != "" {
			return k + "=" + v
		}
	}
	return ""
}

// attrString returns the value of the record's attribute key as text, ""
// when it has none.
func attrString(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.Resolve().String()
			if a.Value.Kind() == slog.KindAny {
				v = fmt.Sprintf("%+v", a.Value.Any()) // as the text handler writes it
			}
			return false
		}
		return true
	})
	return v
}

// peerLimiter decides which of the records repeated about one peer are
// logged: the first in each interval. Safe for concurrent use.
type peerLimiter struct {
	now   func() time.Time
	every time.Duration

	mu   sync.Mutex
	seen map[string]*peerWindow // by message and peer; bounded by maxPeerWindows
}

type peerWindow struct {
	start   time.Time // when the logged record of this interval was
	skipped int       // records not logged since
}

// maxPeerWindows bounds the limiter's memory: past it, every window is
// forgotten at once (the next record of each is logged).
const maxPeerWindows = 1024

// allow says whether to log a record with this key, and if so how many
// were not logged since the last one, and over how long.
func (l *peerLimiter) allow(key string) (log bool, skipped int, since time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.seen[key]
	if !ok {
		if len(l.seen) >= maxPeerWindows {
			clear(l.seen)
		}
		l.seen[key] = &peerWindow{start: now}
		return true, 0, 0
	}
	if now.Sub(w.start) < l.every {
		w.skipped++
		return false, 0, 0
	}
	skipped, since = w.skipped, now.Sub(w.start)
	w.start, w.skipped = now, 0
	return true, skipped, since
}
