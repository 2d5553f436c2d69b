package heal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/layout"
	"cairn/internal/meta"
)

var bg = context.Background()

// fakeMeta is a chunk table and a layout history in memory.
type fakeMeta struct {
	mu      sync.Mutex
	layouts []*meta.Layout
	chunks  map[string]*meta.ChunkInfo
}

func (f *fakeMeta) Layout(context.Context) (*meta.Layout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.layouts[len(f.layouts)-1], nil
}

func (f *fakeMeta) LayoutVersion(_ context.Context, v uint64) (*meta.Layout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.layouts {
		if l.Version == v {
			return l, nil
		}
	}
	return nil, meta.ErrNoSuchLayout
}

func (f *fakeMeta) Chunks(_ context.Context, after []byte, limit int) ([]meta.ChunkInfo, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.chunks {
		if after == nil || k > string(after) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []meta.ChunkInfo
	for i, k := range keys {
		if i == limit {
			return out, []byte(keys[i-1]), nil
		}
		c := *f.chunks[k]
		c.Stripe.Nodes = slices.Clone(c.Stripe.Nodes)
		out = append(out, c)
	}
	return out, nil, nil
}

func (f *fakeMeta) SetStripeNodes(_ context.Context, id []byte, old, nodes []string, v uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.chunks[string(id)]
	if !ok || !slices.Equal(c.Stripe.Nodes, old) || (c.Stripe.Nodes == nil) != (old == nil) {
		return meta.ErrStripeChanged
	}
	c.Stripe.Nodes, c.Stripe.Layout = slices.Clone(nodes), v
	return nil
}

func (f *fakeMeta) setLayout(l *meta.Layout) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.layouts = append(f.layouts, l)
}

// fakeStore is one node's shards in memory.
type fakeStore struct {
	mu     sync.Mutex
	shards map[string][]byte
	puts   int
	lie    bool
}

var errNotFound = errors.New("not found")

func (s *fakeStore) Get(_ context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shards[id.KeyString()]
	if !ok {
		return nil, errNotFound
	}
	out := append(dst[:0], b...)
	if s.lie {
		out[0] ^= 0xFF
	}
	return out, nil
}

func (s *fakeStore) Put(_ context.Context, id cid.Cid, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards[id.KeyString()] = bytes.Clone(b)
	s.puts++
	return nil
}

func (s *fakeStore) Delete(_ context.Context, id cid.Cid) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.shards, id.KeyString())
	return nil
}

type fakeNodes map[string]*fakeStore

func (n fakeNodes) Shards(id string) (ShardStore, error) {
	s, ok := n[id]
	if !ok {
		return nil, fmt.Errorf("no node %s", id)
	}
	return s, nil
}

// cluster is a layout, the stores of its nodes and a chunk table.
type cluster struct {
	t     *testing.T
	meta  *fakeMeta
	nodes fakeNodes
	alive map[string]bool
	data  map[string][]byte // chunk CID -> bytes
}

func newCluster(t *testing.T, n int) *cluster {
	c := &cluster{t: t, meta: &fakeMeta{chunks: map[string]*meta.ChunkInfo{}}, nodes: fakeNodes{}, alive: map[string]bool{}, data: map[string][]byte{}}
	l := &meta.Layout{Version: 1, PlacementKey: []byte("key")}
	for i := range n {
		id := fmt.Sprintf("n%d", i)
		l.Nodes = append(l.Nodes, meta.LayoutNode{ID: id, Zone: fmt.Sprintf("z%d", i%3), Weight: 1})
		c.nodes[id] = &fakeStore{shards: map[string][]byte{}}
		c.alive[id] = true
	}
	c.meta.setLayout(l)
	return c
}

// put writes a chunk as the gateway does: coded 4+2, placed by the
// current layout, recorded with its nodes.
func (c *cluster) put(seed uint64, size int) {
	c.t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	codec, err := erasure.NewCodec(4, 2)
	must(c.t, err)
	id := erasure.ChunkCID(data)
	shards, err := codec.Encode(data, nil)
	must(c.t, err)
	l, _ := c.meta.Layout(bg)
	ring, err := layout.Ring(l)
	must(c.t, err)
	nodes, err := ring.Place(id.Bytes(), 6)
	must(c.t, err)
	st := meta.Stripe{K: 4, M: 2, Layout: l.Version, ShardSize: len(shards[0]), Nodes: nodes}
	for i, s := range shards {
		name, err := erasure.ShardName(id, 4, 2, i)
		must(c.t, err)
		st.Shards = append(st.Shards, name.Bytes())
		must(c.t, c.nodes[nodes[i]].Put(bg, name, s))
	}
	c.meta.chunks[string(id.Bytes())] = &meta.ChunkInfo{CID: id.Bytes(), Size: int64(size), Refs: 1, Stripe: st}
	c.data[string(id.Bytes())] = data
}

func (c *cluster) healer() *Healer {
	cfg := Default()
	cfg.Meta, cfg.Nodes = c.meta, c.nodes
	cfg.Alive = func(id string) bool { return c.alive[id] }
	cfg.Rate = 0
	h, err := New(cfg)
	must(c.t, err)
	return h
}

// check asserts that every chunk's record names nodes that hold its
// shards, that the chunk decodes from them, and returns how many shards
// each record names on each node.
func (c *cluster) check() map[string]int {
	c.t.Helper()
	per := map[string]int{}
	codec, _ := erasure.NewCodec(4, 2)
	for k, ci := range c.meta.chunks {
		shards := make([][]byte, 6)
		for i, node := range ci.Stripe.Nodes {
			if node == "" {
				c.t.Fatalf("chunk %x: shard %d stored nowhere", k, i)
			}
			per[node]++
			name, _ := cid.Cast(ci.Stripe.Shards[i])
			b, err := c.nodes[node].Get(bg, name, nil)
			if err != nil {
				c.t.Fatalf("chunk %x: shard %d not on %s: %v", k, i, node, err)
			}
			shards[i] = b
		}
		got, err := codec.Join(nil, shards, int(ci.Size))
		must(c.t, err)
		if !bytes.Equal(got, c.data[k]) {
			c.t.Fatalf("chunk %x does not decode from the shards its record names", k)
		}
	}
	return per
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRepairAfterRemoval: a node leaves the layout (its disk gone); one
// pass rebuilds its shards on the nodes the new layout wants, and the
// status says all is healthy afterwards.
func TestRepairAfterRemoval(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 50 {
		c.put(uint64(i), 1000+i*997)
	}
	l, _ := c.meta.Layout(bg)
	nl := *l
	nl.Version = 2
	nl.Nodes = slices.Clone(l.Nodes)
	nl.Nodes[2].Removed, nl.Nodes[2].Weight = true, 0
	c.meta.setLayout(&nl)
	c.nodes["n2"].shards = map[string][]byte{} // the disk is gone too
	c.alive["n2"] = false

	h := c.healer()
	must(t, h.Pass(bg))
	s := h.Status()
	if s.Tally.RepairShards == 0 || s.Tally.Healthy == s.Tally.Stripes {
		t.Fatalf("the pass found nothing to repair: %+v", s.Tally)
	}
	per := c.check()
	if per["n2"] != 0 {
		t.Errorf("%d shards still named on the removed node", per["n2"])
	}
	if s.RepairedShards != s.Tally.RepairShards {
		t.Errorf("repaired %d shards, the pass found %d", s.RepairedShards, s.Tally.RepairShards)
	}
	must(t, h.Pass(bg))
	if s := h.Status(); !s.Healthy() {
		t.Errorf("not healthy after a second pass: %+v", s.Tally)
	}
}

// TestRebalanceMinimal: a seventh node joins; only the shards it now owns
// move, each copied before the record changes and the old copy deleted
// after.
func TestRebalanceMinimal(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 200 {
		c.put(uint64(i), 4000)
	}
	l, _ := c.meta.Layout(bg)
	nl := *l
	nl.Version = 2
	nl.Nodes = append(slices.Clone(l.Nodes), meta.LayoutNode{ID: "n6", Zone: "z0", Weight: 1})
	c.meta.setLayout(&nl)
	c.nodes["n6"] = &fakeStore{shards: map[string][]byte{}}
	c.alive["n6"] = true

	// The minimum: for every stripe, the shards whose node is not in the
	// new placement's multiset.
	ring, _ := layout.Ring(&nl)
	minimum := 0
	for _, ci := range c.meta.chunks {
		want, _ := ring.Place(ci.CID, 6)
		free := map[string]int{}
		for _, w := range want {
			free[w]++
		}
		for _, n := range ci.Stripe.Nodes {
			if free[n] > 0 {
				free[n]--
			} else {
				minimum++
			}
		}
	}
	h := c.healer()
	must(t, h.Pass(bg))
	s := h.Status()
	per := c.check()
	if s.MovedShards == 0 || per["n6"] == 0 {
		t.Fatalf("nothing moved to the new node: %+v", s)
	}
	if float64(s.MovedShards) > 1.1*float64(minimum) {
		t.Errorf("moved %d shards, the minimum is %d", s.MovedShards, minimum)
	}
	total := 0
	for _, st := range c.nodes {
		total += len(st.shards)
	}
	if total != 6*len(c.meta.chunks) {
		t.Errorf("%d shards stored for %d stripes of 6: old copies not deleted", total, len(c.meta.chunks))
	}
	t.Logf("moved %d shards (minimum %d) of %d", s.MovedShards, minimum, 6*len(c.meta.chunks))
}

// TestRepairPastALiar: a node returns wrong bytes for every shard; repair
// checks the chunk and rebuilds from the others.
func TestRepairPastALiar(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 20 {
		c.put(uint64(i), 5000)
	}
	for _, ci := range c.meta.chunks {
		ci.Stripe.Nodes[5] = "" // every stripe lost a parity shard
	}
	c.nodes["n0"].lie = true
	h := c.healer()
	must(t, h.Pass(bg))
	c.nodes["n0"].lie = false
	c.check()
	if h.Status().RepairedShards == 0 {
		t.Fatal("nothing repaired")
	}
}

// TestDownWithinGraceNoStorm: a node down but still in the layout causes
// no repair while the stripes keep redundancy.
func TestDownWithinGraceNoStorm(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 50 {
		c.put(uint64(i), 3000)
	}
	c.alive["n1"] = false
	h := c.healer()
	must(t, h.Pass(bg))
	s := h.Status()
	if s.RepairedShards != 0 || s.MovedShards != 0 {
		t.Fatalf("a node down within its grace caused work: %+v", s)
	}
	if s.Tally.Missing[1] == 0 {
		t.Errorf("stripes missing one shard not counted: %+v", s.Tally)
	}
	// A second node down: stripes with both are at K, and are repaired.
	c.alive["n3"] = false
	must(t, h.Pass(bg))
	if h.Status().RepairedShards == 0 {
		t.Fatalf("stripes at K were not repaired: %+v", h.Status().Tally)
	}
}

// TestDrain: a node drains; one pass moves every shard off it while it
// serves them, the status counts them per node and, once moved, as none
// remaining; the next pass finds none on it.
func TestDrain(t *testing.T) {
	c := newCluster(t, 7)
	for i := range 100 {
		c.put(uint64(i), 3000)
	}
	before := c.check()["n0"]
	if before == 0 {
		t.Fatal("no shard on n0 to drain")
	}
	l, _ := c.meta.Layout(bg)
	nl := *l
	nl.Version = 2
	nl.Nodes = slices.Clone(l.Nodes)
	nl.Nodes[0].Draining = true
	c.meta.setLayout(&nl)

	h := c.healer()
	must(t, h.Pass(bg))
	s := h.Status()
	if got := s.Tally.DrainingByNode["n0"]; got != int64(before) || s.Tally.Draining != got {
		t.Fatalf("the pass counted %d shards on n0 (%d draining overall), the records name %d", got, s.Tally.Draining, before)
	}
	if s.DrainRemaining["n0"] != 0 {
		t.Errorf("%d shards remaining on n0 after the pass moved them", s.DrainRemaining["n0"])
	}
	if s.RebalanceRemaining != 0 || s.RepairRemaining != 0 || s.Remaining != 0 || s.MovedBytes != s.Tally.RebalanceBytes {
		t.Errorf("after the pass: %d + %d = %d bytes remaining, moved %d of %d", s.RepairRemaining, s.RebalanceRemaining, s.Remaining, s.MovedBytes, s.Tally.RebalanceBytes)
	}
	if s.Healing || s.Scanning || s.PassEnded.IsZero() {
		t.Errorf("pass over, yet healing %v, scanning %v, ended %v", s.Healing, s.Scanning, s.PassEnded)
	}
	if per := c.check(); per["n0"] != 0 {
		t.Fatalf("%d shards still named on the draining node", per["n0"])
	}
	must(t, h.Pass(bg))
	s = h.Status()
	if n, ok := s.Tally.DrainingByNode["n0"]; !ok || n != 0 || s.Tally.Draining != 0 || !s.Healthy() {
		t.Fatalf("the second pass still finds shards on n0: %+v", s.Tally)
	}
}
