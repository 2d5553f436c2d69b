package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// entry is the entry the tests write at index i.
func entry(i uint64) *raft.Log {
	l := &raft.Log{
		Index: i, Term: 1 + i/10, Type: raft.LogCommand,
		Data:       bytes.Repeat([]byte{byte(i)}, int(i%300)),
		AppendedAt: time.Unix(1700000000, int64(i)),
	}
	if i%7 == 0 {
		l.Type = raft.LogConfiguration
		l.Extensions = []byte(fmt.Sprint("ext", i))
	}
	if i%5 == 0 {
		l.Data = nil
	}
	return l
}

func checkEntry(t *testing.T, s interface {
	GetLog(uint64, *raft.Log) error
}, i uint64) {
	t.Helper()
	var got raft.Log
	if err := s.GetLog(i, &got); err != nil {
		t.Fatalf("GetLog(%d): %v", i, err)
	}
	want := entry(i)
	if got.Index != want.Index || got.Term != want.Term || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) ||
		!got.AppendedAt.Equal(want.AppendedAt) {
		t.Fatalf("entry %d = %+v, want %+v", i, got, *want)
	}
}

func TestLogStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s := open(t, path)
	if f, _ := s.FirstIndex(); f != 0 {
		t.Fatalf("empty store: first %d", f)
	}
	if l, _ := s.LastIndex(); l != 0 {
		t.Fatalf("empty store: last %d", l)
	}
	var l raft.Log
	if err := s.GetLog(1, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog on empty store: %v, want ErrLogNotFound", err)
	}
	if err := s.StoreLog(entry(1)); err != nil {
		t.Fatal(err)
	}
	var batch []*raft.Log
	for i := uint64(2); i <= 300; i++ {
		batch = append(batch, entry(i))
	}
	if err := s.StoreLogs(batch); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 300; i++ {
		checkEntry(t, s, i)
	}
	// Compaction of a prefix, truncation of a suffix.
	if err := s.DeleteRange(1, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(251, 300); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FirstIndex(); f != 101 {
		t.Errorf("first = %d, want 101", f)
	}
	if l, _ := s.LastIndex(); l != 250 {
		t.Errorf("last = %d, want 250", l)
	}
	if err := s.GetLog(100, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("deleted entry 100: %v", err)
	}

	// Stable values.
	if _, err := s.Get([]byte("LastVoteCand")); err == nil || err.Error() != "not found" {
		t.Errorf("Get of an unset key: %v, want exactly \"not found\" (raft compares the text)", err)
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 0 {
		t.Errorf("GetUint64 of an unset key = %d, %v; want 0, nil", v, err)
	}
	must(t, s.SetUint64([]byte("CurrentTerm"), 42))
	must(t, s.Set([]byte("LastVoteCand"), []byte("n2")))

	// All of it survives a reopen.
	must(t, s.Close())
	s = open(t, path)
	for i := uint64(101); i <= 250; i++ {
		checkEntry(t, s, i)
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 42 {
		t.Errorf("CurrentTerm = %d, %v after reopen", v, err)
	}
	if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != "n2" {
		t.Errorf("LastVoteCand = %q, %v after reopen", v, err)
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	good := appendLog(nil, entry(7))
	for n := 0; n < len(good); n++ {
		var l raft.Log
		if err := decodeLog(good[:n], &l); err == nil {
			t.Errorf("a %d-byte prefix of a %d-byte entry decoded", n, len(good))
		}
	}
	var l raft.Log
	if err := decodeLog(append(good, 0), &l); err == nil {
		t.Error("an entry with a trailing byte decoded")
	}
}

func TestOpenRefusesNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s := open(t, path)
	must(t, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, be64(FormatVersion+1)) }))
	must(t, s.Close())
	if s2, err := Open(path); err == nil {
		_ = s2.Close()
		t.Fatal("a store of a newer format opened")
	}
}

func TestOpenHeldElsewhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	open(t, path)
	start := time.Now()
	if s2, err := Open(path); err == nil {
		_ = s2.Close()
		t.Fatal("a second Open of the same file succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("second Open took %v to fail", d)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
