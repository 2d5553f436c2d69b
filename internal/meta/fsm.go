package meta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"

	"cairn/internal/durable"
)

// Names of the bbolt buckets of the state machine.
var (
	bRaft       = []byte("raft")       // "applied": last applied raft index; "format": FormatVersion
	bBuckets    = []byte("buckets")    // bucket name -> JSON Bucket
	bObjects    = []byte("objects")    // objectKey -> object manifest
	bUploads    = []byte("uploads")    // uploadKey -> JSON Upload
	bParts      = []byte("parts")      // partKey -> part manifest
	bKeys       = []byte("keys")       // access key ID -> JSON Key
	bLayouts    = []byte("layouts")    // version, 8 bytes BE -> JSON Layout; the last is current
	bChunks     = []byte("chunks")     // chunk CID -> chunk record (encodeChunkRecord)
	bGarbage    = []byte("garbage")    // timeKey(since) + CID -> nothing: the index of garbage chunks
	bForgot     = []byte("forgot")     // CID -> timeKey(when its record was forgotten)
	bForgotT    = []byte("forgot-t")   // timeKey + CID -> nothing: the same, by time, for pruning
	bNames      = []byte("names")      // keyed name (Stripe.Name) -> chunk CID: the sealed stripes' index
	bSettings   = []byte("settings")   // cluster-wide switches: "seal-migration" -> 1 byte
	bReputation = []byte("reputation") // storage node ID -> JSON Reputation

	bBucketConfig = []byte("bucket-config") // bucket name -> JSON BucketConfig (absent: defaults)
	bVersions     = []byte("versions")      // versionKey -> noncurrent object version manifest

	allBuckets = [][]byte{bRaft, bBuckets, bObjects, bUploads, bParts, bKeys, bLayouts, bChunks, bGarbage, bForgot, bForgotT, bNames, bSettings, bReputation, bBucketConfig, bVersions}

	kApplied = []byte("applied")
	kFormat  = []byte("format")
)

// stateFormat is the state machine's format, stored under raft/format: 2
// has the chunk table. A format 1 file (reference counts, stripes in
// manifests and garbage records) is migrated when it is opened, a
// snapshot's included.
const stateFormat = 2

// snapshotHeader begins every snapshot stream, before the bbolt file.
var snapshotHeader = []byte{'C', 'R', 'N', 'M', 'E', 'T', 'A', FormatVersion}

var errFSMClosed = errors.New("meta: state machine closed")

// fsm is the raft state machine: every bit of state is in one bbolt file,
// which also records the last raft index applied to it, in the same
// transaction as the entry's effects. It implements raft.BatchingFSM.
type fsm struct {
	path string
	log  *slog.Logger

	mu sync.RWMutex // guards db, which Restore replaces
	db *bolt.DB

	busyMu sync.Mutex
	idle   chan struct{} // closed when the ApplyBatch in progress ends; nil when none is

	// ApplyBatch calls, entries given, and entries skipped as applied
	// already (a replay after a restart), for figures and tests.
	batches, entries, skipped atomic.Uint64
	// Read transactions begun through view, for Store.Activity.
	views atomic.Uint64
}

var _ raft.BatchingFSM = (*fsm)(nil)

func boltOptions() *bolt.Options {
	return &bolt.Options{
		Timeout: time.Second, // another process holds the file: fail, don't hang
		// Skip writing the free list on every commit (as etcd does); it is
		// rebuilt by a scan on open. Durability is unaffected: commits
		// still fsync.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		// Reserve address space up front so that a write transaction
		// rarely needs to remap, which waits for every read transaction,
		// including a snapshot being streamed.
		InitialMmapSize: 1 << 30,
	}
}

// openBolt opens (creating if need be) a state machine file and checks its
// format.
func openBolt(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, boltOptions())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		noNames := tx.Bucket(bNames) == nil
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if noNames {
			// A file written before the names index (or a new one):
			// index the chunk table's keyed names. A format 1 file has
			// no chunk table yet, and its migration below writes no
			// keyed name.
			if err := buildNames(tx); err != nil {
				return fmt.Errorf("build the names index: %w", err)
			}
		}
		rb := tx.Bucket(bRaft)
		v := rb.Get(kFormat)
		switch {
		case v == nil:
			return rb.Put(kFormat, u64(stateFormat))
		case len(v) != 8 || binary.BigEndian.Uint64(v) > stateFormat || binary.BigEndian.Uint64(v) == 0:
			return fmt.Errorf("%w: state machine format %x, this binary reads 1 to %d", errCorrupt, v, stateFormat)
		case binary.BigEndian.Uint64(v) == 1:
			if err := migrateChunkTable(tx); err != nil {
				return fmt.Errorf("migrate state machine format 1 to 2: %w", err)
			}
			return rb.Put(kFormat, u64(stateFormat))
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func openFSM(path string, log *slog.Logger) (*fsm, error) {
	db, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	return &fsm{path: path, log: log, db: db}, nil
}

func (f *fsm) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db == nil {
		return nil
	}
	err := f.db.Close()
	f.db = nil
	return err
}

// view runs fn in a read transaction.
func (f *fsm) view(fn func(tx *bolt.Tx) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return errFSMClosed
	}
	f.views.Add(1)
	return f.db.View(fn)
}

// release drops the pages of the bbolt file's memory map from the
// process's resident set; see Store.ReleaseMemory. The read transaction
// holds bbolt's map in place (a remap waits for every reader), and is not
// counted as activity.
func (f *fsm) release() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return errFSMClosed
	}
	return f.db.View(func(tx *bolt.Tx) error {
		return dropResident(f.db.Info().Data, uintptr(tx.Size()))
	})
}

func appliedIndex(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bRaft).Get(kApplied)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// applied returns the last raft index applied.
func (f *fsm) applied() (idx uint64, err error) {
	err = f.view(func(tx *bolt.Tx) error {
		idx = appliedIndex(tx)
		return nil
	})
	return idx, err
}

// errApplyInternal makes ApplyBatch roll back and redo its entries one
// transaction each.
var errApplyInternal = errors.New("meta: internal error applying an entry")

// Apply applies one entry; see ApplyBatch.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed entries in one bbolt transaction, which also
// records the last index applied: on a restart raft replays its log from
// the last snapshot, and entries at or below that index are skipped, so
// every entry takes effect exactly once. The response for a command is nil,
// what it answers (wtx.result: a version ID...), or the error it was
// rejected with (ErrNoSuchBucket...); a rejected command
// changes nothing. If applying an entry fails for any other reason (a bbolt
// error, a corrupt record), the batch is rolled back and redone one entry
// per transaction, the failing entry then taking no effect and answering
// its error. A failure to commit (the disk) panics: the state machine cannot
// go on without diverging from the log.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	f.busyMu.Lock()
	f.idle = make(chan struct{})
	f.busyMu.Unlock()
	defer func() {
		f.busyMu.Lock()
		close(f.idle)
		f.idle = nil
		f.busyMu.Unlock()
	}()
	f.batches.Add(1)
	f.entries.Add(uint64(len(logs)))
	resp := make([]any, len(logs))
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		panic(errFSMClosed)
	}
	err := f.db.Update(func(tx *bolt.Tx) error {
		w := newWtx(tx)
		applied := appliedIndex(tx)
		last := applied
		for i, l := range logs {
			if l.Index <= applied {
				f.skipped.Add(1)
				continue
			}
			last = l.Index
			if l.Type != raft.LogCommand {
				continue
			}
			w.index = l.Index
			w.result = nil
			err := w.apply(l.Data)
			var rej rejected
			switch {
			case err == nil:
				resp[i] = w.result
			case errors.As(err, &rej):
				resp[i] = rej.err
			default:
				f.log.Warn("meta: apply failed, redoing the batch entry by entry", "index", l.Index, "err", err)
				return errApplyInternal
			}
		}
		if last == applied {
			return nil
		}
		return tx.Bucket(bRaft).Put(kApplied, u64(last))
	})
	if errors.Is(err, errApplyInternal) {
		for i, l := range logs {
			resp[i] = f.applyOne(l)
		}
		return resp
	}
	if err != nil {
		panic(fmt.Sprintf("meta: commit raft entries %d..%d: %v", logs[0].Index, logs[len(logs)-1].Index, err))
	}
	return resp
}

// waitIdle waits until no ApplyBatch is in progress, or limit.
func (f *fsm) waitIdle(limit time.Duration) {
	f.busyMu.Lock()
	idle := f.idle
	f.busyMu.Unlock()
	if idle == nil {
		return
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// applyOne applies one entry in its own transaction; f.mu is held.
func (f *fsm) applyOne(l *raft.Log) any {
	var resp any
	var failed error
	err := f.db.Update(func(tx *bolt.Tx) error {
		if l.Index <= appliedIndex(tx) {
			return nil
		}
		if l.Type == raft.LogCommand {
			w := newWtx(tx)
			w.index = l.Index
			err := w.apply(l.Data)
			var rej rejected
			switch {
			case err == nil:
				resp = w.result
			case errors.As(err, &rej):
				resp = rej.err
			default:
				failed = err
				return err
			}
		}
		return tx.Bucket(bRaft).Put(kApplied, u64(l.Index))
	})
	if failed != nil {
		// The entry takes no effect, on every replica alike.
		f.log.Error("meta: raft entry rejected by an internal error", "index", l.Index, "err", failed)
		resp = fmt.Errorf("meta: apply raft entry %d: %w", l.Index, failed)
		err = f.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bRaft).Put(kApplied, u64(l.Index))
		})
	}
	if err != nil {
		panic(fmt.Sprintf("meta: commit raft entry %d: %v", l.Index, err))
	}
	return resp
}

// Snapshot starts a bbolt read transaction; Persist streams it. Writes go
// on meanwhile (bbolt is MVCC).
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return nil, errFSMClosed
	}
	tx, err := f.db.Begin(false)
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{tx: tx}, nil
}

type fsmSnapshot struct{ tx *bolt.Tx }

// Persist writes snapshotHeader then the consistent bbolt file of the
// transaction, without holding it in memory.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	_, err := sink.Write(snapshotHeader)
	if err == nil {
		_, err = s.tx.WriteTo(sink)
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("meta: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { _ = s.tx.Rollback() }

// Restore replaces the state machine with a snapshot: the stream is written
// to a temporary file and synced, checked, then renamed over the bbolt file
// (and the directory synced), so a crash leaves either the old state or
// the new one. Open restores the newest snapshot again if a crash left the
// old state behind it.
func (f *fsm) Restore(rc io.ReadCloser) error { return f.restore(rc, 0) }

// restore is Restore; if index is not 0 it is the raft index of the
// snapshot, recorded as the last applied (the snapshot's own record may be
// lower: raft entries that do not reach the state machine).
func (f *fsm) restore(rc io.ReadCloser, index uint64) error {
	defer func() { _ = rc.Close() }()
	tmp := f.path + ".restore"
	if err := writeRestoreFile(tmp, rc); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("meta: restore snapshot: %w", err)
	}
	db, err := openBolt(tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("meta: restore snapshot: %w", err)
	}
	var applied uint64
	err = db.Update(func(tx *bolt.Tx) error {
		applied = appliedIndex(tx)
		if index > applied {
			applied = index
			return tx.Bucket(bRaft).Put(kApplied, u64(index))
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("meta: restore snapshot: %w", err)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db != nil {
		if err := f.db.Close(); err != nil {
			return fmt.Errorf("meta: restore snapshot: close state: %w", err)
		}
		f.db = nil
	}
	if err := os.Rename(tmp, f.path); err != nil {
		f.db, _ = openBolt(f.path) // carry on with the old state
		return fmt.Errorf("meta: restore snapshot: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("meta: restore snapshot: %w", err)
	}
	if f.db, err = openBolt(f.path); err != nil {
		return fmt.Errorf("meta: restore snapshot: %w", err)
	}
	f.log.Info("meta: state machine restored from snapshot", "applied", applied)
	return nil
}

func writeRestoreFile(path string, r io.Reader) error {
	hdr := make([]byte, len(snapshotHeader))
	if _, err := io.ReadFull(r, hdr); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if string(hdr) != string(snapshotHeader) {
		return fmt.Errorf("%w: snapshot header %q", errCorrupt, hdr)
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(fh, r); err != nil {
		_ = fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		_ = fh.Close()
		return err
	}
	return fh.Close()
}

// rejected marks a command's refusal (ErrNoSuchBucket...): it is the
// command's answer, and the command has changed nothing.
type rejected struct{ err error }

func (r rejected) Error() string { return r.err.Error() }
func (r rejected) Unwrap() error { return r.err }

func reject(err error) error { return rejected{err} }
