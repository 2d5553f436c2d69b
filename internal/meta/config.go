package meta

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Config configures Open. Start from Default(); Open fills any zero
// duration, count or function from Default() too, then calls Validate.
type Config struct {
	// Dir holds everything the node keeps: the raft log (raftlog, in
	// Dir/raft.db; an older node's raft-wal directory Dir/wal is migrated
	// into it on Open), raft snapshots (Dir/snapshots) and the state machine
	// (Dir/fsm.db). Open creates it if need be. Required.
	Dir string

	// NodeID is this node's raft server ID, stable across restarts and
	// unique in the group. Required.
	NodeID string

	// Transport carries raft's RPCs. If nil, Open creates a raft TCP
	// transport listening on BindAddr and advertising Advertise (or
	// BindAddr). Dev mode passes raft's in-memory transport for its single
	// voter; tests connect several. Close closes the transport either way
	// (raft's Shutdown closes a transport that has a Close method).
	Transport raft.Transport

	// BindAddr is the TCP address ("host:port") the raft transport listens
	// on when Transport is nil.
	BindAddr string

	// Advertise is the address other voters reach this node at, when it
	// differs from BindAddr (BindAddr 0.0.0.0, NAT). Optional.
	Advertise string

	// ServerTLS and ClientTLS, when set, carry the TCP transport's
	// connections over TLS: ServerTLS for the voters that connect to this
	// one, ClientTLS for connecting to them. They decide who may speak
	// Raft (in a cluster: mutual TLS, metadata nodes only). Both or
	// neither.
	ServerTLS, ClientTLS *tls.Config

	// Bootstrap makes a node that has no raft state yet start a new group
	// with itself as the only voter. A node with existing state ignores
	// it. Nodes that join an existing group leave it false; the leader
	// adds them (Raft().AddVoter).
	Bootstrap bool

	// Logger receives raft's logs (adapted from hclog, structured) and the
	// store's own. Raft's Info messages are logged at Debug. Nil discards.
	Logger *slog.Logger

	// ApplyTimeout bounds each write, from proposal to applied, and each
	// read's leadership check, on top of the caller's context. Default 10s.
	ApplyTimeout time.Duration

	// SnapshotThreshold is how many raft entries since the last snapshot
	// make raft take a new one (checked every SnapshotInterval). Default
	// 8192.
	SnapshotThreshold uint64

	// SnapshotInterval is how often raft checks SnapshotThreshold (with
	// jitter). Default 120s.
	SnapshotInterval time.Duration

	// TrailingLogs is how many entries stay in the log after a snapshot, so
	// a follower a little behind catches up from the log rather than from
	// a whole snapshot. Default 10240.
	TrailingLogs uint64

	// SnapshotRetain is how many snapshots stay on disk. Default 2.
	SnapshotRetain int

	// MaxAppendEntries caps the entries per replication message and per
	// state machine batch (one bbolt transaction). Default 64.
	MaxAppendEntries int

	// HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout and
	// CommitTimeout are raft's timers for a group of several voters
	// (defaults: raft's, 1s, 1s, 500ms, 50ms). Tests shrink them.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// SoloTimeout replaces the heartbeat, election and leader lease
	// timeouts when, at Open, this node is the only voter of its group (a
	// bootstrap, or a restart of a single-voter group): a lone voter waits
	// one heartbeat timeout (randomised up to twice that) before it elects
	// itself, so the default 100ms makes a dev node leader in 100-200ms
	// instead of 1-2s. The timers are chosen once per Open: a group grown
	// from one voter keeps the short timers on that node until it
	// restarts, which is fine on a LAN. Default 100ms.
	SoloTimeout time.Duration

	// Now is the clock proposers read for the time a command carries (the
	// state machine reads none). Default time.Now.
	Now func() time.Time
}

// Default returns a complete Config but for Dir, NodeID and a transport
// (Transport or BindAddr).
func Default() Config {
	return Config{
		ApplyTimeout:       10 * time.Second,
		SnapshotThreshold:  8192,
		SnapshotInterval:   120 * time.Second,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
		MaxAppendEntries:   64,
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SoloTimeout:        100 * time.Millisecond,
		Now:                time.Now,
	}
}

// withDefaults returns c with every zero field that has a default set to
// it.
func (c Config) withDefaults() Config {
	d := Default()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&c.ApplyTimeout, d.ApplyTimeout)
	setDur(&c.SnapshotInterval, d.SnapshotInterval)
	setDur(&c.HeartbeatTimeout, d.HeartbeatTimeout)
	setDur(&c.ElectionTimeout, d.ElectionTimeout)
	setDur(&c.LeaderLeaseTimeout, d.LeaderLeaseTimeout)
	setDur(&c.CommitTimeout, d.CommitTimeout)
	setDur(&c.SoloTimeout, d.SoloTimeout)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = d.SnapshotRetain
	}
	if c.MaxAppendEntries == 0 {
		c.MaxAppendEntries = d.MaxAppendEntries
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// Validate returns an error for each missing field or bad combination.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Dir == "" {
		bad("Dir is required")
	}
	if c.NodeID == "" {
		bad("NodeID is required")
	}
	if (c.ServerTLS == nil) != (c.ClientTLS == nil) {
		bad("ServerTLS and ClientTLS go together")
	}
	if c.Transport == nil {
		if c.BindAddr == "" {
			bad("BindAddr is required without a Transport")
		} else if _, _, err := net.SplitHostPort(c.BindAddr); err != nil {
			bad("BindAddr %q: %v", c.BindAddr, err)
		}
		if c.Advertise != "" {
			if _, _, err := net.SplitHostPort(c.Advertise); err != nil {
				bad("Advertise %q: %v", c.Advertise, err)
			}
		}
	}
	if c.ApplyTimeout <= 0 {
		bad("ApplyTimeout must be positive")
	}
	if c.SnapshotRetain < 1 {
		bad("SnapshotRetain must be at least 1")
	}
	if c.MaxAppendEntries < 1 || c.MaxAppendEntries > 1024 {
		bad("MaxAppendEntries must be in 1..1024")
	}
	if c.SnapshotInterval < 5*time.Millisecond {
		bad("SnapshotInterval must be at least 5ms")
	}
	if c.HeartbeatTimeout < 5*time.Millisecond {
		bad("HeartbeatTimeout must be at least 5ms")
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		bad("ElectionTimeout (%s) must not be less than HeartbeatTimeout (%s)", c.ElectionTimeout, c.HeartbeatTimeout)
	}
	if c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		bad("LeaderLeaseTimeout (%s) must be in 5ms..HeartbeatTimeout (%s)", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.CommitTimeout < time.Millisecond {
		bad("CommitTimeout must be at least 1ms")
	}
	if c.SoloTimeout < 10*time.Millisecond {
		bad("SoloTimeout must be at least 10ms")
	}
	if c.Now == nil {
		bad("Now is required")
	}
	return errors.Join(errs...)
}

// raftConfig returns raft's configuration; solo: this node is the only
// voter (see SoloTimeout).
func (c Config) raftConfig(solo bool) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	// The state machine is durable on its own (bbolt, with the last applied
	// index): a restart must not wipe it by restoring the last snapshot.
	rc.NoSnapshotRestoreOnStart = true
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	rc.MaxAppendEntries = c.MaxAppendEntries
	rc.BatchApplyCh = true // proposals queue without blocking; Store bounds the wait itself
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	if solo {
		rc.HeartbeatTimeout = c.SoloTimeout
		rc.ElectionTimeout = c.SoloTimeout
		rc.LeaderLeaseTimeout = c.SoloTimeout
		rc.CommitTimeout = min(c.CommitTimeout, c.SoloTimeout/2)
	}
	return rc
}
