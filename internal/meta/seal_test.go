package meta

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// sealedChunk is chunk(s) as a gateway that seals writes it: a keyed name,
// shards named after it, and a sum per shard.
func sealedChunk(s string, size int64) Chunk {
	c := chunk(s, size)
	st := &c.Stripe
	st.Seal = 1
	st.Name = cid("name of " + s)
	st.ShardSize = int(size+16+3) / 4
	st.Nodes = []string{"n1", "n2", "n3", "n4", "n5", "n6"}
	for i := range st.Shards {
		st.Shards[i] = cid(fmt.Sprintf("%s/sealed shard %d", s, i))
		st.Sums = append(st.Sums, bytes.Repeat([]byte{byte(i + 1)}, 16))
	}
	return c
}

// TestManifestVersions: a manifest is written in the oldest version that
// holds it (2 without keyed names or sums, 3 with), every version back to
// 1 decodes, and the new fields round-trip.
func TestManifestVersions(t *testing.T) {
	plain, sealed := chunk("plain", 1<<20), sealedChunk("sealed", 1<<20)
	plain.Stripe.Nodes = []string{"a", "b", "c", "d", "e", ""}
	inline := Chunk{CID: cid("inline"), Size: 3, Data: []byte("abc")}
	for _, c := range []struct {
		name    string
		chunks  []Chunk
		version byte
	}{
		{"unsealed", []Chunk{plain, inline}, 2},
		{"sealed", []Chunk{sealed}, 3},
		{"mixed", []Chunk{plain, sealed, inline}, 3},
	} {
		v, err := encodeObject(&Object{Bucket: "b", Key: c.name, Chunks: c.chunks})
		must(t, err)
		if v[0] != c.version {
			t.Errorf("%s: manifest version %d, want %d", c.name, v[0], c.version)
		}
		got, err := decodeManifestChunks(v)
		must(t, err)
		if !reflect.DeepEqual(got, c.chunks) {
			t.Errorf("%s: chunks\n%+v\nwant\n%+v", c.name, got, c.chunks)
		}
	}
	// Version 1: no nodes, names or sums.
	bare := chunk("bare", 1<<20)
	got, err := decodeManifestChunks(v1Manifest(t, &Object{V: 1, Bucket: "b", Key: "k"}, []Chunk{bare}))
	must(t, err)
	if !reflect.DeepEqual(got, []Chunk{bare}) {
		t.Errorf("version 1: %+v", got)
	}
	// An unknown version is refused, not guessed at.
	v, err := encodeObject(&Object{Bucket: "b", Key: "k", Chunks: []Chunk{sealed}})
	must(t, err)
	v[0] = manifestVersion + 1
	if _, err := decodeManifestChunks(v); err == nil {
		t.Error("a manifest of an unknown version decoded")
	}
}

// TestChunkRecordVersions: a record is written in version 1 unless its
// stripe has a keyed name or sums, and both versions read back.
func TestChunkRecordVersions(t *testing.T) {
	for _, c := range []struct {
		stripe  Stripe
		version byte
	}{{chunk("p", 100).Stripe, 1}, {sealedChunk("s", 100).Stripe, 2}} {
		v := encodeChunkRecord(3, ChunkGarbage, timeKey(time.Unix(5, 0)), 100, &c.stripe)
		if v[0] != c.version {
			t.Errorf("record version %d, want %d", v[0], c.version)
		}
		r, err := decodeChunkRecord(v)
		must(t, err)
		if r.refs != 3 || r.state != ChunkGarbage || r.size != 100 || !reflect.DeepEqual(r.stripe, c.stripe) {
			t.Errorf("record %+v, want stripe %+v", r, c.stripe)
		}
	}
}

func TestSealedStripeArguments(t *testing.T) {
	n := newDev(t, nil)
	must(t, n.s.CreateBucket(bg, "b", time.Now()))
	for _, bad := range []func(*Stripe){
		func(s *Stripe) { s.Sums = s.Sums[:5] },
		func(s *Stripe) { s.Sums[2] = nil },
		func(s *Stripe) { s.Sums[2] = make([]byte, 65) },
		func(s *Stripe) { s.Name = nil },
		func(s *Stripe) { s.Name = []byte{} },
		func(s *Stripe) { s.Name = make([]byte, maxCIDLen+1) },
	} {
		c := sealedChunk("x", 100)
		bad(&c.Stripe)
		obj := &Object{Bucket: "b", Key: "k", Size: 100, Chunks: []Chunk{c}}
		wantErr(t, n.s.PutObject(bg, obj), ErrInvalidArgument)
	}
}

// TestChunkByName: the names index follows the records: created with the
// first reference, kept by later ones, moved by ReplaceStripe, dropped by
// ForgetGarbage; and it is rebuilt for a file that lacks it.
func TestChunkByName(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	must(t, s.CreateBucket(bg, "b", clock.now()))
	c := sealedChunk("c1", 1<<20)
	must(t, s.PutObject(bg, &Object{Bucket: "b", Key: "a", Size: 1 << 20, Chunks: []Chunk{c}}))
	ci, err := s.ChunkByName(bg, c.Stripe.Name)
	must(t, err)
	if ci == nil || !bytes.Equal(ci.CID, cid("c1")) || !reflect.DeepEqual(ci.Stripe, c.Stripe) || ci.Refs != 1 {
		t.Fatalf("ChunkByName = %+v", ci)
	}
	if ci, err := s.ChunkByName(bg, cid("no such name")); err != nil || ci != nil {
		t.Fatalf("ChunkByName of an unknown name = %+v, %v", ci, err)
	}
	// An unsealed stripe has no name to index.
	must(t, s.PutObject(bg, object("b", "p", "plain")))
	if ci, _ := s.Chunk(bg, cid("plain")); ci == nil || ci.Stripe.Name != nil {
		t.Fatalf("unsealed record %+v", ci)
	}

	// The index survives a restart, and is built for a file without it.
	n.restart()
	s = n.s
	waitLeader(t, s)
	if ci, _ := s.ChunkByName(bg, c.Stripe.Name); ci == nil {
		t.Fatal("the name is gone after a restart")
	}
	n.close()
	db, err := bolt.Open(s.fsm.path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bNames) }))
	must(t, db.Close())
	n.open()
	s = n.s
	waitLeader(t, s)
	if ci, _ := s.ChunkByName(bg, c.Stripe.Name); ci == nil || !bytes.Equal(ci.CID, cid("c1")) {
		t.Fatalf("the names index was not rebuilt: %+v", ci)
	}

	// Garbage, collected, forgotten: the name goes with the record.
	must(t, s.DeleteObjects(bg, "b", []string{"a"}))
	clock.add(time.Hour)
	must(t, s.Collect(bg, [][]byte{cid("c1")}, clock.now()))
	must(t, s.ForgetGarbage(bg, [][]byte{cid("c1")}))
	if ci, err := s.ChunkByName(bg, c.Stripe.Name); err != nil || ci != nil {
		t.Fatalf("ChunkByName after the record was forgotten = %+v, %v", ci, err)
	}
	checkNamesConsistent(t, s)
}

// TestReplaceStripe: the swap of a live chunk's stripe is a
// compare-and-set on its shards; readers then get the new stripe, and the
// names index follows.
func TestReplaceStripe(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	must(t, s.PutObject(bg, object("b", "a", "c1")))
	must(t, s.PutObject(bg, object("b", "gone", "c2")))
	must(t, s.DeleteObjects(bg, "b", []string{"gone"}))
	old := chunk("c1", 1<<20).Stripe
	next := sealedChunk("c1", 1<<20).Stripe

	before := s.fsm.dump(t)
	wantErr(t, s.ReplaceStripe(bg, cid("c1"), old.Shards[:5], next), ErrStripeChanged)
	wantErr(t, s.ReplaceStripe(bg, cid("c1"), next.Shards, next), ErrStripeChanged)
	wantErr(t, s.ReplaceStripe(bg, cid("nope"), old.Shards, next), ErrStripeChanged)
	wantErr(t, s.ReplaceStripe(bg, cid("c2"), chunk("c2", 1<<20).Stripe.Shards, next), ErrStripeChanged) // garbage
	short := next
	short.Shards = short.Shards[:5]
	wantErr(t, s.ReplaceStripe(bg, cid("c1"), old.Shards, short), ErrInvalidArgument)
	if d := diffDump(before, s.fsm.dump(t)); d != "" {
		t.Fatalf("a refused replace changed the state: %s", d)
	}

	must(t, s.ReplaceStripe(bg, cid("c1"), old.Shards, next))
	got, err := s.GetObject(bg, "b", "a")
	must(t, err)
	if !reflect.DeepEqual(got.Chunks[0].Stripe, next) {
		t.Fatalf("object reads stripe %+v, want %+v", got.Chunks[0].Stripe, next)
	}
	if ci, _ := s.ChunkByName(bg, next.Name); ci == nil || ci.Refs != 1 {
		t.Fatalf("ChunkByName after the replace = %+v", ci)
	}
	// Once more, to another keyed name: the old one leaves the index.
	again := next
	again.Name = cid("another name")
	again.Shards = slices.Clone(next.Shards)
	again.Shards[0] = cid("another shard")
	wantErr(t, s.ReplaceStripe(bg, cid("c1"), old.Shards, again), ErrStripeChanged) // old is stale now
	must(t, s.ReplaceStripe(bg, cid("c1"), next.Shards, again))
	if ci, _ := s.ChunkByName(bg, next.Name); ci != nil {
		t.Fatalf("the replaced name still finds %+v", ci)
	}
	// A new write of the chunk keeps the recorded stripe.
	must(t, s.PutObject(bg, object("b", "again", "c1")))
	if ci, _ := s.Chunk(bg, cid("c1")); ci == nil || ci.Refs != 2 || !bytes.Equal(ci.Stripe.Name, again.Name) {
		t.Fatalf("record after a new write %+v", ci)
	}
	checkNamesConsistent(t, s)
	checkRefsConsistent(t, s)
}

func TestSealMigrationFlag(t *testing.T) {
	n := newDev(t, nil)
	if on, err := n.s.SealMigration(bg); err != nil || on {
		t.Fatalf("a new store asks for the migration: %v %v", on, err)
	}
	must(t, n.s.SetSealMigration(bg, true))
	must(t, n.s.SetSealMigration(bg, true))
	n.restart()
	waitLeader(t, n.s)
	if on, err := n.s.SealMigration(bg); err != nil || !on {
		t.Fatalf("the flag did not survive a restart: %v %v", on, err)
	}
	must(t, n.s.SetSealMigration(bg, false))
	if on, _ := n.s.SealMigration(bg); on {
		t.Fatal("the flag did not clear")
	}
}

// checkNamesConsistent checks the names index against the chunk table:
// every keyed name of a record, and nothing else.
func checkNamesConsistent(t *testing.T, s *Store) {
	t.Helper()
	want := map[string]string{}
	var after []byte
	for {
		page, next, err := s.Chunks(bg, after, 100)
		must(t, err)
		for _, ci := range page {
			if ci.Stripe.Name != nil {
				want[string(ci.Stripe.Name)] = string(ci.CID)
			}
		}
		if next == nil {
			break
		}
		after = next
	}
	got := s.fsm.dump(t)[string(bNames)]
	if len(got) == 0 {
		got = map[string]string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("names index %q, want %q", got, want)
	}
}
