package raftlog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/types"
	bolt "go.etcd.io/bbolt"
)

// writeWAL makes a raft-wal directory the way an older storaged left it:
// small segments (so that several are sealed), a compacted head, a
// truncated and rewritten tail, and raft's stable values. It returns the
// log's first and last index.
func writeWAL(t *testing.T, dir string) (first, last uint64) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o700))
	mdb := &metadb.BoltMetaDB{}
	w, err := wal.Open(dir, wal.WithMetaStore(mdb), wal.WithSegmentSize(8192))
	must(t, err)
	for i := uint64(1); i <= 400; i += 20 {
		var batch []*raft.Log
		for j := i; j < i+20; j++ {
			batch = append(batch, entry(j))
		}
		must(t, w.StoreLogs(batch))
	}
	must(t, w.DeleteRange(1, 50))    // compaction
	must(t, w.DeleteRange(391, 400)) // a truncated tail...
	var batch []*raft.Log
	for j := uint64(391); j <= 395; j++ {
		batch = append(batch, entry(j)) // ...rewritten
	}
	must(t, w.StoreLogs(batch))
	must(t, w.SetUint64([]byte("CurrentTerm"), 77))
	must(t, w.SetUint64([]byte("LastVoteTerm"), 76))
	must(t, w.Set([]byte("LastVoteCand"), []byte("meta-2")))
	must(t, w.Close())
	must(t, mdb.Close())
	return 51, 395
}

func checkMigrated(t *testing.T, s *Store, walDir string, first, last uint64) {
	t.Helper()
	f, l, err := s.bounds()
	must(t, err)
	if f != first || l != last {
		t.Fatalf("migrated log runs %d-%d, want %d-%d", f, l, first, last)
	}
	for i := first; i <= last; i++ {
		checkEntry(t, s, i)
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 77 {
		t.Errorf("CurrentTerm = %d, %v", v, err)
	}
	if v, err := s.GetUint64([]byte("LastVoteTerm")); err != nil || v != 76 {
		t.Errorf("LastVoteTerm = %d, %v", v, err)
	}
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "meta-2" {
		t.Errorf("LastVoteCand = %q, %v", v, err)
	}
	if _, err := os.Stat(walDir); !os.IsNotExist(err) {
		t.Errorf("raft-wal directory still there after the migration: %v", err)
	}
	if ok, err := s.Migrated(); err != nil || !ok {
		t.Errorf("Migrated() = %v, %v", ok, err)
	}
}

func TestMigrateWAL(t *testing.T) {
	dir := t.TempDir()
	walDir := filepath.Join(dir, "wal")
	first, last := writeWAL(t, walDir)
	s := open(t, filepath.Join(dir, "raft.db"))
	must(t, MigrateWAL(walDir, s, nil))
	checkMigrated(t, s, walDir, first, last)
	// Nothing to do the second time.
	must(t, MigrateWAL(walDir, s, nil))
}

// TestMigrateWALBricked migrates a raft-wal directory that raft-wal itself
// cannot serve: a sealed segment whose recorded index block offset is 0,
// the state hashicorp/raft-wal#31 leaves behind and that made a metadata
// node panic on every start.
func TestMigrateWALBricked(t *testing.T) {
	dir := t.TempDir()
	walDir := filepath.Join(dir, "wal")
	first, last := writeWAL(t, walDir)

	// Break it as the bug does: forget the index block of a sealed segment.
	db, err := bolt.Open(filepath.Join(walDir, "wal-meta.db"), 0o600, nil)
	must(t, err)
	var broken types.SegmentInfo
	must(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(metadb.MetaBucket))
		var st types.PersistentState
		if err := json.Unmarshal(b.Get([]byte(metadb.MetaKey)), &st); err != nil {
			return err
		}
		for i := range st.Segments {
			if !st.Segments[i].SealTime.IsZero() && st.Segments[i].MinIndex > first {
				st.Segments[i].IndexStart = 0
				broken = st.Segments[i]
				break
			}
		}
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return b.Put([]byte(metadb.MetaKey), v)
	}))
	must(t, db.Close())
	if broken.BaseIndex == 0 {
		t.Fatal("no sealed segment to break: the test proves nothing")
	}

	// The premise: raft-wal cannot read an entry of that segment.
	mdb := &metadb.BoltMetaDB{}
	w, err := wal.Open(walDir, wal.WithMetaStore(mdb))
	must(t, err)
	var l raft.Log
	if err := w.GetLog(broken.MinIndex, &l); err == nil {
		t.Fatalf("raft-wal read entry %d of the broken segment", broken.MinIndex)
	} else {
		t.Logf("raft-wal on entry %d: %v", broken.MinIndex, err)
	}
	must(t, w.Close())
	must(t, mdb.Close())

	s := open(t, filepath.Join(dir, "raft.db"))
	must(t, MigrateWAL(walDir, s, nil))
	checkMigrated(t, s, walDir, first, last)
}

// TestMigrateWALRefusesTwoLogs: a store that already holds a log that did
// not come from walDir is not overwritten.
func TestMigrateWALRefusesTwoLogs(t *testing.T) {
	dir := t.TempDir()
	walDir := filepath.Join(dir, "wal")
	writeWAL(t, walDir)
	s := open(t, filepath.Join(dir, "raft.db"))
	must(t, s.StoreLog(entry(1)))
	if err := MigrateWAL(walDir, s, nil); err == nil {
		t.Fatal("migrated over an existing log")
	}
	if _, err := os.Stat(filepath.Join(walDir, "wal-meta.db")); err != nil {
		t.Fatalf("raft-wal directory touched: %v", err)
	}
}
