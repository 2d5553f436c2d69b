package meta

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"cairn/internal/raftlog"
)

// TestOpenMigratesRaftWAL opens a node directory as nodes before raftlog
// left it — raft's log and stable values in raft-wal (Dir/wal), no
// Dir/raft.db — and checks that the node keeps its state and goes on.
func TestOpenMigratesRaftWAL(t *testing.T) {
	n := newDev(t, func(c *Config) { c.SnapshotThreshold = 1 << 40 })
	populate(t, n.s, 1)
	want := n.s.fsm.dump(t)
	n.close()

	// Turn Dir/raft.db back into the raft-wal directory an older node had.
	dbPath := filepath.Join(n.cfg.Dir, "raft.db")
	old, err := raftlog.Open(dbPath)
	must(t, err)
	walDir := filepath.Join(n.cfg.Dir, "wal")
	must(t, os.MkdirAll(walDir, 0o700))
	mdb := &metadb.BoltMetaDB{}
	w, err := wal.Open(walDir, wal.WithMetaStore(mdb))
	must(t, err)
	first, err := old.FirstIndex()
	must(t, err)
	last, err := old.LastIndex()
	must(t, err)
	if last < 10 {
		t.Fatalf("only %d entries: the test proves little", last)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		must(t, old.GetLog(i, &l))
		must(t, w.StoreLog(&l))
	}
	for _, k := range []string{"CurrentTerm", "LastVoteTerm"} {
		v, err := old.GetUint64([]byte(k))
		must(t, err)
		must(t, w.SetUint64([]byte(k), v))
	}
	if v, err := old.Get([]byte("LastVoteCand")); err == nil {
		must(t, w.Set([]byte("LastVoteCand"), v))
	}
	must(t, w.Close())
	must(t, mdb.Close())
	must(t, old.Close())
	must(t, os.Remove(dbPath))

	n.open()
	waitLeader(t, n.s)
	if _, err := os.Stat(walDir); !os.IsNotExist(err) {
		t.Errorf("Dir/wal still there after the migration: %v", err)
	}
	if got, err := n.s.logs.LastIndex(); err != nil || got < last {
		t.Errorf("migrated log ends at %d (%v), want at least %d", got, err, last)
	}
	if d := diffDump(want, n.s.fsm.dump(t)); d != "" {
		t.Fatalf("state changed across the migration: %s", d)
	}
	populate(t, n.s, 2)
	checkRefsConsistent(t, n.s)
	n.restart()
	waitLeader(t, n.s)
	if _, err := n.s.GetObject(bg, "bucket2", "dir/c"); err != nil {
		t.Errorf("after the migration and a restart: %v", err)
	}
}
