package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/s3gw"
)

// testSealer is the tenant's sealer of the sealed test gateways.
func testSealer(t testing.TB) *erasure.Sealer {
	t.Helper()
	s, err := erasure.NewSealer(bytes.Repeat([]byte{7}, erasure.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reports collects what a gateway reports to healing.
type reports struct {
	mu  sync.Mutex
	got []string // "shard@node"
}

func (r *reports) report(_ []byte, shard int, node string, _ bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%d@%s", shard, node))
}

func (r *reports) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// newSealedEnv is newEnv with a gateway that seals, and reports collected.
func newSealedEnv(t *testing.T, chunkSize int) (*env, *reports) {
	t.Helper()
	e := newEnv(t, chunkSize)
	rep := &reports{}
	e.cfg.Sealer, e.cfg.Seal, e.cfg.Report = testSealer(t), true, rep.report
	g, err := New(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.g = g
	return e, rep
}

// TestSealedRoundTrip: a gateway that seals stores, per chunk, a stripe of
// the sealed chunk: shards named and placed after the chunk's keyed name,
// the name and a sum of each shard recorded, no plaintext on any node; and
// reads every size and range back, with the object's CID that of its
// plaintext, as an unsealed gateway gives it.
func TestSealedRoundTrip(t *testing.T) {
	e, _ := newSealedEnv(t, 4096)
	plainGW, err := New(context.Background(), func() Config { c := e.cfg; c.Seal = false; return c }())
	if err != nil {
		t.Fatal(err)
	}
	sealer := e.cfg.Sealer
	codec, _ := erasure.NewCodec(4, 2)
	ctx := context.Background()
	for _, n := range []int{1, 4095, 4096, 4097, 3*4096 + 17, 10 * 4096} {
		key := fmt.Sprint("sealed-", n)
		data := randBytes(uint64(n)+50, n)
		info := e.put(t, key, data)
		plain, err := plainGW.PutObject(ctx, "b", "plain-"+key, bytes.NewReader(data), int64(n), s3gw.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.CID != plain.CID || info.ETag != plain.ETag {
			t.Fatalf("%d bytes: sealed CID %s ETag %s, unsealed %s %s", n, info.CID, info.ETag, plain.CID, plain.ETag)
		}
		obj, err := e.ms.GetObject(ctx, "b", key)
		if err != nil {
			t.Fatal(err)
		}
		for ci, c := range obj.Chunks {
			if c.Inline() {
				continue // small objects stay in the manifest, on the tenant's side
			}
			st := c.Stripe
			id, _ := cid.Cast(c.CID)
			name := sealer.Name(id)
			if st.Seal != erasure.SealV1 || !bytes.Equal(st.Name, name.Bytes()) || len(st.Sums) != 6 {
				t.Fatalf("%d bytes, chunk %d: seal %d, name %x (want %s), %d sums", n, ci, st.Seal, st.Name, name, len(st.Sums))
			}
			chunk := data[ci*4096 : min((ci+1)*4096, n)]
			if want := codec.ShardSize(len(chunk) + erasure.SealOverhead); st.ShardSize != want {
				t.Fatalf("chunk %d: shard size %d, want %d", ci, st.ShardSize, want)
			}
			want, _ := codec.Encode(sealer.Seal(nil, chunk, id), nil)
			for i, raw := range st.Shards {
				sid, _ := cid.Cast(raw)
				if wantID, _ := erasure.ShardName(name, 4, 2, i); sid != wantID {
					t.Fatalf("chunk %d shard %d named %s, want %s", ci, i, sid, wantID)
				}
				held, err := e.nodes[st.Nodes[i]].Get(ctx, sid, nil)
				if err != nil || !bytes.Equal(held, want[i]) {
					t.Fatalf("chunk %d shard %d: node %s holds %d bytes that are not the sealed shard (%v)", ci, i, st.Nodes[i], len(held), err)
				}
				if len(st.Sums[i]) != erasure.ShardSumSize || sealer.CheckShardSum(st.Sums[i], held) != nil {
					t.Fatalf("chunk %d shard %d: recorded sum is not the shard's", ci, i)
				}
				if len(chunk) >= 64 && bytes.Contains(held, chunk[len(chunk)/2-32:len(chunk)/2]) {
					t.Fatalf("chunk %d shard %d holds plaintext", ci, i)
				}
			}
			if placed, _ := e.g.current.Load().ring.Place(name.Bytes(), 6); !slices.Equal(placed, st.Nodes) {
				t.Fatalf("chunk %d placed on %q, placement by its keyed name says %q", ci, st.Nodes, placed)
			}
		}
		got, err := e.read(key, 0, int64(n))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read %d bytes, %v", n, len(got), err)
		}
		edge := min(4096-5, n-1) // across the first chunk's end
		for _, r := range [][2]int{{0, 1}, {n - 1, 1}, {n / 3, n / 2}, {edge, min(10, n-edge)}} {
			off, length := r[0], r[1]
			for _, read := range []func(string, int64, int64) ([]byte, error){e.read, e.readVia} {
				got, err := read(key, int64(off), int64(length))
				if err != nil || !bytes.Equal(got, data[off:off+length]) {
					t.Fatalf("%d bytes, range %d+%d: %d bytes, %v", n, off, length, len(got), err)
				}
			}
		}
	}
	// Equal chunks seal alike: a second object of the same bytes adds no
	// shard to any node.
	before := storedShards(t, e)
	e.put(t, "again", randBytes(3*4096+17+50, 3*4096+17))
	if after := storedShards(t, e); after != before {
		t.Fatalf("writing the same bytes again stored %d new shards", after-before)
	}
}

// storedShards counts the shards every node holds.
func storedShards(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	for _, st := range e.nodes {
		w, ok := st.ShardStore.(interface {
			Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error
		})
		if !ok {
			t.Fatalf("store %T cannot be walked", st.ShardStore)
		}
		if err := w.Walk(context.Background(), func(cid.Cid, int64) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestSealedMultipart: parts are sealed chunk by chunk like any object.
func TestSealedMultipart(t *testing.T) {
	e, _ := newSealedEnv(t, 256<<10)
	ctx := context.Background()
	id, err := e.g.CreateMultipartUpload(ctx, "b", "mp", s3gw.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(21, MinPartSize), randBytes(22, 300000)
	var parts []s3gw.CompletePart
	for i, p := range [][]byte{p1, p2} {
		pi, err := e.g.UploadPart(ctx, "b", "mp", id, i+1, bytes.NewReader(p), int64(len(p)), s3gw.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3gw.CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	if _, err := e.g.CompleteMultipartUpload(ctx, "b", "mp", id, parts); err != nil {
		t.Fatal(err)
	}
	obj, err := e.ms.GetObject(ctx, "b", "mp")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range obj.Chunks {
		if c.Stripe.Seal != erasure.SealV1 || c.Stripe.Name == nil {
			t.Fatalf("chunk %d of the multipart object is not sealed: %+v", i, c.Stripe)
		}
	}
	want := append(bytes.Clone(p1), p2...)
	if got, err := e.read("mp", 0, int64(len(want))); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("multipart read: %d bytes, %v", len(got), err)
	}
	off := int64(len(p1) - 1000) // across the parts' boundary
	if got, err := e.read("mp", off, 5000); err != nil || !bytes.Equal(got, want[off:off+5000]) {
		t.Fatalf("multipart range: %v", err)
	}
}

// TestSealedLyingShard: a node that returns wrong bytes for a shard of a
// sealed stripe is caught by opening the seal (no CID is hashed), the read
// still returns the right bytes from the other shards, and the lying
// shard is reported to healing; with any two faults, down or lying, every
// read is right, and with three it fails rather than return wrong bytes.
func TestSealedLyingShard(t *testing.T) {
	e, rep := newSealedEnv(t, 4096)
	data := randBytes(31, 4096)
	e.put(t, "k", data)
	obj, err := e.ms.GetObject(context.Background(), "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	liar := obj.Chunks[0].Stripe.Nodes[1] // holds data shard 1: read on the happy path
	e.nodes[liar].corrupt.Store(true)
	got, err := e.read("k", 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with a lying node: %d bytes, %v", len(got), err)
	}
	if r := rep.list(); len(r) != 1 || r[0] != "1@"+liar {
		t.Fatalf("reports %q, want the lying shard 1@%s", r, liar)
	}
	e.nodes[liar].corrupt.Store(false)

	faults := map[string]func(n *faultyStore) *atomic.Bool{
		"down":    func(n *faultyStore) *atomic.Bool { return &n.down },
		"corrupt": func(n *faultyStore) *atomic.Bool { return &n.corrupt },
	}
	for _, pair := range [][2]string{{"down", "corrupt"}, {"corrupt", "corrupt"}} {
		for i := range e.ids {
			for j := i + 1; j < len(e.ids); j++ {
				fa, fb := faults[pair[0]](e.nodes[e.ids[i]]), faults[pair[1]](e.nodes[e.ids[j]])
				fa.Store(true)
				fb.Store(true)
				got, err := e.read("k", 0, int64(len(data)))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s %s, %s %s: %d bytes, err %v", e.ids[i], pair[0], e.ids[j], pair[1], len(got), err)
				}
				fa.Store(false)
				fb.Store(false)
			}
		}
	}
	for _, id := range e.ids[:3] {
		e.nodes[id].corrupt.Store(true)
	}
	if _, err := e.read("k", 0, int64(len(data))); !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("read with three lying nodes: %v, want ErrServiceUnavailable", err)
	}
}

// TestMixedSealedUnsealed: a bucket whose objects were written before
// sealing (or with it off) and after reads through a gateway that seals,
// an object that spans both kinds of stripe included; a gateway without
// the key refuses sealed stripes rather than return their bytes.
func TestMixedSealedUnsealed(t *testing.T) {
	e := newEnv(t, 4096) // no sealer: writes unsealed stripes
	ctx := context.Background()
	old := randBytes(41, 3*4096+5)
	e.put(t, "old", old)
	unsealedGW := e.g

	e.cfg.Sealer, e.cfg.Seal = testSealer(t), true
	sealedGW, err := New(ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.g = sealedGW
	fresh := randBytes(42, 2*4096+9)
	e.put(t, "new", fresh)
	// One object of both: its first chunks are the old object's, already
	// recorded unsealed (deduplicated), its last one new and sealed.
	mixed := append(bytes.Clone(old[:2*4096]), randBytes(43, 100)...)
	e.put(t, "mixed", mixed)
	obj, err := e.ms.GetObject(ctx, "b", "mixed")
	if err != nil {
		t.Fatal(err)
	}
	if s := []int{obj.Chunks[0].Stripe.Seal, obj.Chunks[1].Stripe.Seal, obj.Chunks[2].Stripe.Seal}; s[0] != 0 || s[1] != 0 || s[2] != erasure.SealV1 {
		t.Fatalf("mixed object's stripes have seals %v, want [0 0 1]", s)
	}
	for key, want := range map[string][]byte{"old": old, "new": fresh, "mixed": mixed} {
		if got, err := e.read(key, 0, int64(len(want))); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, %v", key, len(got), err)
		}
		if got, err := e.read(key, 4000, 300); err != nil || !bytes.Equal(got, want[4000:4300]) {
			t.Fatalf("%s range: %v", key, err)
		}
	}
	e.g = unsealedGW
	if got, err := e.read("old", 0, int64(len(old))); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("a gateway without the key reads unsealed stripes: %v", err)
	}
	if _, err := e.read("new", 0, int64(len(fresh))); !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("a gateway without the key read a sealed stripe: %v", err)
	}
}

func TestSealNeedsSealer(t *testing.T) {
	e := newEnv(t, 4096)
	cfg := e.cfg
	cfg.Seal = true
	if _, err := New(context.Background(), cfg); err == nil {
		t.Fatal("a gateway that seals without a sealer was made")
	}
}
