package meta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"

	"cairn/internal/raftlog"
)

// logCacheSize is how many of the latest raft entries stay in memory.
const logCacheSize = 512

// Store is one member of the metadata raft group. Writes are raft entries
// proposed on the leader; reads are served by the leader, linearizably.
// On a follower every method returns an error wrapping ErrNotLeader (a
// *NotLeaderError, which names the leader when known). Safe for concurrent
// use.
type Store struct {
	cfg  Config
	log  *slog.Logger
	self raft.ServerID

	fsm       *fsm
	logs      *raftlog.Store
	snaps     raft.SnapshotStore
	trans     raft.Transport
	ownsTrans bool
	r         *raft.Raft

	// readyTerm is the last term in which, as leader, this node had
	// applied every entry of earlier terms (a raft barrier).
	readyTerm atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// NotLeaderError is the error of a call made on a node that is not the
// leader. It wraps ErrNotLeader; LeaderID and LeaderAddr name the leader
// when this node knows it (the address is its raft address).
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return ErrNotLeader.Error() + " (leader unknown)"
	}
	return fmt.Sprintf("%s (leader %s at %s)", ErrNotLeader, e.LeaderID, e.LeaderAddr)
}

func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

// Open opens (or creates) the node's state in cfg.Dir and starts raft.
// With cfg.Bootstrap and no state yet, it starts a new group with this node
// as the only voter. Open does not wait for a leader: see WaitLeader.
func Open(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("meta: config: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hl := newHclog(log)
	s := &Store{cfg: cfg, log: log, self: raft.ServerID(cfg.NodeID)}
	if err := s.open(hl); err != nil {
		_ = s.shutdown()
		return nil, fmt.Errorf("meta: open %s: %w", cfg.Dir, err)
	}
	return s, nil
}

func (s *Store) open(hl *slogHclog) error {
	cfg := s.cfg
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return err
	}
	var err error
	if s.fsm, err = openFSM(filepath.Join(cfg.Dir, "fsm.db"), s.log); err != nil {
		return err
	}
	if s.logs, err = raftlog.Open(filepath.Join(cfg.Dir, "raft.db")); err != nil {
		return fmt.Errorf("open raft log: %w", err)
	}
	// Nodes before raftlog kept raft's log in raft-wal (Dir/wal).
	if err := raftlog.MigrateWAL(filepath.Join(cfg.Dir, "wal"), s.logs, s.log); err != nil {
		return err
	}
	if s.snaps, err = raft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.SnapshotRetain, hl.Named("snapshots")); err != nil {
		return err
	}
	if err := s.catchUpSnapshot(); err != nil {
		return err
	}

	s.trans = cfg.Transport
	if s.trans == nil {
		var adv net.Addr
		if cfg.Advertise != "" {
			if adv, err = net.ResolveTCPAddr("tcp", cfg.Advertise); err != nil {
				return fmt.Errorf("advertise address: %w", err)
			}
		}
		var nt *raft.NetworkTransport
		var err error
		if cfg.ServerTLS != nil {
			nt, err = newTLSTransport(cfg.BindAddr, adv, cfg.ServerTLS, cfg.ClientTLS, hl.Named("raft-net"))
		} else {
			nt, err = raft.NewTCPTransportWithLogger(cfg.BindAddr, adv, 3, 10*time.Second, hl.Named("raft-net"))
		}
		if err != nil {
			return fmt.Errorf("raft transport: %w", err)
		}
		s.trans, s.ownsTrans = nt, true
	}

	// Raft reads back what it appended recently (to replicate it, to
	// apply it on a follower): a cache spares those reads a transaction.
	logs, err := raft.NewLogCache(logCacheSize, &pacedLog{LogStore: s.logs, fsm: s.fsm})
	if err != nil {
		return err
	}
	existing, err := raft.HasExistingState(logs, s.logs, s.snaps)
	if err != nil {
		return err
	}
	solo := cfg.Bootstrap
	if existing {
		// raft.GetConfiguration builds a raft that starts nothing but takes
		// over the transport's heartbeat handler: give it a transport of
		// its own, so that no heartbeat reaches it.
		rc := cfg.raftConfig(false)
		rc.Logger = hl.Named("raft")
		_, tmp := raft.NewInmemTransport(s.trans.LocalAddr())
		conf, err := raft.GetConfiguration(rc, s.fsm, logs, s.logs, s.snaps, tmp)
		_ = tmp.Close()
		if err != nil {
			return fmt.Errorf("read raft configuration: %w", err)
		}
		solo = soloConfig(conf, s.self)
	}
	rc := cfg.raftConfig(solo)
	rc.Logger = hl.Named("raft")
	if s.r, err = raft.NewRaft(rc, s.fsm, logs, s.logs, s.snaps, s.trans); err != nil {
		return err
	}
	if !existing && cfg.Bootstrap {
		boot := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: s.self, Address: s.trans.LocalAddr(),
		}}}
		if err := s.r.BootstrapCluster(boot).Error(); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	s.log.Debug("meta: store open", "dir", cfg.Dir, "node", cfg.NodeID, "addr", s.trans.LocalAddr(),
		"existing", existing, "solo", solo)
	return nil
}

// catchUpSnapshot restores the newest snapshot into the state machine if
// the state machine is behind it. Raft itself does not (the store sets
// NoSnapshotRestoreOnStart, since the state machine is durable) but then
// takes the snapshot as applied; the state machine is behind only after a
// crash in the middle of installing a snapshot from the leader, or if its
// file was lost.
func (s *Store) catchUpSnapshot() error {
	list, err := s.snaps.List()
	if err != nil || len(list) == 0 {
		return err
	}
	applied, err := s.fsm.applied()
	if err != nil {
		return err
	}
	if list[0].Index <= applied {
		return nil
	}
	s.log.Warn("meta: state machine behind the newest snapshot, restoring it",
		"applied", applied, "snapshot", list[0].ID, "index", list[0].Index)
	meta, rc, err := s.snaps.Open(list[0].ID)
	if err != nil {
		return err
	}
	return s.fsm.restore(rc, meta.Index)
}

func soloConfig(conf raft.Configuration, self raft.ServerID) bool {
	voters := 0
	for _, srv := range conf.Servers {
		if srv.Suffrage == raft.Voter {
			voters++
			if srv.ID != self {
				return false
			}
		}
	}
	return voters == 1
}

// Close stops raft and closes the log, the state machine and the transport
// if Open created it. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Store) shutdown() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Shutdown().Error())
	}
	if s.ownsTrans { // raft's Shutdown closes it already; make sure
		if c, ok := s.trans.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	if s.logs != nil {
		errs = append(errs, s.logs.Close())
	}
	if s.fsm != nil {
		errs = append(errs, s.fsm.close())
	}
	return errors.Join(errs...)
}

// Raft returns the raft node, for the cluster layer (adding and removing
// voters, leadership transfer, stats). Do not Apply to it directly.
func (s *Store) Raft() *raft.Raft { return s.r }

// WaitLeader waits until the group has a leader that this node knows of.
// In a single-voter group that is this node, and WaitLeader then also waits
// until it has applied its whole log, so that reads are served at once.
func (s *Store) WaitLeader(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		_, id := s.r.LeaderWithID()
		switch {
		case id == s.self:
			err := s.linearize(ctx)
			if err == nil || !errors.Is(err, ErrNotLeader) {
				return err
			}
		case id != "" && !s.solo():
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("meta: waiting for a leader: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// solo reports whether this node is the only voter in the latest
// configuration.
func (s *Store) solo() bool {
	f := s.r.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	return soloConfig(f.Configuration(), s.self)
}

func (s *Store) notLeader() error {
	addr, id := s.r.LeaderWithID()
	return &NotLeaderError{LeaderID: string(id), LeaderAddr: string(addr)}
}

// raftErr translates an error of a raft future.
func (s *Store) raftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return s.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: leadership lost while committing: %w", ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("meta: raft: %w", err)
}

// readErr is raftErr for a read: a read changes nothing, so a leadership
// lost while confirming it is only "not the leader", which callers retry
// elsewhere.
func (s *Store) readErr(err error) error {
	if errors.Is(err, raft.ErrLeadershipLost) {
		return s.notLeader()
	}
	return s.raftErr(err)
}

// await waits for f, or for ctx. Raft futures cannot be cancelled: if ctx
// ends first the goroutine waiting on f lingers until raft resolves it
// (applied, leadership lost or shutdown; raft resolves every future).
func await(ctx context.Context, f raft.Future) error {
	if ctx.Done() == nil {
		return f.Error()
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// propose applies cmd through raft and returns the state machine's answer.
// If ctx ends or ApplyTimeout passes first the error says so, and the
// command may still be applied later.
func (s *Store) propose(ctx context.Context, cmd []byte) error {
	_, err := s.proposeResult(ctx, cmd)
	return err
}

// proposeResult is propose, and returns what the command answered
// (wtx.result) when it was applied.
func (s *Store) proposeResult(ctx context.Context, cmd []byte) (any, error) {
	if s.r.State() != raft.Leader {
		return nil, s.notLeader()
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	f := s.r.Apply(cmd, s.cfg.ApplyTimeout)
	if err := await(ctx, f); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("meta: raft entry not applied yet, it may still be: %w", err)
		}
		return nil, s.raftErr(err)
	}
	if err, ok := f.Response().(error); ok {
		return nil, err
	}
	return f.Response(), nil
}

// linearize returns nil when a read of the state machine that follows
// reflects every write acknowledged before linearize was called: this node
// is the leader, has applied every entry of earlier terms (a barrier, once
// per term), and is still the leader now (VerifyLeader: a round of
// heartbeats; skipped when this node is the only voter, since no other node
// can be elected without a configuration entry this node appends first).
func (s *Store) linearize(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if s.r.State() != raft.Leader {
			return s.notLeader()
		}
		term := s.r.CurrentTerm()
		if s.readyTerm.Load() < term {
			if err := await(ctx, s.r.Barrier(s.cfg.ApplyTimeout)); err != nil {
				return s.readErr(err)
			}
			for {
				old := s.readyTerm.Load()
				if old >= term || s.readyTerm.CompareAndSwap(old, term) {
					break
				}
			}
		}
		if !s.solo() {
			if err := await(ctx, s.r.VerifyLeader()); err != nil {
				return s.readErr(err)
			}
		}
		if s.r.CurrentTerm() == term {
			return nil
		}
		if attempt == 2 {
			return s.notLeader()
		}
	}
}

// read runs fn in a read transaction of the state machine, once linearize
// says the state is current.
func (s *Store) read(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := s.linearize(ctx); err != nil {
		return err
	}
	return s.fsm.view(fn)
}
