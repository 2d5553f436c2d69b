package heal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/layout"
	"cairn/internal/meta"
)

// putCustomer writes a chunk as the gateway does for SSE-C: sealed by the
// tenant's sealer ForCustomer(key), known by its keyed name (its CID in
// the record), with its shards' sums.
func (c *cluster) putCustomer(cs *erasure.Sealer, seed uint64, size int) {
	c.t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 11))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	codec, err := erasure.NewCodec(4, 2)
	must(c.t, err)
	name := cs.Name(erasure.ChunkCID(data))
	shards, err := codec.Encode(cs.Seal(nil, data, name), nil)
	must(c.t, err)
	l, _ := c.meta.Layout(bg)
	ring, err := layout.Ring(l)
	must(c.t, err)
	nodes, err := ring.Place(name.Bytes(), 6)
	must(c.t, err)
	st := meta.Stripe{K: 4, M: 2, Layout: l.Version, ShardSize: len(shards[0]), Seal: erasure.SealCustomer, Nodes: nodes, Name: name.Bytes()}
	for i, s := range shards {
		sn, err := erasure.ShardName(name, 4, 2, i)
		must(c.t, err)
		st.Shards = append(st.Shards, sn.Bytes())
		st.Sums = append(st.Sums, cs.ShardSum(s))
		must(c.t, c.nodes[nodes[i]].Put(bg, sn, s))
	}
	c.meta.chunks[string(name.Bytes())] = &meta.ChunkInfo{CID: name.Bytes(), Size: int64(size), Refs: 1, Stripe: st}
	c.data[string(name.Bytes())] = data
}

// TestRepairCustomerSealed: a healer holds no customer key, yet rebuilds
// the shards of stripes sealed under one, checked by their sums, and the
// rebuilt stripes open with the customer's key.
func TestRepairCustomerSealed(t *testing.T) {
	c := newCluster(t, 6)
	cs, err := c.sealer.ForCustomer(bytes.Repeat([]byte{3}, erasure.CustomerKeySize))
	must(t, err)
	for i := range 20 {
		c.putCustomer(cs, uint64(i), 1000+i*997)
	}
	l, _ := c.meta.Layout(bg)
	nl := *l
	nl.Version = 2
	nl.Nodes = slices.Clone(l.Nodes)
	nl.Nodes[4].Removed, nl.Nodes[4].Weight = true, 0
	c.meta.setLayout(&nl)
	c.nodes["n4"].shards = map[string][]byte{}
	c.alive["n4"] = false

	h := c.healer()
	must(t, h.Pass(bg))
	s := h.Status()
	if s.Tally.RepairShards == 0 || s.RepairedShards != s.Tally.RepairShards {
		t.Fatalf("repaired %d of the %d shards the pass found: %+v", s.RepairedShards, s.Tally.RepairShards, s.Tally)
	}
	codec, _ := erasure.NewCodec(4, 2)
	for k, ci := range c.meta.chunks {
		shards := make([][]byte, 6)
		for i, node := range ci.Stripe.Nodes {
			if node == "" || node == "n4" {
				t.Fatalf("chunk %x: shard %d on %q after repair", k, i, node)
			}
			id, _ := cid.Cast(ci.Stripe.Shards[i])
			b, err := c.nodes[node].Get(bg, id, nil)
			if err != nil {
				t.Fatalf("chunk %x shard %d: %v", k, i, err)
			}
			shards[i] = b
		}
		sealed, err := codec.Join(nil, shards, int(ci.Size)+erasure.SealOverhead)
		must(t, err)
		name, _ := cid.Cast(ci.CID)
		got, err := cs.Open(nil, sealed, name)
		if err != nil || !bytes.Equal(got, c.data[k]) {
			t.Fatal(fmt.Errorf("chunk %x: rebuilt stripe does not open to the chunk with the customer's key: %w", k, err))
		}
	}
	must(t, h.Pass(bg))
	if s := h.Status(); !s.Healthy() {
		t.Errorf("not healthy after a second pass: %+v", s.Tally)
	}
}
