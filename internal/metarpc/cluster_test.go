package metarpc

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"cairn/internal/meta"

	"github.com/hashicorp/raft"
)

// cluster is a 3-voter raft group in one process over in-memory
// transports, with a metarpc Server on each node.
type cluster struct {
	t     *testing.T
	nodes []*node
	// urls maps a raft address to the node's API URL: the lead's mapping.
	urls map[string]string
	// hints makes the servers name the leader's API URL in NotLeader
	// answers (ServerConfig.LeaderAPI).
	hints atomic.Bool
}

func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, urls: map[string]string{}}
	dir := t.TempDir()
	for i := range n {
		id := fmt.Sprint("n", i)
		nd := openNode(t, filepath.Join(dir, id), id, i == 0, func(sc *ServerConfig) {
			sc.LeaderAPI = func(raftAddr string) string {
				if !c.hints.Load() {
					return ""
				}
				return c.urls[raftAddr]
			}
		})
		c.urls[string(nd.trans.LocalAddr())] = nd.http.URL
		c.nodes = append(c.nodes, nd)
	}
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if a != b {
				a.trans.Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
	waitLeader(t, c.nodes[0].s)
	for _, nd := range c.nodes[1:] {
		retry(t, 10*time.Second, func() error {
			l := c.leader()
			if l == nil {
				return errors.New("no leader")
			}
			return l.s.Raft().AddVoter(raft.ServerID(nd.id), nd.trans.LocalAddr(), 0, 5*time.Second).Error()
		})
	}
	return c
}

// leader returns the live node that is leader, if exactly one is.
func (c *cluster) leader() *node {
	var l *node
	for _, nd := range c.nodes {
		if nd.alive.Load() && nd.s.Raft().State() == raft.Leader {
			if l != nil {
				return nil
			}
			l = nd
		}
	}
	return l
}

// waitLeader waits until one live node leads and every live node knows
// it.
func (c *cluster) waitLeader() *node {
	c.t.Helper()
	var l *node
	retry(c.t, 10*time.Second, func() error {
		if l = c.leader(); l == nil {
			return errors.New("no single leader")
		}
		for _, nd := range c.nodes {
			if addr, _ := nd.s.Raft().LeaderWithID(); nd.alive.Load() && addr != l.trans.LocalAddr() {
				return fmt.Errorf("%s thinks the leader is %q", nd.id, addr)
			}
		}
		return nil
	})
	return l
}

// follower returns a live node that is not the leader.
func (c *cluster) follower() *node {
	l := c.waitLeader()
	for _, nd := range c.nodes {
		if nd != l && nd.alive.Load() {
			return nd
		}
	}
	c.t.Fatal("no follower")
	return nil
}

// leaderURL is a Leader func as the lead would write one: the API URL of
// the leader that the live nodes' raft state names, or "".
func (c *cluster) leaderURL() string {
	for _, nd := range c.nodes {
		if !nd.alive.Load() {
			continue
		}
		if addr, _ := nd.s.Raft().LeaderWithID(); addr != "" {
			return c.urls[string(addr)]
		}
	}
	return ""
}

// others returns the requests received by the live nodes but nd.
func (c *cluster) others(nd *node) int64 {
	var n int64
	for _, o := range c.nodes {
		if o != nd {
			n += o.hits.Load()
		}
	}
	return n
}

// put puts o through api, again if the outcome of an attempt is unknown
// (test timers are short: leadership can move while a write commits).
// PutObject is idempotent, so this is what a caller may do.
func put(t *testing.T, api API, o *meta.Object) {
	t.Helper()
	for {
		err := api.PutObject(bg, o)
		if !errors.Is(err, ErrOutcomeUnknown) {
			must(t, err)
			return
		}
		t.Logf("put %s again: %v", o.Key, err)
	}
}

func TestCluster(t *testing.T) {
	c := newCluster(t, 3)
	c.waitLeader()
	client := newClient(t, testSecret, c.leaderURL, nil)
	for {
		// CreateBucket is not idempotent: after an unknown outcome,
		// ErrBucketExists means done.
		err := client.CreateBucket(bg, "b", time.Now())
		if errors.Is(err, ErrOutcomeUnknown) {
			continue
		}
		if err != nil && !errors.Is(err, meta.ErrBucketExists) {
			t.Fatal(err)
		}
		break
	}

	// Each check below is retried if leadership moved meanwhile.

	// A client whose Leader func names a follower once, then resolves
	// from raft state: the follower answers NotLeader (no hint), the
	// client asks again and reaches the leader.
	retry(t, 10*time.Second, func() error {
		f := c.follower()
		var asked atomic.Int64
		cl := newClient(t, testSecret, func() string {
			if asked.Add(1) == 1 {
				return f.http.URL
			}
			return c.leaderURL()
		}, nil)
		fHits := f.hits.Load()
		if err := cl.PutObject(bg, object("b", "resolved", "c0")); err != nil {
			return err
		}
		if f.hits.Load()-fHits != 1 || asked.Load() < 2 {
			return fmt.Errorf("the follower got %d requests and Leader was asked %d times", f.hits.Load()-fHits, asked.Load())
		}
		return nil
	})

	// A client that only knows a follower is redirected by the
	// follower's NotLeader answer, which names the leader's API URL.
	c.hints.Store(true)
	retry(t, 10*time.Second, func() error {
		f := c.follower()
		stuck := newClient(t, testSecret, fixed(f.http.URL), nil)
		fHits, oHits := f.hits.Load(), c.others(f)
		if err := stuck.PutObject(bg, object("b", "redirected", "c0")); err != nil {
			return err
		}
		if _, err := stuck.GetObject(bg, "b", "redirected"); err != nil {
			return err
		}
		if f.hits.Load()-fHits != 2 || c.others(f)-oHits != 2 {
			return fmt.Errorf("follower got %d requests, the others %d; want 2 and 2", f.hits.Load()-fHits, c.others(f)-oHits)
		}
		return nil
	})

	// Without hints, it tries again until its Timeout, then fails with
	// an error wrapping ErrNotLeader that names the leader; nothing was
	// written.
	c.hints.Store(false)
	attempt := 0
	retry(t, 10*time.Second, func() error {
		attempt++
		f := c.follower()
		short := newClient(t, testSecret, fixed(f.http.URL), func(cfg *ClientConfig) { cfg.Timeout = 300 * time.Millisecond })
		key := fmt.Sprint("never", attempt)
		err := short.PutObject(bg, object("b", key, "c0"))
		var nle *meta.NotLeaderError
		if !errors.Is(err, meta.ErrNotLeader) || !errors.As(err, &nle) || !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("write through a follower only: %v", err)
		}
		if nle.LeaderAddr == "" || nle.LeaderAddr == string(f.trans.LocalAddr()) {
			return fmt.Errorf("NotLeader from %s names leader %q", f.id, nle.LeaderAddr)
		}
		if _, err := client.GetObject(bg, "b", key); !errors.Is(err, meta.ErrNoSuchKey) {
			t.Fatalf("the refused write is there: %v", err)
		}
		return nil
	})

	// Committed writes, then the leader dies.
	var written []*meta.Object
	for i := range 20 {
		o := object("b", fmt.Sprint("k", i), "shared", fmt.Sprint("c", i))
		put(t, client, o)
		written = append(written, o)
	}
	l := c.waitLeader()
	l.kill()

	// The client's Leader func names the dead leader until the others
	// notice; the client keeps trying until one of them leads.
	start := time.Now()
	put(t, client, object("b", "after", "shared"))
	t.Logf("first write after the leader died took %s", time.Since(start).Round(time.Millisecond))
	nl := c.waitLeader()
	if nl == l {
		t.Fatal("the dead leader still leads")
	}
	for _, o := range written {
		got, err := client.GetObject(bg, o.Bucket, o.Key)
		if err != nil {
			t.Fatalf("committed object %s after failover: %v", o.Key, err)
		}
		want := *o
		want.V = meta.FormatVersion
		want.Seq = got.Seq // the state machine's, which orders versions
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("object %s after failover:\n%+v\nwant\n%+v", o.Key, got, &want)
		}
	}
	if n, err := client.ChunkRefs(bg, cid("shared")); err != nil || n != 21 {
		t.Errorf("refs of shared = %d, %v; want 21", n, err)
	}
	res, err := client.ListObjects(bg, "b", meta.ListQuery{})
	must(t, err)
	if len(res.Objects) != 23 { // resolved, redirected, k0..k19, after
		t.Errorf("%d objects listed after failover, want 23", len(res.Objects))
	}
}
