package heal

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/layout"
	"cairn/internal/meta"
)

// putSealed writes a chunk as a gateway that seals does: sealed, coded
// 4+2, named and placed after its keyed name, its shard sums recorded.
func (c *cluster) putSealed(seed uint64, size int) *meta.ChunkInfo {
	c.t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	codec, err := erasure.NewCodec(4, 2)
	must(c.t, err)
	id := erasure.ChunkCID(data)
	name := c.sealer.Name(id)
	shards, err := codec.Encode(c.sealer.Seal(nil, data, id), nil)
	must(c.t, err)
	l, _ := c.meta.Layout(bg)
	ring, err := layout.Ring(l)
	must(c.t, err)
	nodes, err := ring.Place(name.Bytes(), 6)
	must(c.t, err)
	st := meta.Stripe{K: 4, M: 2, Layout: l.Version, ShardSize: len(shards[0]), Seal: erasure.SealV1, Nodes: nodes, Name: name.Bytes()}
	for i, s := range shards {
		sn, err := erasure.ShardName(name, 4, 2, i)
		must(c.t, err)
		st.Shards = append(st.Shards, sn.Bytes())
		st.Sums = append(st.Sums, c.sealer.ShardSum(s))
		must(c.t, c.nodes[nodes[i]].Put(bg, sn, s))
	}
	ci := &meta.ChunkInfo{CID: id.Bytes(), Size: int64(size), Refs: 1, Stripe: st}
	c.meta.chunks[string(id.Bytes())] = ci
	c.data[string(id.Bytes())] = data
	return ci
}

// shardCount is how many shards the nodes hold, all told.
func (c *cluster) shardCount() int {
	n := 0
	for _, st := range c.nodes {
		st.mu.Lock()
		n += len(st.shards)
		st.mu.Unlock()
	}
	return n
}

// TestRepairSealed: a node leaves with its disk; the shards of sealed
// stripes it held are rebuilt (the seal opened as the check), equal to
// what their recorded sums say.
func TestRepairSealed(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 30 {
		c.putSealed(uint64(i), 1000+i*997)
	}
	l, _ := c.meta.Layout(bg)
	nl := *l
	nl.Version = 2
	nl.Nodes = slices.Clone(l.Nodes)
	nl.Nodes[2].Removed, nl.Nodes[2].Weight = true, 0
	c.meta.setLayout(&nl)
	c.nodes["n2"].shards = map[string][]byte{}
	c.alive["n2"] = false

	h := c.healer()
	must(t, h.Pass(bg))
	s := h.Status()
	if s.RepairedShards == 0 || s.RepairedShards != s.Tally.RepairShards || s.FailedShards != 0 {
		t.Fatalf("repaired %d shards of %d, %d failed", s.RepairedShards, s.Tally.RepairShards, s.FailedShards)
	}
	if s.Tally.Sealed != 30 || s.Tally.Unsealed != 0 {
		t.Errorf("tally: %d sealed, %d unsealed, want 30 and 0", s.Tally.Sealed, s.Tally.Unsealed)
	}
	per := c.check()
	if per["n2"] != 0 {
		t.Errorf("%d shards still named on the removed node", per["n2"])
	}
	for _, ci := range c.meta.chunks {
		for i, node := range ci.Stripe.Nodes {
			id, _ := cid.Cast(ci.Stripe.Shards[i])
			b, _ := c.nodes[node].Get(bg, id, nil)
			if len(ci.Stripe.Sums[i]) != erasure.ShardSumSize || c.sealer.CheckShardSum(ci.Stripe.Sums[i], b) != nil {
				t.Fatalf("shard %d on %s does not match its sum", i, node)
			}
		}
	}
}

// TestRepairSealedPastALiar: a node lies about every shard; the sums
// catch it before decoding, the seal would too, and repair rebuilds from
// the others.
func TestRepairSealedPastALiar(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 20 {
		ci := c.putSealed(uint64(i), 5000)
		ci.Stripe.Nodes[5] = "" // every stripe lost a parity shard
	}
	c.nodes["n0"].lie = true
	h := c.healer()
	must(t, h.Pass(bg))
	c.nodes["n0"].lie = false
	c.check()
	if s := h.Status(); s.RepairedShards != 20 || s.FailedShards != 0 {
		t.Fatalf("repaired %d shards, %d failed; want 20 and 0", s.RepairedShards, s.FailedShards)
	}
}

// TestRebuiltShardChecksItsSum: a shard whose rebuilt bytes do not match
// the sum its stripe records is not written.
func TestRebuiltShardChecksItsSum(t *testing.T) {
	c := newCluster(t, 6)
	ci := c.putSealed(1, 5000)
	lost, _ := cid.Cast(ci.Stripe.Shards[5])
	must(t, c.nodes[ci.Stripe.Nodes[5]].Delete(bg, lost)) // else it is adopted back
	ci.Stripe.Nodes[5] = ""
	ci.Stripe.Sums[5] = bytes.Repeat([]byte{1}, erasure.ShardSumSize)
	h := c.healer()
	must(t, h.Pass(bg))
	if s := h.Status(); s.RepairedShards != 0 || s.FailedShards != 1 {
		t.Fatalf("repaired %d, failed %d: a shard that fails its sum was written", s.RepairedShards, s.FailedShards)
	}
	if ci.Stripe.Nodes[5] != "" {
		t.Fatalf("the record names %q for a shard not written", ci.Stripe.Nodes[5])
	}
}

// TestSealedWithoutKey: a healer without the sealing key rebuilds no
// sealed shard (it cannot check it), and says so.
func TestSealedWithoutKey(t *testing.T) {
	c := newCluster(t, 6)
	ci := c.putSealed(1, 5000)
	lost, _ := cid.Cast(ci.Stripe.Shards[5])
	must(t, c.nodes[ci.Stripe.Nodes[5]].Delete(bg, lost))
	ci.Stripe.Nodes[5] = ""
	c.sealer = nil
	h := c.healer()
	must(t, h.Pass(bg))
	if s := h.Status(); s.RepairedShards != 0 {
		t.Fatalf("repaired %d sealed shards without the key", s.RepairedShards)
	}
}

// TestAdoptSealed: a sealed stripe's shard found on a node other than the
// one its record names (which lacks it) is adopted: its keyed name leads
// to the record through the names index.
func TestAdoptSealed(t *testing.T) {
	c := newCluster(t, 7)
	ci := c.putSealed(3, 4000)
	recorded := ci.Stripe.Nodes[2]
	var other string
	for id := range c.nodes {
		if !slices.Contains(ci.Stripe.Nodes, id) {
			other = id
		}
	}
	id, _ := cid.Cast(ci.Stripe.Shards[2])
	b, _ := c.nodes[recorded].Get(bg, id, nil)
	must(t, c.nodes[other].Put(bg, id, b))
	must(t, c.nodes[recorded].Delete(bg, id))
	h := c.healer()
	if !h.adopt(bg, mustView(t, h), other, ci.Stripe.Shards[2]) {
		t.Fatal("the sealed shard was not adopted")
	}
	if got := c.meta.chunks[string(ci.CID)].Stripe.Nodes[2]; got != other {
		t.Fatalf("the record names %s for the shard, want %s", got, other)
	}
}

func mustView(t *testing.T, h *Healer) *view {
	t.Helper()
	v, err := h.view(bg)
	must(t, err)
	return v
}

// testClock is a settable clock for healers.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSealMigration: with the flag set, a pass seals every live unsealed
// stripe: the new shards are written where placement puts the keyed name,
// the record swapped, and the old shards left in place until no record has
// named them for the GC grace; without the flag, or without the key,
// nothing is sealed.
func TestSealMigration(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c := newCluster(t, 6)
	c.now = clock.now
	const n = 25
	for i := range n {
		c.put(uint64(i), 1000+i*1000)
	}
	c.putSealed(100, 3000) // sealed already: left alone
	h := c.healer()
	must(t, h.Pass(bg))
	if s := h.Status(); s.Tally.Unsealed != n || s.Tally.Sealed != 1 || s.SealedStripes != 0 || s.SealMigration {
		t.Fatalf("without the flag: %d unsealed, %d sealed, %d sealed by the pass, flag %v", s.Tally.Unsealed, s.Tally.Sealed, s.SealedStripes, s.SealMigration)
	}
	c.meta.migrate = true
	keyless := c.sealer
	c.sealer = nil
	must(t, c.healer().Pass(bg))
	for _, ci := range c.meta.chunks {
		if ci.Stripe.Seal == 0 && ci.Stripe.Name != nil {
			t.Fatal("a healer without the key touched a stripe")
		}
	}
	c.sealer = keyless

	old := map[string][][]byte{}
	for k, ci := range c.meta.chunks {
		old[k] = slices.Clone(ci.Stripe.Shards)
	}
	before := c.shardCount()
	must(t, h.Pass(bg))
	s := h.Status()
	if !s.SealMigration || s.SealedStripes != n || s.SealFailed != 0 || s.UnsealedRemaining != 0 {
		t.Fatalf("migration: flag %v, sealed %d of %d, failed %d, remaining %d", s.SealMigration, s.SealedStripes, n, s.SealFailed, s.UnsealedRemaining)
	}
	if s.Tally.Unsealed != n {
		t.Errorf("the pass's tally counts %d unsealed, want %d (counted before it sealed)", s.Tally.Unsealed, n)
	}
	l, _ := c.meta.Layout(bg)
	ring, _ := layout.Ring(l)
	for k, ci := range c.meta.chunks {
		st := ci.Stripe
		id, _ := cid.Cast(ci.CID)
		name := c.sealer.Name(id)
		if st.Seal != erasure.SealV1 || !bytes.Equal(st.Name, name.Bytes()) || len(st.Sums) != 6 {
			t.Fatalf("chunk %x: seal %d, name %x, %d sums", k, st.Seal, st.Name, len(st.Sums))
		}
		if want, _ := ring.Place(name.Bytes(), 6); !slices.Equal(st.Nodes, want) {
			t.Errorf("chunk %x sealed onto %q, placement of its name says %q", k, st.Nodes, want)
		}
		for i, raw := range st.Shards {
			inner, _, _, _, ok := erasure.ParseShardName(mustCID(raw))
			if !ok || inner != name {
				t.Fatalf("chunk %x shard %d is not named after the keyed name", k, i)
			}
		}
	}
	c.check() // every record's shards are there and open to the chunk
	// The old shards are still stored: a reader may hold the old stripe.
	if after := c.shardCount(); after != before+6*n {
		t.Fatalf("%d shards after the migration, want the %d before and %d new", after, before, 6*n)
	}
	for k, shards := range old {
		if c.meta.chunks[k].Stripe.Seal != 0 && slices.EqualFunc(shards, c.meta.chunks[k].Stripe.Shards, bytes.Equal) {
			continue // was sealed before
		}
		for _, raw := range shards {
			found := false
			for _, st := range c.nodes {
				if ok, _ := st.Has(bg, mustCID(raw)); ok {
					found = true
				}
			}
			if !found {
				t.Fatalf("an old shard of %x was deleted before the grace", k)
			}
		}
	}

	// The next pass counts every stripe sealed and notices the old shards
	// as strays; once the grace has passed they are deleted.
	must(t, h.Pass(bg))
	if s := h.Status(); s.Tally.Unsealed != 0 || s.Tally.Sealed != n+1 || s.StraysDeleted != 0 {
		t.Fatalf("after: %d unsealed, %d sealed, %d strays deleted", s.Tally.Unsealed, s.Tally.Sealed, s.StraysDeleted)
	}
	clock.add(DefaultGCGrace + time.Minute)
	must(t, h.Pass(bg))
	if s := h.Status(); s.StraysDeleted != 6*n {
		t.Fatalf("%d strays deleted after the grace, want the %d old shards", s.StraysDeleted, 6*n)
	}
	if got := c.shardCount(); got != 6*(n+1) {
		t.Fatalf("%d shards left, want %d", got, 6*(n+1))
	}
	c.check()
}

// TestSealMigrationLosesARace: a stripe whose record changed between the
// scan and the swap keeps its new record; the sealed copy's shards are
// strays.
func TestSealMigrationLosesARace(t *testing.T) {
	c := newCluster(t, 6)
	c.put(1, 4000)
	c.meta.migrate = true
	h := c.healer()
	v := mustView(t, h)
	var ci meta.ChunkInfo
	for _, x := range c.meta.chunks {
		ci = *x
	}
	w := work{chunk: ci, orig: ci.Stripe.Nodes, cur: ci.Stripe.Nodes}
	// Another writer replaces the stripe first.
	other := ci.Stripe
	other.Shards = slices.Clone(other.Shards)
	other.Shards[0] = []byte("changed")
	c.meta.chunks[string(ci.CID)].Stripe = other
	if err := h.sealStripe(bg, v, w); err == nil {
		t.Fatal("sealing a stripe whose record changed succeeded")
	}
	if st := c.meta.chunks[string(ci.CID)].Stripe; st.Seal != 0 || !bytes.Equal(st.Shards[0], []byte("changed")) {
		t.Fatalf("the record was overwritten: %+v", st)
	}
}
