package meta

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// cluster is a raft group in one process over in-memory transports.
type cluster struct {
	t     *testing.T
	nodes []*node
}

// newCluster starts n nodes: the first bootstraps alone, and adds the
// others as voters, the way the cluster layer will.
func newCluster(t *testing.T, n int, cfgFn func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t}
	dir := t.TempDir()
	for i := range n {
		cfg := testConfig(filepath.Join(dir, fmt.Sprint("n", i)), fmt.Sprint("n", i), nil)
		cfg.SoloTimeout = 100 * time.Millisecond
		cfg.Bootstrap = i == 0
		if cfgFn != nil {
			cfgFn(&cfg)
		}
		nd := &node{t: t, cfg: cfg}
		nd.open()
		t.Cleanup(nd.close)
		c.nodes = append(c.nodes, nd)
	}
	c.connect()
	waitLeader(t, c.nodes[0].s)
	for _, nd := range c.nodes[1:] {
		c.addVoter(nd)
	}
	return c
}

func (c *cluster) addVoter(nd *node) {
	c.t.Helper()
	retry(c.t, 10*time.Second, func() error {
		l := c.leader()
		if l == nil {
			return errors.New("no leader")
		}
		return l.s.Raft().AddVoter(raft.ServerID(nd.cfg.NodeID), nd.trans.LocalAddr(), 0, 5*time.Second).Error()
	})
}

// connect connects every live node's transport to every other's.
func (c *cluster) connect() {
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if a != b && a.s != nil && b.s != nil {
				a.trans.Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
}

// kill stops a node and cuts it off the others.
func (c *cluster) kill(nd *node) {
	c.t.Helper()
	addr := nd.trans.LocalAddr()
	nd.close()
	for _, o := range c.nodes {
		if o.s != nil {
			o.trans.Disconnect(addr)
		}
	}
}

// leader returns the live node that is leader, if exactly one is.
func (c *cluster) leader() *node {
	var l *node
	for _, nd := range c.nodes {
		if nd.s != nil && nd.s.Raft().State() == raft.Leader {
			if l != nil {
				return nil
			}
			l = nd
		}
	}
	return l
}

func (c *cluster) waitLeader() *node {
	c.t.Helper()
	var l *node
	retry(c.t, 10*time.Second, func() error {
		if l = c.leader(); l == nil {
			return errors.New("no single leader")
		}
		return l.s.WaitLeader(bg)
	})
	return l
}

// onLeader runs a write on the leader, again on the new leader if
// leadership moved meanwhile (test timers are short).
func (c *cluster) onLeader(fn func(s *Store) error) {
	c.t.Helper()
	retry(c.t, 10*time.Second, func() error {
		l := c.leader()
		if l == nil {
			return errors.New("no leader")
		}
		return fn(l.s)
	})
}

// waitReplicated waits until every live node holds the leader's state.
func (c *cluster) waitReplicated() {
	c.t.Helper()
	retry(c.t, 10*time.Second, func() error {
		l := c.leader()
		if l == nil {
			return errors.New("no leader")
		}
		want := l.s.fsm.dump(c.t)
		for _, nd := range c.nodes {
			if nd.s == nil || nd == l {
				continue
			}
			if d := diffDump(want, nd.s.fsm.dump(c.t)); d != "" {
				return fmt.Errorf("%s differs from leader %s: %s", nd.cfg.NodeID, l.cfg.NodeID, d)
			}
		}
		return nil
	})
}

func TestCluster(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.waitLeader()
	c.onLeader(func(s *Store) error {
		if err := s.CreateBucket(bg, "b", time.Now()); err != nil && !errors.Is(err, ErrBucketExists) {
			return err
		}
		return nil
	})
	for i := range 20 {
		c.onLeader(func(s *Store) error {
			return s.PutObject(bg, object("b", fmt.Sprint("k", i), "shared", fmt.Sprint("c", i)))
		})
	}
	c.waitReplicated()

	// Followers refuse reads and writes, naming the leader.
	l := c.waitLeader()
	for _, nd := range c.nodes {
		if nd == l {
			continue
		}
		retry(t, 5*time.Second, func() error {
			err := nd.s.PutObject(bg, object("b", "x"))
			var nle *NotLeaderError
			if !errors.As(err, &nle) || !errors.Is(err, ErrNotLeader) {
				return fmt.Errorf("write on follower %s: %v", nd.cfg.NodeID, err)
			}
			if cur := c.leader(); cur == nil || nle.LeaderAddr != string(cur.trans.LocalAddr()) || nle.LeaderID != cur.cfg.NodeID {
				return fmt.Errorf("follower %s names leader %s at %s", nd.cfg.NodeID, nle.LeaderID, nle.LeaderAddr)
			}
			return nil
		})
		_, err := nd.s.GetObject(bg, "b", "k1")
		wantErr(t, err, ErrNotLeader)
		_, err = nd.s.ListBuckets(bg)
		wantErr(t, err, ErrNotLeader)
	}

	// Kill the leader: another is elected, and has every committed write.
	l = c.waitLeader()
	c.kill(l)
	nl := c.waitLeader()
	if nl == l {
		t.Fatal("the dead leader still leads")
	}
	for i := range 20 {
		o, err := nl.s.GetObject(bg, "b", fmt.Sprint("k", i))
		if err != nil {
			t.Fatalf("committed object k%d after failover: %v", i, err)
		}
		if len(o.Chunks) != 2 {
			t.Errorf("k%d has %d chunks", i, len(o.Chunks))
		}
	}
	if n := refsOf(t, nl.s, "shared"); n != 20 {
		t.Errorf("refs of shared = %d after failover, want 20", n)
	}
	c.onLeader(func(s *Store) error { return s.PutObject(bg, object("b", "after", "shared")) })
	c.onLeader(func(s *Store) error { return s.DeleteObjects(bg, "b", []string{"k0", "k1"}) })
	c.waitReplicated()

	// The old leader comes back as a follower and catches up.
	l.open()
	c.connect()
	c.waitReplicated()
	nl = c.waitLeader()
	checkRefsConsistent(t, nl.s)
	if n := refsOf(t, nl.s, "shared"); n != 19 {
		t.Errorf("refs of shared = %d, want 19", n)
	}
}

// TestInstallSnapshot adds a voter after the log was compacted: the leader
// sends it a snapshot, which its state machine restores (Restore replaces
// the bbolt file), then the log that follows.
func TestInstallSnapshot(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.TrailingLogs = 3
	})
	c.waitLeader()
	c.onLeader(func(s *Store) error {
		if err := s.CreateBucket(bg, "b", time.Now()); err != nil && !errors.Is(err, ErrBucketExists) {
			return err
		}
		return nil
	})
	for i := range 30 {
		c.onLeader(func(s *Store) error { return s.PutObject(bg, object("b", fmt.Sprint("k", i), fmt.Sprint("c", i%7))) })
	}
	c.onLeader(func(s *Store) error { return s.Raft().Snapshot().Error() })
	l := c.waitLeader()
	first, err := l.s.logs.FirstIndex()
	must(t, err)
	if first <= 2 {
		t.Fatalf("log not compacted: first index %d", first)
	}
	c.onLeader(func(s *Store) error { return s.PutObject(bg, object("b", "after-snapshot", "c1")) })

	cfg := testConfig(filepath.Join(t.TempDir(), "n3"), "n3", nil)
	nd := &node{t: t, cfg: cfg}
	nd.open()
	t.Cleanup(nd.close)
	c.nodes = append(c.nodes, nd)
	c.connect()
	c.addVoter(nd)
	c.waitReplicated()
	if snaps, err := nd.s.snaps.List(); err != nil || len(snaps) == 0 {
		t.Fatalf("the new voter got no snapshot (%v): it cannot have caught up from the compacted log", err)
	}
	c.onLeader(func(s *Store) error { return s.PutObject(bg, object("b", "after-join", "c2")) })
	c.waitReplicated()
	l = c.waitLeader()
	checkRefsConsistent(t, l.s)

	// The new voter restarts with its restored state.
	want := nd.s.fsm.dump(t)
	nd.close()
	nd.open()
	c.connect()
	if d := diffDump(want, nd.s.fsm.dump(t)); d != "" {
		t.Fatalf("restored follower changed across restart: %s", d)
	}
	c.waitReplicated()
}
