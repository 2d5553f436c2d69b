package meta

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func withNodes(c Chunk, nodes ...string) Chunk {
	c.Stripe.Nodes = nodes
	return c
}

// TestChunkTableStripes: the first reference records the writer's stripe,
// with its nodes; readers get the recorded stripe, also after
// SetStripeNodes moved it, and SetStripeNodes is a compare-and-set.
func TestChunkTableStripes(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	first := []string{"n1", "n2", "n3", "n4", "n5", ""}
	obj := object("b", "a", "c1")
	obj.Chunks[0] = withNodes(obj.Chunks[0], first...)
	must(t, s.PutObject(bg, obj))

	// A second writer of the same chunk, placed elsewhere: the record keeps
	// the first stripe, but for the shard it stored nowhere, which the
	// second writer stored.
	obj2 := object("b", "b", "c1")
	obj2.Chunks[0] = withNodes(obj2.Chunks[0], "x1", "x2", "x3", "x4", "x5", "x6")
	must(t, s.PutObject(bg, obj2))
	got, err := s.GetObject(bg, "b", "b")
	must(t, err)
	first = []string{"n1", "n2", "n3", "n4", "n5", "x6"}
	if !slices.Equal(got.Chunks[0].Stripe.Nodes, first) {
		t.Fatalf("second object reads nodes %q, want %q", got.Chunks[0].Stripe.Nodes, first)
	}

	moved := []string{"n1", "n2", "n3", "n4", "n5", "n6"}
	wantErr(t, s.SetStripeNodes(bg, cid("c1"), []string{"n1", "n2", "n3", "n4", "n5", "n9"}, moved, 7), ErrStripeChanged)
	wantErr(t, s.SetStripeNodes(bg, cid("c1"), nil, moved, 7), ErrStripeChanged)
	wantErr(t, s.SetStripeNodes(bg, cid("nope"), first, moved, 7), ErrStripeChanged)
	wantErr(t, s.SetStripeNodes(bg, cid("c1"), first, moved[:5], 7), ErrInvalidArgument)
	must(t, s.SetStripeNodes(bg, cid("c1"), first, moved, 7))
	for _, key := range []string{"a", "b"} {
		got, err := s.GetObject(bg, "b", key)
		must(t, err)
		if st := got.Chunks[0].Stripe; !slices.Equal(st.Nodes, moved) || st.Layout != 7 {
			t.Errorf("object %s reads stripe nodes %q layout %d after the move", key, st.Nodes, st.Layout)
		}
	}

	// A stripe with no recorded nodes (written before nodes were recorded)
	// is moved with old == nil.
	must(t, s.PutObject(bg, object("b", "c", "c2")))
	wantErr(t, s.SetStripeNodes(bg, cid("c2"), []string{"", "", "", "", "", ""}, moved, 7), ErrStripeChanged)
	must(t, s.SetStripeNodes(bg, cid("c2"), nil, moved, 7))

	// Parts read their stripes from the table too.
	must(t, s.CreateUpload(bg, &Upload{Bucket: "b", Key: "m", ID: "u1"}))
	must(t, s.PutPart(bg, "b", "m", "u1", &Part{Number: 1, ETag: "e1", Chunks: chunks("c2")}))
	parts, _, err := s.ListParts(bg, "b", "m", "u1", 0, 0)
	must(t, err)
	if len(parts) != 1 || !slices.Equal(parts[0].Chunks[0].Stripe.Nodes, moved) {
		t.Errorf("part reads %+v", parts)
	}

	// Chunks walks the table in pages.
	var all []ChunkInfo
	var after []byte
	for {
		page, next, err := s.Chunks(bg, after, 1)
		must(t, err)
		all = append(all, page...)
		if next == nil {
			break
		}
		after = next
	}
	if len(all) != 2 || all[0].Refs+all[1].Refs != 4 {
		t.Errorf("Chunks: %+v", all)
	}
}

// TestCollectFence: a chunk being collected cannot be referenced again
// (the refused write changes nothing) until its record is forgotten; then
// a new write creates a new record with its own stripe.
func TestCollectFence(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	must(t, s.CreateBucket(bg, "b", clock.now()))
	must(t, s.PutObject(bg, object("b", "a", "c1")))
	must(t, s.DeleteObjects(bg, "b", []string{"a"}))
	gone := clock.now()
	clock.add(time.Hour)

	// Not yet old enough: Collect leaves it garbage.
	must(t, s.Collect(bg, [][]byte{cid("c1")}, gone))
	if ci, _ := s.Chunk(bg, cid("c1")); ci == nil || ci.State != ChunkGarbage {
		t.Fatalf("chunk collected before its time: %+v", ci)
	}
	must(t, s.Collect(bg, [][]byte{cid("c1")}, gone.Add(time.Minute)))
	if ci, _ := s.Chunk(bg, cid("c1")); ci == nil || ci.State != ChunkCollecting {
		t.Fatalf("chunk not being collected: %+v", ci)
	}
	g, err := s.Garbage(bg, clock.now(), 0)
	must(t, err)
	if len(g) != 1 || !g[0].Collecting {
		t.Errorf("Garbage lists %+v", g)
	}

	must(t, s.CreateUpload(bg, &Upload{Bucket: "b", Key: "m", ID: "u"}))
	before := s.fsm.dump(t)
	obj := object("b", "new", "c0", "c1")
	wantErr(t, s.PutObject(bg, obj), ErrChunkCollecting)
	wantErr(t, s.PutPart(bg, "b", "m", "u", &Part{Number: 1, ETag: "e", Chunks: chunks("c0", "c1")}), ErrChunkCollecting)
	if d := diffDump(before, s.fsm.dump(t)); d != "" {
		t.Fatalf("a refused write changed the state: %s", d)
	}

	must(t, s.ForgetGarbage(bg, [][]byte{cid("c1")}))
	if ci, _ := s.Chunk(bg, cid("c1")); ci != nil {
		t.Fatalf("forgotten chunk has a record: %+v", ci)
	}
	obj.Chunks[1] = withNodes(obj.Chunks[1], "a", "b", "c", "d", "e", "f")
	must(t, s.PutObject(bg, obj))
	if ci, _ := s.Chunk(bg, cid("c1")); ci == nil || ci.Refs != 1 || ci.State != ChunkLive || ci.Stripe.Nodes[5] != "f" {
		t.Fatalf("chunk written again: %+v", ci)
	}
	checkRefsConsistent(t, s)
}

// v1Manifest encodes a manifest as format 1 did: version byte 1, stripes
// without nodes.
func v1Manifest(t *testing.T, header any, cs []Chunk) []byte {
	h, err := json.Marshal(header)
	must(t, err)
	e := enc{b: []byte{1}}
	e.bytes(h)
	e.uvarint(uint64(len(cs)))
	for i := range cs {
		e.bytes(cs[i].CID)
		e.uvarint(uint64(cs[i].Size))
		appendStripe(&e, &cs[i].Stripe, stripeBare)
		if cs[i].Stripe.K == 0 {
			e.bytes(cs[i].Data)
		}
	}
	return e.b
}

// TestMigrateFormat1 opens a state machine file as format 1 left it and
// checks the chunk table it becomes.
func TestMigrateFormat1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fsm.db")
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	since := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	must(t, db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bRaft, bBuckets, bObjects, bUploads, bParts, bKeys, bLayouts, []byte("refs"), bGarbage} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		must(t, tx.Bucket(bRaft).Put(kFormat, u64(1)))
		must(t, tx.Bucket(bRaft).Put(kApplied, u64(42)))
		a := object("b", "a", "live", "shared")
		b := object("b", "b", "shared")
		b.Chunks = append(b.Chunks, Chunk{CID: cid("inline"), Size: 3, Data: []byte("abc")})
		must(t, tx.Bucket(bObjects).Put(objectKey("b", "a"), v1Manifest(t, &Object{V: 1, Bucket: "b", Key: "a"}, a.Chunks)))
		must(t, tx.Bucket(bObjects).Put(objectKey("b", "b"), v1Manifest(t, &Object{V: 1, Bucket: "b", Key: "b"}, b.Chunks)))
		refs := tx.Bucket([]byte("refs"))
		must(t, refs.Put(cid("live"), u64(1)))
		must(t, refs.Put(cid("shared"), u64(2)))
		must(t, refs.Put(cid("dead"), append(u64(0), timeKey(since)...)))
		e := enc{b: []byte{1}}
		st := chunk("dead", 1<<20).Stripe
		appendStripe(&e, &st, stripeBare)
		return tx.Bucket(bGarbage).Put(garbageKey(timeKey(since), cid("dead")), e.b)
	}))
	must(t, db.Close())

	f, err := openFSM(path, testLoggerOrDiscard())
	must(t, err)
	defer f.close()
	d := f.dump(t)
	if _, ok := d["refs"]; ok {
		t.Error("the refs bucket is still there")
	}
	want := map[string]chunkRecord{
		"live":   {refs: 1, state: ChunkLive, size: 1 << 20, stripe: chunk("live", 1<<20).Stripe},
		"shared": {refs: 2, state: ChunkLive, size: 1 << 20, stripe: chunk("shared", 1<<20).Stripe},
		"dead":   {refs: 0, state: ChunkGarbage, since: timeKey(since), stripe: chunk("dead", 1<<20).Stripe},
	}
	if len(d[string(bChunks)]) != len(want) {
		t.Errorf("%d chunk records, want %d", len(d[string(bChunks)]), len(want))
	}
	for name, w := range want {
		v, ok := d[string(bChunks)][string(cid(name))]
		if !ok {
			t.Errorf("no record for %s", name)
			continue
		}
		r, err := decodeChunkRecord([]byte(v))
		must(t, err)
		if !reflect.DeepEqual(r, w) {
			t.Errorf("record of %s = %+v, want %+v", name, r, w)
		}
	}
	if v := d[string(bGarbage)][string(garbageKey(timeKey(since), cid("dead")))]; v != "" {
		t.Errorf("garbage index value %x, want none", v)
	}
	var format []byte
	must(t, f.view(func(tx *bolt.Tx) error { format = tx.Bucket(bRaft).Get(kFormat); return nil }))
	if fmt.Sprint(format) != fmt.Sprint(u64(stateFormat)) {
		t.Errorf("format %x after migration", format)
	}
	// Old manifests still read, with the table's stripes.
	var obj *Object
	must(t, f.view(func(tx *bolt.Tx) error {
		var err error
		if obj, err = decodeObject(tx.Bucket(bObjects).Get(objectKey("b", "b")), true); err != nil {
			return err
		}
		return resolveStripes(tx, obj.Chunks)
	}))
	if len(obj.Chunks) != 2 || string(obj.Chunks[1].Data) != "abc" || obj.Chunks[0].Stripe.K != 4 {
		t.Errorf("format 1 manifest reads %+v", obj.Chunks)
	}
}

// TestForgottenWhileWritten: a write whose fence (the read index of the
// bucket read it made before storing shards) comes before the collector
// forgot the same chunk (so its shards may have been deleted under it) is
// refused; one whose fence comes after is taken. A fence older than the
// tombstones kept is refused for any chunk with no record.
func TestForgottenWhileWritten(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	must(t, s.CreateBucket(bg, "b", clock.now()))
	must(t, s.PutObject(bg, object("b", "a", "c1")))
	must(t, s.DeleteObjects(bg, "b", []string{"a"}))
	clock.add(time.Hour)
	b, err := s.GetBucket(bg, "b") // a writer reads, then stores c1's shards...
	must(t, err)
	if b.ReadIndex == 0 {
		t.Fatal("GetBucket gave no read index")
	}
	must(t, s.Collect(bg, [][]byte{cid("c1")}, clock.now()))
	must(t, s.ForgetGarbage(bg, [][]byte{cid("c1")})) // ...the collector deletes them and forgets c1

	obj := object("b", "late", "c1")
	obj.Fence = b.ReadIndex
	wantErr(t, s.PutObject(bg, obj), ErrChunkCollecting)
	must(t, s.CreateUpload(bg, &Upload{Bucket: "b", Key: "m", ID: "u"}))
	u, err := s.GetUpload(bg, "b", "m", "u")
	must(t, err)
	wantErr(t, s.PutPart(bg, "b", "m", "u", &Part{Number: 1, ETag: "e", Chunks: chunks("c1"), Fence: b.ReadIndex}), ErrChunkCollecting)
	must(t, s.PutPart(bg, "b", "m", "u", &Part{Number: 1, ETag: "e", Chunks: chunks("c1"), Fence: u.ReadIndex}))
	must(t, s.AbortUpload(bg, "b", "m", "u"))

	// Written again after a read that follows the collection: taken, and
	// the fence is not stored.
	b2, err := s.GetBucket(bg, "b")
	must(t, err)
	obj.Fence = b2.ReadIndex
	must(t, s.PutObject(bg, obj))
	got, err := s.GetObject(bg, "b", "late")
	must(t, err)
	if got.Fence != 0 {
		t.Errorf("fence stored: %d", got.Fence)
	}
	// Tombstones older than TombstoneRetention are pruned (at the next
	// forget); a fence from before them is refused for chunks with no
	// record.
	must(t, s.PutObject(bg, object("b", "x", "c8")))
	must(t, s.DeleteObjects(bg, "b", []string{"x"}))
	clock.add(TombstoneRetention + time.Hour)
	must(t, s.Collect(bg, [][]byte{cid("c8")}, clock.now()))
	must(t, s.ForgetGarbage(bg, [][]byte{cid("c8")}))
	stale := object("b", "ancient", "c9")
	stale.Fence = b.ReadIndex
	wantErr(t, s.PutObject(bg, stale), ErrChunkCollecting)
	checkRefsConsistent(t, s)
}

// TestWriteFillsStoredNowhere: a chunk written again, its shards stored
// anew, fills the shards its record says are stored nowhere (a reader
// found them missing), and keeps the others where they are.
func TestWriteFillsStoredNowhere(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	first := object("b", "a", "c1")
	first.Chunks[0] = withNodes(first.Chunks[0], "n1", "n2", "n3", "n4", "n5", "n6")
	must(t, s.PutObject(bg, first))
	lost := []string{"n1", "", "n3", "", "n5", "n6"}
	must(t, s.SetStripeNodes(bg, cid("c1"), first.Chunks[0].Stripe.Nodes, lost, 1))
	again := object("b", "b", "c1")
	again.Chunks[0] = withNodes(again.Chunks[0], "x1", "x2", "x3", "x4", "x5", "")
	must(t, s.PutObject(bg, again))
	ci, err := s.Chunk(bg, cid("c1"))
	must(t, err)
	if want := []string{"n1", "x2", "n3", "x4", "n5", "n6"}; !slices.Equal(ci.Stripe.Nodes, want) {
		t.Fatalf("nodes after the second write %q, want %q", ci.Stripe.Nodes, want)
	}
}
