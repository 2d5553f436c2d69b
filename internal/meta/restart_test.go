package meta

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// populate writes a bit of everything, with chunks shared between objects
// and parts, and some deletions; round distinguishes the names.
func populate(t testing.TB, s *Store, round int) {
	t.Helper()
	b := fmt.Sprintf("bucket%d", round)
	must(t, s.CreateBucket(bg, b, time.Now()))
	must(t, s.PutObject(bg, object(b, "a", "x1", "x2", "shared")))
	must(t, s.PutObject(bg, object(b, "b", "shared", "x3")))
	must(t, s.PutObject(bg, object(b, "a", "x2", "x4"))) // overwrite: x1 garbage
	must(t, s.PutObject(bg, object(b, "dir/c", "shared")))
	must(t, s.DeleteObjects(bg, b, []string{"b"}))
	id := fmt.Sprint("up", round)
	must(t, s.CreateUpload(bg, &Upload{Bucket: b, Key: "m", ID: id}))
	must(t, s.PutPart(bg, b, "m", id, &Part{Number: 1, ETag: "e1", Chunks: chunks("m1", "shared")}))
	must(t, s.PutPart(bg, b, "m", id, &Part{Number: 2, ETag: "e2", Chunks: chunks("m2")}))
	must(t, s.PutKey(bg, &Key{ID: fmt.Sprint("AK", round), Secret: "s"}))
	must(t, s.SetLayout(bg, &Layout{Version: uint64(round), Nodes: []LayoutNode{{ID: "n", Zone: "z", Weight: 1}}}))
	if round%2 == 0 {
		must(t, s.CompleteUpload(bg, id, []PartRef{{1, "e1"}}, object(b, "m", "m1", "shared")))
	}
}

func TestRestartReplaysIdempotently(t *testing.T) {
	n := newDev(t, func(c *Config) { c.SnapshotThreshold = 1 << 40 })
	populate(t, n.s, 1)
	populate(t, n.s, 2)
	want := n.s.fsm.dump(t)
	applied, err := n.s.fsm.applied()
	must(t, err)

	// No snapshot was taken: on restart raft replays its whole log into
	// the state machine, which must skip every entry it has.
	n.restart()
	waitLeader(t, n.s)
	// Every entry raft gave the state machine since the restart was one
	// it had applied already, and was skipped.
	if sk, given := n.s.fsm.skipped.Load(), n.s.fsm.entries.Load(); sk == 0 || sk != given {
		t.Errorf("replay: %d entries given, %d skipped", given, sk)
	} else {
		t.Logf("%d entries replayed and skipped (applied index %d)", sk, applied)
	}
	if d := diffDump(want, n.s.fsm.dump(t)); d != "" {
		t.Fatalf("state changed across restart: %s", d)
	}
	checkRefsConsistent(t, n.s)
	if got := refsOf(t, n.s, "shared"); got != 4 {
		t.Errorf("refs of shared = %d, want 4", got)
	}

	// And it goes on.
	populate(t, n.s, 3)
	checkRefsConsistent(t, n.s)
	if _, err := n.s.GetObject(bg, "bucket1", "dir/c"); err != nil {
		t.Error(err)
	}
}

func TestRestartStateMachineBehindLog(t *testing.T) {
	n := newDev(t, func(c *Config) { c.SnapshotThreshold = 1 << 40 })
	populate(t, n.s, 1)
	n.close()
	saved, err := os.ReadFile(filepath.Join(n.cfg.Dir, "fsm.db"))
	must(t, err)
	n.open()
	waitLeader(t, n.s)
	populate(t, n.s, 2)
	want := n.s.fsm.dump(t)
	n.close()

	// Put the old state machine back: the entries it lacks are in the log
	// and must be applied once each.
	must(t, os.WriteFile(filepath.Join(n.cfg.Dir, "fsm.db"), saved, 0o600))
	n.open()
	waitLeader(t, n.s)
	if d := diffDump(want, n.s.fsm.dump(t)); d != "" {
		t.Fatalf("state after replay differs: %s", d)
	}
	checkRefsConsistent(t, n.s)
}

func TestRestartAfterSnapshot(t *testing.T) {
	n := newDev(t, func(c *Config) { c.TrailingLogs = 2 })
	populate(t, n.s, 1)
	must(t, n.s.Raft().Snapshot().Error())
	populate(t, n.s, 2)
	want := n.s.fsm.dump(t)
	n.restart()
	waitLeader(t, n.s)
	if d := diffDump(want, n.s.fsm.dump(t)); d != "" {
		t.Fatalf("state changed across restart: %s", d)
	}
	checkRefsConsistent(t, n.s)

	// Lose the state machine: Open restores the newest snapshot, raft
	// replays what follows it (the log before it was compacted).
	n.close()
	must(t, os.Remove(filepath.Join(n.cfg.Dir, "fsm.db")))
	n.open()
	waitLeader(t, n.s)
	if d := diffDump(want, n.s.fsm.dump(t)); d != "" {
		t.Fatalf("state rebuilt from snapshot and log differs: %s", d)
	}
	checkRefsConsistent(t, n.s)
}

func TestSnapshotRestore(t *testing.T) {
	a := newDev(t, nil)
	populate(t, a.s, 1)
	populate(t, a.s, 2)
	snap := a.s.Raft().Snapshot()
	must(t, snap.Error())
	populate(t, a.s, 3) // after the snapshot: not in it
	a.s.Raft().Barrier(0)

	// Restore straight into a fresh state machine.
	meta, rc, err := snap.Open()
	must(t, err)
	fresh, err := openFSM(filepath.Join(t.TempDir(), "fsm.db"), a.s.log)
	must(t, err)
	defer func() { must(t, fresh.close()) }()
	must(t, fresh.Restore(rc))
	b1 := fresh.dump(t)
	if len(b1[string(bBuckets)]) != 2 {
		t.Errorf("restored state has buckets %v, want bucket1 and bucket2", keys(b1[string(bBuckets)]))
	}
	applied, err := fresh.applied()
	must(t, err)
	if applied == 0 || applied > meta.Index {
		t.Errorf("restored applied index %d, snapshot index %d", applied, meta.Index)
	}

	// Restore through raft into a fresh store that has state of its own,
	// which must go.
	b := newDev(t, nil)
	populate(t, b.s, 9)
	meta, rc, err = a.s.snaps.Open(meta.ID) // a user snapshot opens once
	must(t, err)
	must(t, b.s.Raft().Restore(meta, rc, 10*time.Second))
	_ = rc.Close()
	if d := diffDump(b1, b.s.fsm.dump(t)); d != "" {
		t.Fatalf("store restored through raft differs from the snapshot: %s", d)
	}
	_, err = b.s.GetBucket(bg, "bucket9")
	wantErr(t, err, ErrNoSuchBucket)
	// The restored store goes on, and survives a restart.
	must(t, b.s.PutObject(bg, object("bucket1", "new", "shared", "n1")))
	checkRefsConsistent(t, b.s)
	want := b.s.fsm.dump(t)
	b.restart()
	waitLeader(t, b.s)
	if d := diffDump(want, b.s.fsm.dump(t)); d != "" {
		t.Fatalf("restored store changed across restart: %s", d)
	}
	if got := refsOf(t, b.s, "shared"); got != 5 {
		t.Errorf("refs of shared = %d, want 5", got)
	}

	// A stream that is not a snapshot is refused and changes nothing.
	err = fresh.Restore(io.NopCloser(strings.NewReader("not a snapshot at all")))
	if err == nil || !errors.Is(err, errCorrupt) {
		t.Errorf("Restore(garbage) = %v", err)
	}
	if d := diffDump(b1, fresh.dump(t)); d != "" {
		t.Errorf("refused restore changed the state: %s", d)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestApplyBatch drives the state machine directly: rejected commands
// change nothing, an internal error in one entry of a batch costs only
// that entry, and entries at or below the applied index are skipped.
func TestApplyBatch(t *testing.T) {
	f, err := openFSM(filepath.Join(t.TempDir(), "fsm.db"), testLoggerOrDiscard())
	must(t, err)
	defer func() { must(t, f.close()) }()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	create := func(name string) []byte {
		e := newCmd(opCreateBucket, now, 0)
		e.str(name)
		return e.b
	}
	put := func(bucket, key string, cs ...string) []byte {
		b, err := putObjectCmd(object(bucket, key, cs...), now)
		must(t, err)
		return b
	}
	logs := func(first uint64, cmds ...[]byte) []*raft.Log {
		var out []*raft.Log
		for i, c := range cmds {
			out = append(out, &raft.Log{Index: first + uint64(i), Type: raft.LogCommand, Data: c})
		}
		return out
	}

	resp := f.ApplyBatch(logs(1, create("b"), create("b"), put("nope", "k"), put("b", "x", "c1")))
	if resp[0] != nil || !errors.Is(resp[1].(error), ErrBucketExists) || !errors.Is(resp[2].(error), ErrNoSuchBucket) || resp[3] != "" {
		t.Fatalf("responses %v", resp)
	}

	// Damage the stored object b/x: replacing it fails inside the state
	// machine. The batch is redone entry by entry; the others apply.
	must(t, f.db.Update(func(tx *boltTx) error {
		return tx.Bucket(bObjects).Put(objectKey("b", "x"), []byte{FormatVersion, 0xFF})
	}))
	resp = f.ApplyBatch(logs(5, put("b", "y", "c2"), put("b", "x", "c3"), put("b", "z", "c3")))
	if resp[0] != "" || resp[1] == nil || resp[2] != "" {
		t.Fatalf("responses %v", resp)
	}
	if errors.Is(resp[1].(error), ErrNoSuchKey) || !strings.Contains(resp[1].(error).Error(), "entry 6") {
		t.Errorf("internal error response %v", resp[1])
	}
	if idx, _ := f.applied(); idx != 7 {
		t.Errorf("applied index %d, want 7", idx)
	}
	d := f.dump(t)
	if len(d[string(bObjects)]) != 3 {
		t.Errorf("objects %q", keys(d[string(bObjects)]))
	}
	r, _ := decodeChunkRecord([]byte(d[string(bChunks)][string(cid("c3"))]))
	if n := r.refs; n != 1 {
		t.Errorf("refs of c3 = %d, want 1 (the failed entry took no effect)", n)
	}

	// Replaying applied entries changes nothing; later ones apply.
	before := f.dump(t)
	resp = f.ApplyBatch(logs(7, put("b", "z", "c9"), put("b", "w", "c4")))
	if resp[0] != nil || resp[1] != "" {
		t.Fatalf("responses %v", resp)
	}
	after := f.dump(t)
	if after[string(bObjects)][string(objectKey("b", "z"))] != before[string(bObjects)][string(objectKey("b", "z"))] {
		t.Error("a replayed entry was applied again")
	}
	if _, ok := after[string(bObjects)][string(objectKey("b", "w"))]; !ok {
		t.Error("the entry after the replayed one was not applied")
	}

	// Configuration entries only advance the applied index.
	f.ApplyBatch([]*raft.Log{{Index: 9, Type: raft.LogConfiguration}})
	if idx, _ := f.applied(); idx != 9 {
		t.Errorf("applied index %d, want 9", idx)
	}
	if d := diffDump(after, f.dump(t)); d != "" {
		t.Errorf("a configuration entry changed the state: %s", d)
	}

	// A command from a newer binary stops the state machine.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a newer command version did not panic")
			}
		}()
		f.ApplyBatch([]*raft.Log{{Index: 10, Type: raft.LogCommand, Data: []byte{cmdVersion + 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}}})
	}()
	if idx, _ := f.applied(); idx != 9 {
		t.Errorf("applied index %d after the panic, want 9", idx)
	}
}
