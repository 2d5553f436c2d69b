package meta

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// refState checks the reference count of every named chunk (0: none) and
// that exactly the chunks with count 0 among them and the extra names in
// garbage are garbage, each since the time given.
type refState struct {
	t     *testing.T
	s     *Store
	clock *testClock
}

func (r refState) want(counts map[string]int64, garbage map[string]time.Time) {
	r.t.Helper()
	for name, want := range counts {
		if got := refsOf(r.t, r.s, name); got != want {
			r.t.Errorf("refs of %s = %d, want %d", name, got, want)
		}
	}
	all, err := r.s.Garbage(bg, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	must(r.t, err)
	got := map[string]time.Time{}
	byCID := map[string]string{}
	for name := range counts {
		byCID[string(cid(name))] = name
	}
	for name := range garbage {
		byCID[string(cid(name))] = name
	}
	for _, g := range all {
		name, ok := byCID[string(g.CID)]
		if !ok {
			name = fmt.Sprintf("%x", g.CID)
		}
		got[name] = g.Since
		if want := chunk(name, 1<<20).Stripe; ok && !reflect.DeepEqual(g.Stripe, want) {
			r.t.Errorf("garbage %s has stripe %+v, want %+v", name, g.Stripe, want)
		}
	}
	if garbage == nil {
		garbage = map[string]time.Time{}
	}
	if !reflect.DeepEqual(got, garbage) {
		r.t.Errorf("garbage = %v, want %v", got, garbage)
	}
}

func TestRefcounts(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	r := refState{t, s, clock}
	must(t, s.CreateBucket(bg, "b", clock.now()))

	// Put.
	must(t, s.PutObject(bg, object("b", "A", "c1", "c2")))
	r.want(map[string]int64{"c1": 1, "c2": 1}, nil)

	// Overwrite: c1 is released (garbage at t1), c3 is new, c2 is kept
	// and never passes through zero.
	clock.add(time.Minute)
	t1 := clock.now()
	must(t, s.PutObject(bg, object("b", "A", "c2", "c3")))
	r.want(map[string]int64{"c1": 0, "c2": 1, "c3": 1}, map[string]time.Time{"c1": t1})

	// Copy: a second object sharing chunks; and a chunk listed twice.
	must(t, s.PutObject(bg, object("b", "B", "c2", "c3", "c3")))
	r.want(map[string]int64{"c2": 2, "c3": 3}, map[string]time.Time{"c1": t1})

	// A reference brings c1 back from the garbage.
	clock.add(time.Minute)
	must(t, s.PutObject(bg, object("b", "C", "c1")))
	r.want(map[string]int64{"c1": 1}, nil)

	// Delete: A and C go (c1 garbage at t2); B keeps c2 and c3.
	clock.add(time.Minute)
	t2 := clock.now()
	must(t, s.DeleteObjects(bg, "b", []string{"A", "C", "nope"}))
	r.want(map[string]int64{"c1": 0, "c2": 1, "c3": 2}, map[string]time.Time{"c1": t2})

	// Multipart: parts 1, 2, 3; part 3 replaced (p3 released); complete
	// with parts 1 and 2 only: part 4's chunk (unused) is released, the
	// object's chunks keep one reference each.
	must(t, s.CreateUpload(bg, &Upload{Bucket: "b", Key: "M", ID: "u1"}))
	put := func(n int, cs ...string) {
		must(t, s.PutPart(bg, "b", "M", "u1", &Part{Number: n, ETag: fmt.Sprint("e", n), Chunks: chunks(cs...)}))
	}
	put(1, "p1a", "p1b")
	put(2, "p2", "c2") // a part chunk shared with object B
	put(3, "p3")
	put(4, "p4")
	clock.add(time.Minute)
	t3 := clock.now()
	put(3, "p3new")
	r.want(map[string]int64{"p1a": 1, "p1b": 1, "p2": 1, "c2": 2, "p3": 0, "p3new": 1, "p4": 1},
		map[string]time.Time{"c1": t2, "p3": t3})
	clock.add(time.Minute)
	t4 := clock.now()
	must(t, s.CompleteUpload(bg, "u1", []PartRef{{1, "e1"}, {2, "e2"}}, object("b", "M", "p1a", "p1b", "p2", "c2")))
	r.want(map[string]int64{"p1a": 1, "p1b": 1, "p2": 1, "c2": 2, "p3new": 0, "p4": 0},
		map[string]time.Time{"c1": t2, "p3": t3, "p3new": t4, "p4": t4})

	// Completing over an existing object releases the old one's chunks.
	must(t, s.CreateUpload(bg, &Upload{Bucket: "b", Key: "B", ID: "u2"}))
	must(t, s.PutPart(bg, "b", "B", "u2", &Part{Number: 1, ETag: "x", Chunks: chunks("q1")}))
	clock.add(time.Minute)
	t5 := clock.now()
	must(t, s.CompleteUpload(bg, "u2", []PartRef{{1, "x"}}, object("b", "B", "q1")))
	r.want(map[string]int64{"q1": 1, "c2": 1, "c3": 0},
		map[string]time.Time{"c1": t2, "p3": t3, "p3new": t4, "p4": t4, "c3": t5})

	// Abort releases the parts.
	must(t, s.CreateUpload(bg, &Upload{Bucket: "b", Key: "X", ID: "u3"}))
	must(t, s.PutPart(bg, "b", "X", "u3", &Part{Number: 1, Chunks: chunks("a1", "q1")}))
	clock.add(time.Minute)
	t6 := clock.now()
	must(t, s.AbortUpload(bg, "b", "X", "u3"))
	r.want(map[string]int64{"a1": 0, "q1": 1},
		map[string]time.Time{"c1": t2, "p3": t3, "p3new": t4, "p4": t4, "c3": t5, "a1": t6})

	// Deleting a bucket aborts its uploads.
	must(t, s.CreateBucket(bg, "d", clock.now()))
	must(t, s.CreateUpload(bg, &Upload{Bucket: "d", Key: "k", ID: "u4"}))
	must(t, s.PutPart(bg, "d", "k", "u4", &Part{Number: 1, Chunks: chunks("d1")}))
	must(t, s.PutPart(bg, "d", "k", "u4", &Part{Number: 2, Chunks: chunks("d2", "q1")}))
	clock.add(time.Minute)
	t7 := clock.now()
	must(t, s.DeleteBucket(bg, "d"))
	garbage := map[string]time.Time{"c1": t2, "p3": t3, "p3new": t4, "p4": t4, "c3": t5, "a1": t6, "d1": t7, "d2": t7}
	r.want(map[string]int64{"d1": 0, "d2": 0, "q1": 1}, garbage)
	_, err := s.GetUpload(bg, "d", "k", "u4")
	wantErr(t, err, ErrNoSuchUpload)
	assertNoParts(t, s)

	// Garbage: olderThan is strict, oldest first, limited.
	old, err := s.Garbage(bg, t4, 0)
	must(t, err)
	if len(old) != 2 || !old[0].Since.Equal(t2) || !old[1].Since.Equal(t3) {
		t.Errorf("Garbage(t4) = %+v", old)
	}
	three, err := s.Garbage(bg, clock.now(), 3)
	must(t, err)
	if len(three) != 3 || !slices.IsSortedFunc(three, func(a, b GarbageChunk) int { return a.Since.Compare(b.Since) }) {
		t.Errorf("Garbage(limit 3) = %+v", three)
	}

	// ForgetGarbage drops the records of chunks being collected only.
	must(t, s.PutObject(bg, object("b", "again", "c1")))
	delete(garbage, "c1")
	must(t, s.ForgetGarbage(bg, [][]byte{cid("p3")}))
	if ci, err := s.Chunk(bg, cid("p3")); err != nil || ci == nil || ci.State != ChunkGarbage {
		t.Errorf("garbage chunk forgotten before Collect: %+v, %v", ci, err)
	}
	must(t, s.Collect(bg, [][]byte{cid("c1"), cid("p3"), cid("p4"), cid("unknown")}, clock.now().Add(time.Second)))
	if ci, err := s.Chunk(bg, cid("c1")); err != nil || ci == nil || ci.State != ChunkLive {
		t.Errorf("live chunk after Collect: %+v, %v", ci, err)
	}
	must(t, s.ForgetGarbage(bg, [][]byte{cid("c1"), cid("p3"), cid("p4"), cid("unknown")}))
	delete(garbage, "p3")
	delete(garbage, "p4")
	r.want(map[string]int64{"c1": 1, "p3": 0, "p4": 0}, garbage)
	if d := s.fsm.dump(t); d[string(bChunks)][string(cid("p3"))] != "" {
		t.Error("forgotten chunk still has a record")
	}

	// The counts add up: every reference is an object's or a part's.
	checkRefsConsistent(t, s)
}

// checkRefsConsistent recounts every chunk reference from the objects and
// parts and compares with the stored counts and garbage.
func checkRefsConsistent(t *testing.T, s *Store) {
	t.Helper()
	d := s.fsm.dump(t)
	want := map[string]uint64{}
	for _, name := range []string{string(bObjects), string(bParts), string(bVersions)} {
		for _, v := range d[name] {
			cs, err := decodeManifestChunks([]byte(v))
			must(t, err)
			for _, c := range cs {
				want[string(c.CID)]++
			}
		}
	}
	inGarbage := map[string]bool{}
	for k := range d[string(bGarbage)] {
		inGarbage[k[8:]] = true
	}
	for k, v := range d[string(bChunks)] {
		r, err := decodeChunkRecord([]byte(v))
		must(t, err)
		n := r.refs
		if n != want[k] {
			t.Errorf("chunk %x: %d refs stored, %d counted", k, n, want[k])
		}
		if (n == 0) != inGarbage[k] || (n == 0) != (r.state != ChunkLive) {
			t.Errorf("chunk %x: %d refs, state %v, in garbage %v", k, n, r.state, inGarbage[k])
		}
		delete(want, k)
	}
	for k, n := range want {
		t.Errorf("chunk %x: %d refs counted, none stored", k, n)
	}
}

// TestInlineChunks: a chunk stored inline round-trips with its bytes, is
// never reference-counted nor garbage, and malformed inline chunks are
// refused.
func TestInlineChunks(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	r := refState{t, s, clock}
	must(t, s.CreateBucket(bg, "b", clock.now()))
	data := []byte("small object bytes")
	o := object("b", "small")
	o.Size = int64(len(data))
	o.Chunks = []Chunk{{CID: cid("inline"), Size: int64(len(data)), Data: data}, chunk("striped", 1<<20)}
	must(t, s.PutObject(bg, o))
	got, err := s.GetObject(bg, "b", "small")
	must(t, err)
	if len(got.Chunks) != 2 || !got.Chunks[0].Inline() || string(got.Chunks[0].Data) != string(data) || got.Chunks[1].Inline() {
		t.Fatalf("chunks read back: %+v", got.Chunks)
	}
	r.want(map[string]int64{"inline": 0, "striped": 1}, nil)
	must(t, s.DeleteObjects(bg, "b", []string{"small"}))
	r.want(map[string]int64{"inline": 0, "striped": 0}, map[string]time.Time{"striped": clock.now()})

	for name, c := range map[string]Chunk{
		"no stripe, no data":  {CID: cid("x"), Size: 5},
		"data and a stripe":   {CID: cid("x"), Size: 4, Data: []byte("abcd"), Stripe: Stripe{K: 4, M: 2}},
		"size differs":        {CID: cid("x"), Size: 5, Data: []byte("abcd")},
		"more than MaxInline": {CID: cid("x"), Size: MaxInline + 1, Data: make([]byte, MaxInline+1)},
	} {
		bad := object("b", "bad")
		bad.Chunks = []Chunk{c}
		if err := s.PutObject(bg, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}
