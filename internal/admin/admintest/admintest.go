// Package admintest runs the admin API for tests: a real metadata store
// (a single raft voter on an in-memory transport, in a temporary
// directory), a gossip view and storage nodes that the test sets up, and
// the admin server mounted on an HTTP mux at adminapi.PathPrefix, as
// storaged mounts it. The gossip view and the storage nodes are fakes;
// everything else is the production code.
//
//	c := admintest.Start(t, admintest.Options{})
//	c.AddStorage("n1", "z1", 1)
//	c.SetLayout("n1")
//	client := c.Client()
package admintest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/admin"
	"cairn/internal/admin/adminapi"
	"cairn/internal/blob"
	"cairn/internal/cluster"
	"cairn/internal/heal"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
)

// Secret is the cluster secret of every test cluster; Token is derived
// from it.
var Secret = []byte("admintest cluster secret, 32 b!!")

// Clock is what the clock of every test cluster reads.
var Clock = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

// GiB is a gibibyte, for usages.
const GiB = 1 << 30

// Options shape a test cluster. Zero values take the defaults.
type Options struct {
	K, M    int           // default 4+2
	Timeout time.Duration // admin.Config.Timeout; default 2s
	// WrapMeta, if set, gives the server its metadata store: the real one
	// wrapped, to inject faults.
	WrapMeta func(*meta.Store) metarpc.API
}

// Cluster is a running test cluster. Everything it started stops when the
// test ends.
type Cluster struct {
	T       testing.TB
	Store   *meta.Store
	Members *Members
	Nodes   *Nodes
	Token   string
	Heal    *Healer
	Server  *admin.Server
	HTTP    *httptest.Server // serves a mux with Server at adminapi.PathPrefix
	K, M    int
	// PlacementKey is the key of every layout SetLayout stores.
	PlacementKey []byte
}

// Start starts a cluster with no members, no storage nodes and no layout.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.K == 0 {
		opts.K, opts.M = 4, 2
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	key := sha256.Sum256([]byte("admintest placement key"))
	c := &Cluster{T: t, Members: &Members{}, Nodes: &Nodes{m: map[string]*Node{}}, Heal: &Healer{}, K: opts.K, M: opts.M, PlacementKey: key[:]}
	c.Store = openStore(t)
	tok, err := admin.Token(Secret)
	if err != nil {
		t.Fatal(err)
	}
	c.Token = tok
	var m metarpc.API = c.Store
	if opts.WrapMeta != nil {
		m = opts.WrapMeta(c.Store)
	}
	c.Server, err = admin.NewServer(admin.Config{
		Meta:    m,
		Members: c.Members,
		Nodes:   c.Nodes.Client,
		Token:   tok,
		K:       opts.K,
		M:       opts.M,
		Timeout: opts.Timeout,
		Now:     func() time.Time { return Clock },
		Heal:    c.Heal,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(adminapi.PathPrefix, c.Server)
	c.HTTP = httptest.NewServer(mux)
	t.Cleanup(c.HTTP.Close)
	return c
}

func openStore(t testing.TB) *meta.Store {
	t.Helper()
	_, trans := raft.NewInmemTransport("meta1")
	cfg := meta.Default()
	cfg.Dir = filepath.Join(t.TempDir(), "meta")
	cfg.NodeID = "meta1"
	cfg.Transport = trans
	cfg.Bootstrap = true
	cfg.HeartbeatTimeout = 100 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	cfg.LeaderLeaseTimeout = 100 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.SoloTimeout = 50 * time.Millisecond
	cfg.Now = func() time.Time { return Clock }
	s, err := meta.Open(cfg)
	if err != nil {
		t.Fatalf("open metadata store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close metadata store: %v", err)
		}
		_ = trans.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitLeader(ctx); err != nil {
		t.Fatalf("metadata store: %v", err)
	}
	return s
}

// Client returns an admin client of the cluster's server.
func (c *Cluster) Client() *adminapi.Client {
	cl, err := adminapi.NewClient(c.HTTP.URL, c.Token, c.HTTP.Client())
	if err != nil {
		c.T.Fatal(err)
	}
	return cl
}

// AddStorage adds an alive storage member and its storage node, holding
// nothing, on a 100 GiB disk.
func (c *Cluster) AddStorage(id, zone string, weight float64) *Node {
	c.Members.Add(cluster.Member{
		ID: id, Zone: zone, Weight: weight, Roles: []cluster.Role{cluster.RoleStorage},
		APIAddr: id + ":7070", Status: cluster.StatusAlive,
	})
	return c.Nodes.Add(id, zone, weight, blob.Usage{Capacity: 100 * GiB, Free: 100 * GiB})
}

// SetLayout stores the next layout version with the given members (their
// zone and weight as gossip announces them) and returns it.
func (c *Cluster) SetLayout(ids ...string) *meta.Layout {
	c.T.Helper()
	ctx := context.Background()
	cur, err := c.Store.Layout(ctx)
	if err != nil {
		c.T.Fatal(err)
	}
	l := &meta.Layout{V: meta.FormatVersion, Version: 1, PlacementKey: c.PlacementKey}
	if cur != nil {
		l.Version = cur.Version + 1
	}
	for _, id := range ids {
		m, ok := c.Members.get(id)
		if !ok {
			c.T.Fatalf("SetLayout: no member %q", id)
		}
		l.Nodes = append(l.Nodes, meta.LayoutNode{ID: id, Zone: m.Zone, Weight: m.Weight, Addr: m.APIAddr})
	}
	if err := c.Store.SetLayout(ctx, l); err != nil {
		c.T.Fatal(err)
	}
	return l
}

// PutObject stores an object of n chunks of 1 KiB (creating the bucket if
// need be), placed under the current layout, and gives each storage node
// the shards placement puts on it.
func (c *Cluster) PutObject(bucket, key string, n int) *meta.Object {
	c.T.Helper()
	ctx := context.Background()
	if err := c.Store.CreateBucket(ctx, bucket, Clock); err != nil && !errors.Is(err, meta.ErrBucketExists) {
		c.T.Fatal(err)
	}
	l, err := c.Store.Layout(ctx)
	if err != nil || l == nil {
		c.T.Fatalf("PutObject needs a layout (%v)", err)
	}
	ring, err := layout.Ring(l)
	if err != nil {
		c.T.Fatal(err)
	}
	const size = 1024
	obj := &meta.Object{
		Bucket: bucket, Key: key, Size: int64(n) * size, ETag: "0123456789abcdef0123456789abcdef",
		Modified: Clock, ContentType: "application/octet-stream",
	}
	dag := erasure.NewDAGBuilder()
	for i := range n {
		data := fmt.Appendf(nil, "%s/%s chunk %d", bucket, key, i)
		id := erasure.ChunkCID(data)
		dag.Add(id, size)
		st := meta.Stripe{K: c.K, M: c.M, Layout: l.Version, ShardSize: size / c.K}
		placed, err := ring.Place(id.Bytes(), c.K+c.M)
		if err != nil {
			c.T.Fatal(err)
		}
		for j := range c.K + c.M {
			sid := erasure.ShardCID(fmt.Appendf(data, " shard %d", j))
			st.Shards = append(st.Shards, sid.Bytes())
			if nd := c.Nodes.Get(placed[j]); nd != nil {
				nd.Put(sid)
			}
		}
		obj.Chunks = append(obj.Chunks, meta.Chunk{CID: id.Bytes(), Size: size, Stripe: st})
	}
	root, err := dag.Root()
	if err != nil {
		c.T.Fatal(err)
	}
	obj.CID = root.String()
	if err := c.Store.PutObject(ctx, obj); err != nil {
		c.T.Fatal(err)
	}
	return obj
}

// Members is a gossip view the test sets. Safe for concurrent use.
type Members struct {
	mu   sync.Mutex
	list []cluster.Member
}

// Members implements admin.Membership.
func (m *Members) Members() []cluster.Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.list)
}

// Add adds or replaces a member.
func (m *Members) Add(mem cluster.Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.list = slices.DeleteFunc(m.list, func(x cluster.Member) bool { return x.ID == mem.ID })
	m.list = append(m.list, mem)
}

// SetStatus sets a member's gossip status.
func (m *Members) SetStatus(id string, st cluster.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.list {
		if m.list[i].ID == id {
			m.list[i].Status = st
		}
	}
}

// Forget drops a member, as gossip does once it reaps it.
func (m *Members) Forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.list = slices.DeleteFunc(m.list, func(x cluster.Member) bool { return x.ID == id })
}

func (m *Members) get(id string) (cluster.Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.list {
		if x.ID == id {
			return x, true
		}
	}
	return cluster.Member{}, false
}

// Nodes are the fake storage nodes, by ID. Safe for concurrent use.
type Nodes struct {
	mu sync.Mutex
	m  map[string]*Node
}

// Add adds a storage node.
func (ns *Nodes) Add(id, zone string, weight float64, u blob.Usage) *Node {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	n := &Node{id: id, zone: zone, weight: weight, usage: u, shards: map[string]bool{}}
	ns.m[id] = n
	return n
}

// Get returns a node, or nil.
func (ns *Nodes) Get(id string) *Node {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.m[id]
}

// Client implements admin.Config.Nodes: the node, or an error for a node
// it does not have or that is Unreachable.
func (ns *Nodes) Client(id string) (admin.NodeClient, error) {
	n := ns.Get(id)
	if n == nil {
		return nil, fmt.Errorf("storage node %s is unknown to gossip", id)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unreachable {
		return nil, fmt.Errorf("storage node %s is failed", id)
	}
	return n, nil
}

// Node is a fake storage node. Safe for concurrent use.
type Node struct {
	id, zone string
	weight   float64

	mu          sync.Mutex
	usage       blob.Usage
	shards      map[string]bool // by cid.KeyString
	err         error           // returned by every call
	hang        bool            // calls wait for their context
	unreachable bool            // Nodes.Client refuses it
	scrub       scrubState      // scrub.go
}

var _ admin.NodeClient = (*Node)(nil)

// Status implements admin.NodeClient.
func (n *Node) Status(ctx context.Context) (nodeapi.Status, error) {
	if err := n.fault(ctx); err != nil {
		return nodeapi.Status{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.usage
	u.Shards = int64(len(n.shards))
	return nodeapi.Status{NodeID: n.id, Zone: n.zone, Weight: n.weight, Usage: u}, nil
}

// Has implements admin.NodeClient.
func (n *Node) Has(ctx context.Context, id cid.Cid) (bool, error) {
	if err := n.fault(ctx); err != nil {
		return false, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.shards[id.KeyString()], nil
}

func (n *Node) fault(ctx context.Context) error {
	n.mu.Lock()
	err, hang := n.err, n.hang
	n.mu.Unlock()
	if hang {
		<-ctx.Done()
		return fmt.Errorf("node %s: %w", n.id, ctx.Err())
	}
	return err
}

// Put gives the node a shard.
func (n *Node) Put(id cid.Cid) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shards[id.KeyString()] = true
}

// Drop takes a shard away.
func (n *Node) Drop(id cid.Cid) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.shards, id.KeyString())
}

// SetUsage sets what Status reports but for the shard count, which is the
// shards the node holds.
func (n *Node) SetUsage(u blob.Usage) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.usage = u
}

// SetErr makes every call fail with err (nil: succeed again).
func (n *Node) SetErr(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.err = err
}

// SetHang makes every call wait until its context ends.
func (n *Node) SetHang(hang bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hang = hang
}

// SetUnreachable makes Nodes.Client refuse the node, as it does for a node
// gossip says is down.
func (n *Node) SetUnreachable(u bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unreachable = u
}

// HealNode is the node ID the fake healer answers as.
const HealNode = "meta1"

// Healer is a fake admin.Healing: it answers the heal.Status the test
// sets, converted as a node converts its healer's (admin.HealStatus), and
// counts kicks. Safe for concurrent use.
type Healer struct {
	mu       sync.Mutex
	status   heal.Status
	err      error
	kicks    int
	local    int // calls with local
	onKick   func(*heal.Status)
	onStatus func(*heal.Status)
}

var _ admin.Healing = (*Healer)(nil)

// Set sets the status the healer answers.
func (h *Healer) Set(s heal.Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = s
}

// SetErr makes every call fail with err (nil: succeed again).
func (h *Healer) SetErr(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
}

// OnKick sets what a kick does to the status (a pass, as the test sees
// it).
func (h *Healer) OnKick(f func(*heal.Status)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onKick = f
}

// OnStatus sets what each status call does to the status before it
// answers (time passing, as the test sees it).
func (h *Healer) OnStatus(f func(*heal.Status)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onStatus = f
}

// Kicks returns how many kicks the healer got, and how many of its calls
// asked for the local healer only.
func (h *Healer) Kicks() (kicks, local int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kicks, h.local
}

// Status implements admin.Healing.
func (h *Healer) Status(ctx context.Context, local bool) (*adminapi.HealStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if local {
		h.local++
	}
	if h.err != nil {
		return nil, h.err
	}
	if h.onStatus != nil {
		h.onStatus(&h.status)
	}
	return admin.HealStatus(&h.status, HealNode), nil
}

// Kick implements admin.Healing.
func (h *Healer) Kick(ctx context.Context, local bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if local {
		h.local++
	}
	if h.err != nil {
		return h.err
	}
	h.kicks++
	if h.onKick != nil {
		h.onKick(&h.status)
	}
	return nil
}
