package raftlog

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	bolt "go.etcd.io/bbolt"
)

// MigrateWAL moves the raft log and stable store that raft-wal kept in
// walDir into s, then removes walDir. It does nothing when walDir does
// not exist. s must be empty unless it already holds a migration of
// walDir (a crash after the copy and before the removal), which
// MigrateWAL then only finishes.
//
// The copy is one transaction: a kill during it leaves s empty and walDir
// untouched, and the next start migrates again. Entries that raft-wal
// cannot serve — a sealed segment without its index block, what
// hashicorp/raft-wal#31 leaves after two kills — are read by scanning the
// segment files' committed frames instead. If an entry between the log's
// first and last index cannot be read either way, MigrateWAL fails and
// changes nothing.
func MigrateWAL(walDir string, s *Store, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	metaPath := filepath.Join(walDir, "wal-meta.db")
	ok, err := exists(metaPath)
	if err != nil || !ok {
		return err
	}
	done, err := s.Migrated()
	if err != nil {
		return err
	}
	if !done {
		first, last, err := s.bounds()
		if err != nil {
			return err
		}
		if first != 0 || last != 0 {
			return fmt.Errorf("raftlog: %s holds a raft log and so does %s: remove one of them", s.path, walDir)
		}
		start := time.Now()
		n, err := copyWAL(walDir, s, log)
		if err != nil {
			return fmt.Errorf("raftlog: migrate %s: %w", walDir, err)
		}
		log.Info("raft log migrated from raft-wal", "from", walDir, "to", s.path, "entries", n, "took", time.Since(start))
	}
	if err := os.RemoveAll(walDir); err != nil {
		return fmt.Errorf("raftlog: remove migrated %s: %w", walDir, err)
	}
	return nil
}

func (s *Store) bounds() (first, last uint64, err error) {
	if first, err = s.FirstIndex(); err != nil {
		return 0, 0, err
	}
	last, err = s.LastIndex()
	return first, last, err
}

// copyWAL copies walDir's entries and stable values into s in one
// transaction and returns the number of entries.
func copyWAL(walDir string, s *Store, log *slog.Logger) (n uint64, err error) {
	w, mdb, err := openWAL(walDir)
	if err != nil {
		return 0, err
	}
	closeWAL := sync.OnceFunc(func() {
		_ = w.Close()
		_ = mdb.Close() // raft-wal v0.4.0's Close leaves it open
	})
	first, last, err := walBounds(w)
	if err != nil {
		closeWAL()
		return 0, err
	}
	var missing []uint64 // indexes raft-wal could not serve
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs)
		b.FillPercent = 0.95
		var l raft.Log
		for i := first; i != 0 && i <= last; i++ {
			if gerr := getLog(w, i, &l); gerr != nil {
				if len(missing) == 0 {
					log.Warn("raft-wal cannot serve an entry; scanning its segment files instead", "index", i, "err", gerr)
				}
				missing = append(missing, i)
				continue
			}
			l.Index = i
			if err := b.Put(be64(i), appendLog(nil, &l)); err != nil {
				return err
			}
			n++
		}
		closeWAL()
		if len(missing) > 0 {
			got, err := scanSegments(walDir, missing, b)
			if err != nil {
				return err
			}
			n += got
		}
		if err := copyStable(filepath.Join(walDir, "wal-meta.db"), tx.Bucket(bucketStable)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyMigrated, []byte(walDir))
	})
	closeWAL() // when Update failed before it did
	return n, err
}

// openWAL opens raft-wal, turning a panic of its recovery into an error.
func openWAL(dir string) (w *wal.WAL, mdb *metadb.BoltMetaDB, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("raft-wal panicked opening %s: %v", dir, r)
		}
	}()
	mdb = &metadb.BoltMetaDB{}
	w, err = wal.Open(dir, wal.WithMetaStore(mdb))
	if err != nil {
		_ = mdb.Close()
		return nil, nil, fmt.Errorf("open raft-wal: %w", err)
	}
	return w, mdb, nil
}

func walBounds(w *wal.WAL) (first, last uint64, err error) {
	if first, err = w.FirstIndex(); err != nil {
		return 0, 0, err
	}
	last, err = w.LastIndex()
	return first, last, err
}

// getLog is w.GetLog with a panic turned into an error.
func getLog(w *wal.WAL, i uint64, l *raft.Log) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("raft-wal panicked: %v", r)
		}
	}()
	return w.GetLog(i, l)
}

// scanSegments reads the entries at the indexes in missing from the
// committed frames of the segment files that raft-wal's metadata lists,
// each within the range of indexes the metadata gives it (a segment whose
// tail was truncated still holds the truncated frames), into b, and
// returns how many it put.
func scanSegments(dir string, missing []uint64, b *bolt.Bucket) (uint64, error) {
	mdb := &metadb.BoltMetaDB{}
	st, err := mdb.Load(dir)
	_ = mdb.Close()
	if err != nil {
		return 0, fmt.Errorf("read raft-wal metadata: %w", err)
	}
	want := make(map[uint64]bool, len(missing))
	for _, i := range missing {
		want[i] = true
	}
	var codec wal.BinaryCodec
	filer := segment.NewFiler(dir, fs.New())
	found := 0
	for _, seg := range st.Segments {
		if seg.Codec != codec.ID() {
			return 0, fmt.Errorf("segment %d uses codec %d", seg.ID, seg.Codec)
		}
		inRange := func(i uint64) bool {
			return i >= seg.MinIndex && (seg.MaxIndex == 0 || i <= seg.MaxIndex)
		}
		// No upper bound: DumpSegment drops the frames it has read past
		// the last commit when it stops early.
		err := filer.DumpSegment(seg.BaseIndex, seg.ID, 0, 0, func(_ types.SegmentInfo, e types.LogEntry) (bool, error) {
			if !want[e.Index] || !inRange(e.Index) {
				return true, nil
			}
			var l raft.Log
			if err := codec.Decode(e.Data, &l); err != nil {
				return false, fmt.Errorf("decode entry %d: %w", e.Index, err)
			}
			l.Index = e.Index
			if err := b.Put(be64(e.Index), appendLog(nil, &l)); err != nil {
				return false, err
			}
			delete(want, e.Index)
			found++
			return true, nil
		})
		if err != nil {
			return 0, fmt.Errorf("scan segment %d: %w", seg.ID, err)
		}
	}
	for _, i := range missing {
		if want[i] {
			return 0, fmt.Errorf("entry %d is in no segment file: %w", i, errUnreadable)
		}
	}
	return uint64(found), nil
}

var errUnreadable = errors.New("raft log entry cannot be read")

// copyStable copies raft-wal's stable values (current term, last vote)
// from its meta database into b. raft-wal stored numbers as 8 bytes little
// endian, as Store does.
func copyStable(path string, b *bolt.Bucket) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		src := tx.Bucket([]byte(metadb.StableBucket))
		if src == nil {
			return nil
		}
		return src.ForEach(func(k, v []byte) error {
			return b.Put(append([]byte(nil), k...), append([]byte(nil), v...))
		})
	})
}
