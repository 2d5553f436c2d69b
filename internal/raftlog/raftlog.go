package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// FormatVersion is the version of the file's layout, stored under
// meta/"format". A store refuses a file of a newer version.
const FormatVersion = 1

var (
	bucketLogs   = []byte("logs")
	bucketStable = []byte("stable")
	bucketMeta   = []byte("meta")
	keyFormat    = []byte("format")
	// keyMigrated is set, in the transaction that copied it, when the
	// store's content came from a raft-wal directory (MigrateWAL).
	keyMigrated = []byte("migrated-from-raft-wal")
)

// errNotFound is the stable store's answer for a key it does not hold:
// raft compares the error's text with "not found".
var errNotFound = errors.New("not found")

// Store is a raft log store and stable store in one bbolt file. Every
// write is one bbolt transaction, durable (fsynced) when it returns nil; a
// kill at any moment leaves the file as it was before or after the
// transaction, never between. Safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Open opens the store in the file at path, creating it if need be.
// Another process (or another Store in this one) holding the file makes
// Open fail after a second rather than wait.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: time.Second,
		// The freelist is rebuilt by scanning the file on open instead of
		// being written at every commit: a raft log commits often and is
		// small, so each commit writes less.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("raftlog: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("raftlog: open %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLogs, bucketStable, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		if v := m.Get(keyFormat); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("format record of %d bytes", len(v))
			}
			if got := binary.BigEndian.Uint64(v); got > FormatVersion {
				return fmt.Errorf("format version %d, this build reads up to %d", got, FormatVersion)
			}
			return nil
		}
		return m.Put(keyFormat, be64(FormatVersion))
	})
}

// Close closes the file. The store must not be used afterwards.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file the store keeps.
func (s *Store) Path() string { return s.path }

// Migrated reports whether the store's content was copied from a raft-wal
// directory.
func (s *Store) Migrated() (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketMeta).Get(keyMigrated) != nil
		return nil
	})
	return ok, err
}

// FirstIndex returns the first index written, 0 for an empty log.
func (s *Store) FirstIndex() (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLogs).Cursor().First(); k != nil {
			idx = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return idx, err
}

// LastIndex returns the last index written, 0 for an empty log.
func (s *Store) LastIndex() (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLogs).Cursor().Last(); k != nil {
			idx = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return idx, err
}

// GetLog reads the entry at index into log; raft.ErrLogNotFound if the
// log does not hold it. log shares no memory with the store.
func (s *Store) GetLog(index uint64, log *raft.Log) error {
	return s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLogs).Get(be64(index))
		if v == nil {
			return raft.ErrLogNotFound
		}
		if err := decodeLog(v, log); err != nil {
			return fmt.Errorf("raftlog: entry %d: %w", index, err)
		}
		log.Index = index
		return nil
	})
}

// StoreLog stores one entry.
func (s *Store) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs stores entries in one transaction: all of them are durable
// when it returns nil, none of them if it fails or the process dies first.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs)
		b.FillPercent = 0.95 // appends, in index order
		for _, l := range logs {
			// bbolt keeps the value slice until the commit: one each.
			v := appendLog(make([]byte, 0, 24+len(l.Data)+len(l.Extensions)), l)
			if err := b.Put(be64(l.Index), v); err != nil {
				return fmt.Errorf("raftlog: store entry %d: %w", l.Index, err)
			}
		}
		return nil
	})
}

// DeleteRange deletes the entries from min to max, inclusive, in one
// transaction.
func (s *Store) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLogs).Cursor()
		for k, _ := c.Seek(be64(min)); k != nil && binary.BigEndian.Uint64(k) <= max; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return fmt.Errorf("raftlog: delete entries %d-%d: %w", min, max, err)
			}
		}
		return nil
	})
}

// Set stores a stable value, durably.
func (s *Store) Set(key, val []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStable).Put(bytes.Clone(key), bytes.Clone(val))
	})
}

// Get returns a stable value, or an error whose text is "not found" (what
// raft looks for) when the key has none.
func (s *Store) Get(key []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketStable).Get(key)
		if v == nil {
			return errNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// SetUint64 stores a stable number (8 bytes, little endian, as raft-wal
// stored them, so that migrated values read the same).
func (s *Store) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], val)
	return s.Set(key, b[:])
}

// GetUint64 returns a stable number, 0 when the key has none.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if errors.Is(err, errNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raftlog: stable key %q holds %d bytes, not a number", key, len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// logVersion is the first byte of every stored entry.
const logVersion = 1

// appendLog appends the encoding of l (all but its index, which is the
// key) to b:
//
//	byte     logVersion
//	uvarint  term
//	byte     type
//	varint   appended at, Unix nanoseconds (0: not set)
//	uvarint  len, data
//	uvarint  len, extensions
func appendLog(b []byte, l *raft.Log) []byte {
	b = append(b, logVersion)
	b = binary.AppendUvarint(b, l.Term)
	b = append(b, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.AppendVarint(b, at)
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	return append(b, l.Extensions...)
}

var errCorrupt = errors.New("corrupt entry")

func decodeLog(b []byte, l *raft.Log) error {
	if len(b) < 1 || b[0] != logVersion {
		return fmt.Errorf("%w: unknown version", errCorrupt)
	}
	b = b[1:]
	term, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+1 {
		return errCorrupt
	}
	typ := b[n]
	b = b[n+1:]
	at, n := binary.Varint(b)
	if n <= 0 {
		return errCorrupt
	}
	b = b[n:]
	data, b, ok := lenPrefixed(b)
	if !ok {
		return errCorrupt
	}
	ext, b, ok := lenPrefixed(b)
	if !ok || len(b) != 0 {
		return errCorrupt
	}
	*l = raft.Log{Term: term, Type: raft.LogType(typ), Data: data, Extensions: ext}
	if at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	return nil
}

// lenPrefixed splits a uvarint-length-prefixed field off b and returns a
// copy of it (nil when empty), the rest, and whether it was well formed.
func lenPrefixed(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	if n > 0 {
		field = bytes.Clone(b[k : k+int(n)])
	}
	return field, b[k+int(n):], true
}

// exists reports whether path names a file.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
