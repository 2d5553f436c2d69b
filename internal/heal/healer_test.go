package heal

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/layout"
	"cairn/internal/meta"
)

var bg = context.Background()

// fakeMeta is a chunk table, a layout history and reputations in memory.
type fakeMeta struct {
	mu      sync.Mutex
	layouts []*meta.Layout
	chunks  map[string]*meta.ChunkInfo
	reps    map[string]*meta.Reputation
	// repCalls counts AddReputation calls; repErr, when set, fails them.
	repCalls int
	repErr   error
	migrate  bool // the seal migration flag
}

func (f *fakeMeta) SetLayout(_ context.Context, l *meta.Layout) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l.Version <= f.layouts[len(f.layouts)-1].Version {
		return meta.ErrStaleLayout
	}
	f.layouts = append(f.layouts, l)
	return nil
}

func (f *fakeMeta) AddReputation(_ context.Context, deltas []meta.ReputationDelta) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repCalls++
	if f.repErr != nil {
		return f.repErr
	}
	if f.reps == nil {
		f.reps = map[string]*meta.Reputation{}
	}
	for i := range deltas {
		r := f.reps[deltas[i].Node]
		if r == nil {
			r = &meta.Reputation{V: meta.FormatVersion, Node: deltas[i].Node}
			f.reps[r.Node] = r
		}
		r.Add(&deltas[i], time.Now())
	}
	return nil
}

func (f *fakeMeta) Reputations(context.Context) ([]meta.Reputation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []meta.Reputation
	for _, id := range slices.Sorted(maps.Keys(f.reps)) {
		out = append(out, *f.reps[id])
	}
	return out, nil
}

// rep returns a node's reputation (zero if none).
func (f *fakeMeta) rep(node string) meta.Reputation {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.reps[node]; r != nil {
		return *r
	}
	return meta.Reputation{}
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

func (f *fakeMeta) Chunk(_ context.Context, id []byte) (*meta.ChunkInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.chunks[string(id)]
	if !ok {
		return nil, nil
	}
	cc := *c
	return &cc, nil
}

func (f *fakeMeta) ChunkByName(_ context.Context, name []byte) (*meta.ChunkInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.chunks {
		if c.Stripe.Name != nil && bytes.Equal(c.Stripe.Name, name) {
			cc := *c
			return &cc, nil
		}
	}
	return nil, nil
}

func (f *fakeMeta) ReplaceStripe(_ context.Context, id []byte, old [][]byte, next meta.Stripe) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.chunks[string(id)]
	if !ok || c.State != meta.ChunkLive || !slices.EqualFunc(c.Stripe.Shards, old, bytes.Equal) {
		return meta.ErrStripeChanged
	}
	c.Stripe = next
	return nil
}

func (f *fakeMeta) SealMigration(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.migrate, nil
}

func (f *fakeMeta) Collect(_ context.Context, ids [][]byte, olderThan time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if c, ok := f.chunks[string(id)]; ok && c.State == meta.ChunkGarbage && c.Since.Before(olderThan) {
			c.State = meta.ChunkCollecting
		}
	}
	return nil
}

func (f *fakeMeta) ForgetGarbage(_ context.Context, ids [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if c, ok := f.chunks[string(id)]; ok && c.State == meta.ChunkCollecting {
			delete(f.chunks, string(id))
		}
	}
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
	// unlisted: Walk does not list these (written after the walk began).
	unlisted map[string]bool
	// dropped: Get answers not found for these, while Walk and Has list
	// them (a node that lies about what it holds).
	dropped map[string]bool
}

var errNotFound = fmt.Errorf("fake: %w", blob.ErrNotFound)

func (s *fakeStore) Get(_ context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shards[id.KeyString()]
	if !ok || s.dropped[id.KeyString()] {
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

func (s *fakeStore) Walk(_ context.Context, fn func(cid.Cid, int64) error) error {
	s.mu.Lock()
	var ids []cid.Cid
	var sizes []int64
	for k, b := range s.shards {
		if s.unlisted[k] {
			continue
		}
		id, err := cid.Cast([]byte(k))
		if err != nil {
			s.mu.Unlock()
			return err
		}
		ids, sizes = append(ids, id), append(sizes, int64(len(b)))
	}
	s.mu.Unlock()
	for i, id := range ids {
		if err := fn(id, sizes[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeStore) Has(_ context.Context, id cid.Cid) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.shards[id.KeyString()]
	return ok, nil
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
	// sealer is the tenant's, which putSealed seals with and healer's
	// healers get; now, when set, is their clock.
	sealer *erasure.Sealer
	now    func() time.Time
}

func newCluster(t *testing.T, n int) *cluster {
	sealer, err := erasure.NewSealer(bytes.Repeat([]byte{9}, erasure.MasterKeySize))
	must(t, err)
	c := &cluster{t: t, meta: &fakeMeta{chunks: map[string]*meta.ChunkInfo{}}, nodes: fakeNodes{}, alive: map[string]bool{}, data: map[string][]byte{},
		sealer: sealer}
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
	cfg.Sealer = c.sealer
	if c.now != nil {
		cfg.Now = c.now
	}
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
		coded := int(ci.Size)
		if ci.Stripe.Seal != 0 {
			coded += erasure.SealOverhead
		}
		got, err := codec.Join(nil, shards, coded)
		must(c.t, err)
		if ci.Stripe.Seal != 0 {
			id, _ := cid.Cast(ci.CID)
			if got, err = c.sealer.Open(nil, got, id); err != nil {
				c.t.Fatalf("chunk %x: its shards do not open: %v", k, err)
			}
		}
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

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestInventoryFindsLostShards: shards a node no longer holds (its scrub
// quarantined them, its disk lost them) are found by the pass's inventory
// and rebuilt, with no client reading.
func TestInventoryFindsLostShards(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 30 {
		c.put(uint64(i), 6000)
	}
	lost := 0
	for k := range c.nodes["n4"].shards {
		delete(c.nodes["n4"].shards, k)
		lost++
		if lost == 10 {
			break
		}
	}
	h := c.healer()
	must(t, h.Pass(bg))
	c.check()
	if got := h.Status().RepairedShards; got != int64(lost) {
		t.Errorf("repaired %d shards, %d were lost", got, lost)
	}
}

// TestStraysAndGarbage: shards no record names are deleted once GCGrace
// has passed since they were first seen, not before; garbage chunks older
// than GCGrace have their shards deleted and their records forgotten.
func TestStraysAndGarbage(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 10 {
		c.put(uint64(i), 6000)
	}
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// A stray: a shard on n0 that no record names (a crashed PUT).
	stray, _ := erasure.ShardName(erasure.ChunkCID([]byte("never recorded")), 4, 2, 0)
	must(t, c.nodes["n0"].Put(bg, stray, []byte("stray bytes")))
	// Garbage: two chunks lose their last reference, one long ago.
	var old, recent *meta.ChunkInfo
	for _, ci := range c.meta.chunks {
		switch {
		case old == nil:
			old = ci
		case recent == nil:
			recent = ci
		}
	}
	old.Refs, old.State, old.Since = 0, meta.ChunkGarbage, clk.t.Add(-2*time.Hour)
	recent.Refs, recent.State, recent.Since = 0, meta.ChunkGarbage, clk.t.Add(-time.Minute)

	cfg := Default()
	cfg.Meta, cfg.Nodes, cfg.Rate, cfg.Now, cfg.GCGrace = c.meta, c.nodes, 0, clk.now, time.Hour
	h, err := New(cfg)
	must(t, err)
	must(t, h.Pass(bg))
	if _, err := c.nodes["n0"].Get(bg, stray, nil); err != nil {
		t.Fatal("a stray was deleted the first time it was seen")
	}
	if ci, _ := c.meta.Chunk(bg, old.CID); ci != nil {
		t.Errorf("old garbage not collected: %+v", ci)
	}
	if ci, _ := c.meta.Chunk(bg, recent.CID); ci == nil {
		t.Error("recent garbage collected before its grace")
	}
	for i, node := range old.Stripe.Nodes {
		id, _ := cid.Cast(old.Stripe.Shards[i])
		if _, err := c.nodes[node].Get(bg, id, nil); err == nil {
			t.Errorf("shard %d of collected garbage still on %s", i, node)
		}
	}
	clk.t = clk.t.Add(30 * time.Minute)
	must(t, h.Pass(bg))
	if _, err := c.nodes["n0"].Get(bg, stray, nil); err != nil {
		t.Fatal("a stray was deleted before its grace")
	}
	clk.t = clk.t.Add(31 * time.Minute)
	must(t, h.Pass(bg))
	if _, err := c.nodes["n0"].Get(bg, stray, nil); err == nil {
		t.Fatal("a stray outlived its grace")
	}
	delete(c.data, string(old.CID))
	delete(c.data, string(recent.CID))
	for k, ci := range c.meta.chunks {
		if ci.State != meta.ChunkLive {
			delete(c.meta.chunks, k)
		}
	}
	c.check() // no live shard was taken for a stray
}

// TestReporter: a reported shard's node becomes "" if the record still
// names it, and the next pass rebuilds it.
func TestReporter(t *testing.T) {
	c := newCluster(t, 6)
	c.put(1, 8000)
	var ci *meta.ChunkInfo
	for _, x := range c.meta.chunks {
		ci = x
	}
	r := NewReporter(c.meta, nil)
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	wrong := ci.Stripe.Nodes[3]
	other := ci.Stripe.Nodes[2]
	r.Report(ci.CID, 2, "not-"+other, false) // stale: the record names another node
	r.Report(ci.CID, 3, wrong, false)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		got, _ := c.meta.Chunk(bg, ci.CID)
		if got.Stripe.Nodes[3] == "" {
			if got.Stripe.Nodes[2] != other {
				t.Fatalf("a stale report changed the record: %q", got.Stripe.Nodes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("report not recorded")
		}
	}
	cancel()
	<-done
	h := c.healer()
	must(t, h.Pass(bg))
	c.check()
	if h.Status().RepairedShards != 1 {
		t.Errorf("repaired %d shards, want 1", h.Status().RepairedShards)
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

// TestInventoryRace: shards written and recorded after a node's inventory
// was taken are not missing: the pass asks the node before it believes
// the inventory, and changes no record.
func TestInventoryRace(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 20 {
		c.put(uint64(i), 6000)
	}
	st := c.nodes["n1"]
	st.unlisted = map[string]bool{}
	for k := range st.shards {
		st.unlisted[k] = true
	}
	before := map[string][]string{}
	for k, ci := range c.meta.chunks {
		before[k] = slices.Clone(ci.Stripe.Nodes)
	}
	h := c.healer()
	must(t, h.Pass(bg))
	for k, ci := range c.meta.chunks {
		if !slices.Equal(ci.Stripe.Nodes, before[k]) {
			t.Fatalf("chunk %x: record changed from %q to %q", k, before[k], ci.Stripe.Nodes)
		}
	}
	if s := h.Status(); s.RepairedShards != 0 || !s.Healthy() {
		t.Fatalf("a shard missing only from an inventory was taken as lost: %+v", s)
	}
}

// TestAdoptMisplacedShards: three shards of a stripe sit on other nodes
// than its record names (an older placement function put them there):
// with only three where the record says, nothing can be rebuilt, and the
// inventory check adopts the copies it finds instead of deleting them as
// strays; the next pass moves them where the layout wants them.
func TestAdoptMisplacedShards(t *testing.T) {
	c := newCluster(t, 6)
	c.put(1, 9000)
	var ci *meta.ChunkInfo
	for _, x := range c.meta.chunks {
		ci = x
	}
	nodes := ci.Stripe.Nodes
	for i := range 3 {
		name, _ := cid.Cast(ci.Stripe.Shards[i])
		from, to := c.nodes[nodes[i]], c.nodes[nodes[(i+3)%6]]
		b := from.shards[name.KeyString()]
		delete(from.shards, name.KeyString())
		to.shards[name.KeyString()] = b
	}
	h := c.healer()
	must(t, h.Pass(bg)) // adopts the three copies
	must(t, h.Pass(bg)) // moves them back where the layout wants them
	must(t, h.Pass(bg))
	c.check()
	if s := h.Status(); !s.Healthy() || s.MovedShards != 3 {
		t.Fatalf("not healthy after adopting and moving: %+v", s)
	}
}
