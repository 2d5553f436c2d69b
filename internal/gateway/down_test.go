package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/s3gw"
)

// downSet is a Config.Down that tests switch.
type downSet struct {
	mu   sync.Mutex
	down map[string]bool
}

func (d *downSet) set(ids ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = map[string]bool{}
	for _, id := range ids {
		d.down[id] = true
	}
}

func (d *downSet) Down(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.down[id]
}

// withDown returns a gateway of e that knows which nodes are down from d.
func (e *env) withDown(t *testing.T, d *downSet) *Gateway {
	t.Helper()
	cfg := e.cfg
	cfg.Down = d.Down
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// chunks returns the striped chunks of an object as readers see them
// (the chunk table's stripes).
func (e *env) chunks(t *testing.T, key string) []meta.Chunk {
	t.Helper()
	obj, err := e.ms.GetObject(context.Background(), "b", key)
	if err != nil {
		t.Fatal(err)
	}
	var out []meta.Chunk
	for _, c := range obj.Chunks {
		if !c.Inline() {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no striped chunk", key)
	}
	return out
}

// holds reports whether node id has the shard, asking its store past any
// fault the test switched on.
func (e *env) holds(t *testing.T, id string, shard []byte) bool {
	t.Helper()
	sid, err := cid.Cast(shard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.nodes[id].ShardStore.Get(context.Background(), sid, nil)
	return err == nil
}

// TestPutWithNodeDown is the README's cluster, three nodes in three
// zones, with one node down: a gateway that does not know it fails every
// PUT (4 of 6 shards stored, need 5); one that knows puts all six shards
// on the two nodes that are up, records where, and reads back every
// object, those written before the node went down included.
func TestPutWithNodeDown(t *testing.T) {
	e := newEnvNodes(t, 4096, 3)
	var d downSet
	g := e.withDown(t, &d)
	ctx := context.Background()
	before := randBytes(20, 3*4096+5)
	if _, err := g.PutObject(ctx, "b", "before", bytes.NewReader(before), int64(len(before)), s3gw.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.chunks(t, "before") {
		if len(c.Stripe.Nodes) != 6 || slices.Contains(c.Stripe.Nodes, "") {
			t.Fatalf("written with every node up, the stripe records nodes %q", c.Stripe.Nodes)
		}
	}

	e.nodes["n1"].down.Store(true)
	data := randBytes(21, 5*4096+77)
	// The premise: without knowing n1 is down, the write fails.
	_, err := e.g.PutObject(ctx, "b", "blind", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("put with n1 down, not known: %v, want ErrServiceUnavailable", err)
	}

	d.set("n1")
	var keys []string
	for i := range 8 {
		key := fmt.Sprint("during-", i)
		body := randBytes(uint64(30+i), 4096*(i+1)+i)
		if _, err := g.PutObject(ctx, "b", key, bytes.NewReader(body), int64(len(body)), s3gw.PutOptions{}); err != nil {
			t.Fatalf("put %s with n1 known down: %v", key, err)
		}
		keys = append(keys, key)
		for ci, c := range e.chunks(t, key) {
			nodes := c.Stripe.Nodes
			if len(nodes) != 6 {
				t.Fatalf("%s chunk %d records nodes %q", key, ci, nodes)
			}
			for si, id := range nodes {
				if id != "n0" && id != "n2" {
					t.Fatalf("%s chunk %d shard %d recorded on %q, want a node that is up: %q", key, ci, si, id, nodes)
				}
				if !e.holds(t, id, c.Stripe.Shards[si]) {
					t.Fatalf("%s chunk %d shard %d: recorded on %s, which does not have it", key, ci, si, id)
				}
			}
		}
		if got, err := g.read(key, body); err != nil {
			t.Fatalf("read %s: %v (%d bytes)", key, err, len(got))
		}
	}
	// Written before: degraded (n1's two shards are missing), still whole.
	if _, err := g.read("before", before); err != nil {
		t.Fatalf("read an object written before n1 went down: %v", err)
	}

	// n1 is back: everything reads through a gateway that knows nothing
	// of liveness, and new stripes spread over all three nodes again.
	e.nodes["n1"].down.Store(false)
	d.set()
	for i, key := range keys {
		if _, err := e.g.read(key, randBytes(uint64(30+i), 4096*(i+1)+i)); err != nil {
			t.Fatalf("read %s after n1 is back: %v", key, err)
		}
	}
	if _, err := g.PutObject(ctx, "b", "after", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.chunks(t, "after") {
		if !slices.Contains(c.Stripe.Nodes, "n1") {
			t.Fatalf("with every node up again, a stripe avoids n1: %q", c.Stripe.Nodes)
		}
	}
}

// read reads a whole object through g and checks it against want.
func (g *Gateway) read(key string, want []byte) ([]byte, error) {
	ctx := context.Background()
	o, err := g.GetObject(ctx, "b", key)
	if err != nil {
		return nil, err
	}
	r, err := o.Open(ctx, 0, int64(len(want)))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return buf.Bytes(), err
	}
	if !bytes.Equal(buf.Bytes(), want) {
		return buf.Bytes(), fmt.Errorf("%s: read %d bytes that differ from the %d written", key, buf.Len(), len(want))
	}
	return buf.Bytes(), nil
}

// TestFailedShardIsAHole: a shard whose write failed is recorded on no
// node (""), the others where they went; a read counts the hole as
// missing and asks no node for it, even once its node is back.
func TestFailedShardIsAHole(t *testing.T) {
	e := newEnv(t, 4096)
	lost := e.nodes["n0"]
	lost.down.Store(true) // down, and no one knows: its writes fail
	data := randBytes(40, 12*4096)
	e.put(t, "k", data)
	ring := e.g.current.Load().ring
	dataHoles := 0
	for ci, c := range e.chunks(t, "k") {
		placed, err := ring.Place(c.CID, 6)
		if err != nil {
			t.Fatal(err)
		}
		for si, id := range c.Stripe.Nodes {
			want := placed[si]
			if want == "n0" {
				want = ""
				if si < c.Stripe.K {
					dataHoles++
				}
			}
			if id != want {
				t.Fatalf("chunk %d shard %d recorded on %q, want %q (placed on %s)", ci, si, id, want, placed[si])
			}
		}
	}
	if dataHoles == 0 {
		t.Fatal("no chunk lost a data shard: the read below would not need to skip a hole")
	}
	lost.down.Store(false)
	gets := lost.gets.Load()
	if _, err := e.g.read("k", data); err != nil {
		t.Fatal(err)
	}
	if n := lost.gets.Load() - gets; n != 0 {
		t.Fatalf("the read asked n0 %d times for shards recorded on no node", n)
	}
}

// TestReadsStripesWithoutNodes: stripes written before stripes recorded
// their nodes are found where their layout version's placement puts them.
func TestReadsStripesWithoutNodes(t *testing.T) {
	e := newEnv(t, 4096)
	data := randBytes(50, 7*4096+3)
	e.put(t, "k", data)
	cfg := e.cfg
	cfg.Meta = oldStripes{e.ms}
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.Meta.GetObject(context.Background(), "b", "k")
	if err != nil || o.Chunks[0].Stripe.Nodes != nil {
		t.Fatalf("the old-stripe view still has nodes: %v", err)
	}
	e.nodes["n3"].down.Store(true) // and one degraded
	if _, err := g.read("k", data); err != nil {
		t.Fatal(err)
	}
}

// oldStripes is a metadata store whose stripes record no nodes, as those
// written before the chunk table recorded them.
type oldStripes struct{ *meta.Store }

func (m oldStripes) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	o, err := m.Store.GetObject(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	for i := range o.Chunks {
		o.Chunks[i].Stripe.Nodes = nil
	}
	return o, nil
}

// TestWriteRingCached: the ring without the down nodes is built once per
// down set, finding it costs no allocation, and with every node down
// stripes are placed on the whole layout.
func TestWriteRingCached(t *testing.T) {
	e := newEnvNodes(t, 4096, 3)
	var d downSet
	g := e.withDown(t, &d)
	lv := g.current.Load()
	if g.writeRing(lv) != lv.ring {
		t.Fatal("nothing down, yet not the layout's ring")
	}
	d.set("n2")
	r := g.writeRing(lv)
	if r == lv.ring || r.Len() != 2 || g.writeRing(lv) != r {
		t.Fatalf("n2 down: ring of %d nodes, cached %v", r.Len(), g.writeRing(lv) == r)
	}
	if allocs := testing.AllocsPerRun(100, func() { g.writeRing(lv) }); allocs != 0 {
		t.Errorf("writeRing allocates %.0f times per chunk", allocs)
	}
	d.set("n0", "n1", "n2")
	if g.writeRing(lv) != lv.ring {
		t.Fatal("every node down: not the layout's ring")
	}
	d.set("n2")
	if g.writeRing(lv) != r || len(lv.live) != 2 {
		t.Fatalf("%d rings cached for 2 down sets", len(lv.live))
	}
	want, _ := layout.LiveRing(lv.layout, func(id string) bool { return id == "n2" })
	for i := range 50 {
		s := fmt.Appendf(nil, "s%d", i)
		a, _ := r.Place(s, 6)
		b, _ := want.Place(s, 6)
		if !slices.Equal(a, b) {
			t.Fatalf("%s: cached ring places on %v, layout.LiveRing on %v", s, a, b)
		}
	}
}

// TestChunkCollectingIsSlowDown: a write that references a chunk the
// garbage collector is deleting is refused with SlowDown, which S3
// clients retry; once the collector is done, the same PUT succeeds.
func TestChunkCollectingIsSlowDown(t *testing.T) {
	e := newEnv(t, 4096)
	ctx := context.Background()
	data := randBytes(60, 2*4096)
	e.put(t, "k", data)
	var cids [][]byte
	for _, c := range e.chunks(t, "k") {
		cids = append(cids, c.CID)
	}
	if err := e.g.DeleteObject(ctx, "b", "k"); err != nil {
		t.Fatal(err)
	}
	if err := e.ms.Collect(ctx, cids, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := e.g.PutObject(ctx, "b", "k2", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrSlowDown) || !errors.Is(err, meta.ErrChunkCollecting) {
		t.Fatalf("put of a chunk being collected: %v, want SlowDown wrapping ErrChunkCollecting", err)
	}
	id, err := e.g.CreateMultipartUpload(ctx, "b", "mp", s3gw.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.g.UploadPart(ctx, "b", "mp", id, 1, bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrSlowDown) {
		t.Fatalf("part of a chunk being collected: %v, want SlowDown", err)
	}
	if err := e.ms.ForgetGarbage(ctx, cids); err != nil {
		t.Fatal(err)
	}
	// Once the collection is over, the same PUT is taken: its fence (the
	// bucket read it makes before storing shards) comes after the
	// collection's tombstone.
	if _, err := e.g.PutObject(ctx, "b", "k2", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.read("k2", data); err != nil {
		t.Fatal(err)
	}
}

// TestReportsMissingAndWrongShards: a shard a read finds missing on its
// node, and one whose node returns bytes that do not decode to the chunk,
// are reported to healing with the node the stripe names; only the
// second as a lie.
func TestReportsMissingAndWrongShards(t *testing.T) {
	e := newEnv(t, 4096)
	data := randBytes(61, 4096)
	e.put(t, "k", data)
	c := e.chunks(t, "k")[0]
	type rep struct {
		shard int
		node  string
		lied  bool
	}
	var mu sync.Mutex
	var got []rep
	cfg := e.cfg
	cfg.Report = func(chunk []byte, shard int, node string, lied bool) {
		if !bytes.Equal(chunk, c.CID) {
			t.Errorf("report names chunk %x, want %x", chunk, c.CID)
		}
		mu.Lock()
		got = append(got, rep{shard, node, lied})
		mu.Unlock()
	}
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Shard 0's node lost it.
	lost := c.Stripe.Nodes[0]
	sid, _ := cid.Cast(c.Stripe.Shards[0])
	if err := e.nodes[lost].ShardStore.(interface {
		Delete(context.Context, cid.Cid) error
	}).Delete(context.Background(), sid); err != nil {
		t.Fatal(err)
	}
	if _, err := g.read("k", data); err != nil {
		t.Fatal(err)
	}
	// Shard 1's node lies.
	liar := c.Stripe.Nodes[1]
	e.nodes[liar].corrupt.Store(true)
	if _, err := g.read("k", data); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(got, rep{0, lost, false}) || !slices.Contains(got, rep{1, liar, true}) {
		t.Fatalf("reports %v, want shard 0 missing on %s and shard 1 lied about by %s", got, lost, liar)
	}
}
