package blob_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
)

func openLog(t testing.TB, dir string, opts blob.LogOptions) *blob.LogStore {
	t.Helper()
	s, err := blob.OpenLog(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLogStore(t *testing.T) {
	blobtest.Run(t, blobtest.Harness{
		New: func(t *testing.T) blob.Store {
			// Small segments, so that the suite crosses segment ends.
			return openLog(t, filepath.Join(t.TempDir(), "node"), blob.LogOptions{SegmentSize: 64 << 10, Writers: 3})
		},
		Corrupt: func(t *testing.T, s blob.Store, id cid.Cid) {
			flipLogByte(t, s.(*blob.LogStore), id)
		},
		Wipe: func(t *testing.T, s blob.Store) {
			var err error
			for range 20 {
				if err = os.RemoveAll(s.(*blob.LogStore).Dir()); err == nil {
					return
				}
			}
			t.Logf("wipe: %v", err)
		},
	})
}

// flipLogByte flips a byte in the middle of a shard's content on disk.
func flipLogByte(t *testing.T, s *blob.LogStore, id cid.Cid) {
	t.Helper()
	path, off, n, err := s.Locate(id)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off+int64(n/2)); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off+int64(n/2)); err != nil {
		t.Fatal(err)
	}
}

// logShards makes shards of the sizes a store meets: inline in the header
// block, just past it, unaligned, whole blocks, and a 1 MiB chunk's shard.
func logShards(t testing.TB, seed uint64) []testShard {
	var out []testShard
	for i, n := range []int{1, 100, 4000, 4096, 5000, 100_000, 262_144, 300_001} {
		id, data := shard(t, seed+uint64(i), n)
		out = append(out, testShard{id, data})
	}
	return out
}

type testShard struct {
	id   cid.Cid
	data []byte
}

func mustGetShard(t *testing.T, s blob.Store, sh testShard) {
	t.Helper()
	got, err := s.Get(context.Background(), sh.id, nil)
	if err != nil || !bytes.Equal(got, sh.data) {
		t.Fatalf("Get(%d-byte shard): %d bytes, %v", len(sh.data), len(got), err)
	}
}

// TestLogStoreReopen: the index is rebuilt from the segments. Deletes
// stay deleted, a shard put again after its delete is back, and new
// writes after a reopen go to new segments.
func TestLogStoreReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	s, err := blob.OpenLog(dir, blob.LogOptions{SegmentSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	shards := logShards(t, 10)
	for _, sh := range shards {
		if err := s.Put(ctx, sh.id, sh.data); err != nil {
			t.Fatal(err)
		}
	}
	gone, back := shards[1], shards[5]
	for _, sh := range []testShard{gone, back} {
		if err := s.Delete(ctx, sh.id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, back.id, back.data); err != nil {
		t.Fatal(err)
	}
	before, err := s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openLog(t, dir, blob.LogOptions{SegmentSize: 256 << 10})
	for _, sh := range shards {
		if sh.id.Equals(gone.id) {
			if ok, _ := s.Has(ctx, sh.id); ok {
				t.Fatal("a deleted shard is back after reopen")
			}
			continue
		}
		mustGetShard(t, s, sh)
	}
	after, err := s.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Shards != before.Shards || after.Bytes != before.Bytes || after.Shards != int64(len(shards)-1) {
		t.Fatalf("Usage after reopen %+v, before %+v", after, before)
	}
	segs, _ := os.ReadDir(filepath.Join(dir, "segments"))
	more, moreData := shard(t, 99, 70_000)
	if err := s.Put(ctx, more, moreData); err != nil {
		t.Fatal(err)
	}
	path, _, _, err := s.Locate(more)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range segs {
		if filepath.Base(path) == e.Name() {
			t.Fatalf("a write after reopen went to segment %s, which was there before", e.Name())
		}
	}
	if len(segs) < 2 {
		t.Fatalf("%d segments for %d shards of 256 KiB segments: none was sealed", len(segs), len(shards))
	}
}

// TestLogStoreTornTail: a crash in the middle of an append leaves a
// segment whose last record is cut short, or followed by garbage. Opening
// the store keeps every record before it, drops the torn one (it was never
// acknowledged) and takes new writes.
func TestLogStoreTornTail(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	s, err := blob.OpenLog(dir, blob.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shards := logShards(t, 20)
	for _, sh := range shards {
		if err := s.Put(ctx, sh.id, sh.data); err != nil {
			t.Fatal(err)
		}
	}
	last := shards[len(shards)-1]
	path, off, n, err := s.Locate(last.id)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Truncate(path, off+int64(n)/2); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 3*4096)
	rand.NewChaCha8([32]byte{1}).Read(garbage)
	copy(garbage, "CSR1") // a magic without a valid header behind it
	f.Write(garbage)
	f.Close()

	s = openLog(t, dir, blob.LogOptions{})
	for _, sh := range shards[:len(shards)-1] {
		mustGetShard(t, s, sh)
	}
	if _, err := s.Get(ctx, last.id, nil); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of the torn shard = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, last.id, last.data); err != nil {
		t.Fatal(err)
	}
	mustGetShard(t, s, last)
}

// TestLogStoreFormat checks the bytes doc.go describes: the version file,
// segment names, the record header, and where content starts.
func TestLogStoreFormat(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	s := openLog(t, dir, blob.LogOptions{})
	small, smallData := shard(t, 30, 1000)
	big, bigData := shard(t, 31, 262_144)
	for _, sh := range []testShard{{small, smallData}, {big, bigData}} {
		if err := s.Put(ctx, sh.id, sh.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, small); err != nil {
		t.Fatal(err)
	}
	v, err := os.ReadFile(filepath.Join(dir, "cairn-blob"))
	if err != nil || string(v) != "cairn blob store 2\n" {
		t.Fatalf("version file: %q, %v", v, err)
	}
	path, off, n, err := s.Locate(big)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "0000000000000000" {
		t.Fatalf("first segment is %s", filepath.Base(path))
	}
	seg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(seg)%4096 != 0 {
		t.Fatalf("segment of %d bytes: records are not whole blocks", len(seg))
	}
	// Three records: the small shard with its content in the header's
	// block, the big one with content at the next block, the tombstone.
	type rec struct {
		kind    byte
		seq     uint64
		id      []byte
		n       int
		content []byte
	}
	var recs []rec
	for at := 0; at < len(seg); {
		h := seg[at:]
		if string(h[:4]) != "CSR1" || h[5] != 0 {
			t.Fatalf("record at %d starts %q", at, h[:6])
		}
		l := int(binary.LittleEndian.Uint16(h[6:8]))
		r := rec{kind: h[4], seq: binary.LittleEndian.Uint64(h[8:16]), id: h[28 : 28+l], n: int(binary.LittleEndian.Uint32(h[16:20]))}
		hcrc := crc32.Update(crc32.Checksum(h[:24], crc32.MakeTable(crc32.Castagnoli)), crc32.MakeTable(crc32.Castagnoli), r.id)
		if binary.LittleEndian.Uint32(h[24:28]) != hcrc {
			t.Fatalf("record at %d: header CRC wrong", at)
		}
		start, length := 28+l, 4096
		if 28+l+r.n > 4096 {
			start, length = 4096, 4096+(r.n+4095)/4096*4096
		}
		r.content = h[start : start+r.n]
		if crc := crc32.Checksum(r.content, crc32.MakeTable(crc32.Castagnoli)); binary.LittleEndian.Uint32(h[20:24]) != crc {
			t.Fatalf("record at %d: content CRC wrong", at)
		}
		recs = append(recs, r)
		at += length
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	want := []rec{
		{kind: 1, seq: 1, id: small.Bytes(), content: smallData},
		{kind: 1, seq: 2, id: big.Bytes(), content: bigData},
		{kind: 2, seq: 3, id: small.Bytes(), content: []byte{}},
	}
	for i, r := range recs {
		w := want[i]
		if r.kind != w.kind || r.seq != w.seq || !bytes.Equal(r.id, w.id) || !bytes.Equal(r.content, w.content) {
			t.Fatalf("record %d: kind %d seq %d, %d bytes; want kind %d seq %d, %d bytes", i, r.kind, r.seq, len(r.content), w.kind, w.seq, len(w.content))
		}
	}
	if off != 4096+4096 || n != len(bigData) {
		t.Fatalf("big shard's content at %d (%d bytes), want at 8192", off, n)
	}
}

// TestLogStoreQuarantine: a shard that fails its check is copied to
// quarantine and stays gone after a reopen; a Put brings it back.
func TestLogStoreQuarantine(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	s, err := blob.OpenLog(dir, blob.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sh := logShards(t, 40)[6]
	if err := s.Put(ctx, sh.id, sh.data); err != nil {
		t.Fatal(err)
	}
	flipLogByte(t, s, sh.id)
	if _, err := s.Get(ctx, sh.id, nil); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Get of a flipped shard = %v, want ErrCorrupt", err)
	}
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", sh.id.String()+".*"))
	if len(q) != 1 {
		t.Fatalf("quarantine holds %v", q)
	}
	if b, _ := os.ReadFile(q[0]); len(b) != len(sh.data) || bytes.Equal(b, sh.data) {
		t.Fatalf("quarantined copy: %d bytes, equal to the original: %v", len(b), bytes.Equal(b, sh.data))
	}
	s.Close()
	s = openLog(t, dir, blob.LogOptions{})
	if ok, _ := s.Has(ctx, sh.id); ok {
		t.Fatal("the quarantined shard is back after reopen")
	}
	if err := s.Put(ctx, sh.id, sh.data); err != nil {
		t.Fatal(err)
	}
	mustGetShard(t, s, sh)
}

// TestLogStoreConcurrentReopen: many writers at once (their records share
// writes) and every shard reads back, before and after a reopen.
func TestLogStoreConcurrentReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	s, err := blob.OpenLog(dir, blob.LogOptions{SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var all [32][]testShard
	var wg sync.WaitGroup
	for g := range all {
		all[g] = logShards(t, uint64(100+g*10))
		wg.Go(func() {
			for _, sh := range all[g] {
				if err := s.Put(ctx, sh.id, sh.data); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, shards := range all {
		for _, sh := range shards {
			mustGetShard(t, s, sh)
		}
	}
	s.Close()
	s = openLog(t, dir, blob.LogOptions{})
	for _, shards := range all {
		for _, sh := range shards {
			mustGetShard(t, s, sh)
		}
	}
}

// TestOpenPicksFormat: Open keeps a format-1 store a DirStore and makes
// new stores LogStores; it refuses a format it does not know.
func TestOpenPicksFormat(t *testing.T) {
	old := filepath.Join(t.TempDir(), "old")
	if _, err := blob.OpenDir(old); err != nil {
		t.Fatal(err)
	}
	st, err := blob.Open(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*blob.DirStore); !ok {
		t.Fatalf("Open of a format-1 store gave a %T", st)
	}
	fresh := filepath.Join(t.TempDir(), "new")
	st, err = blob.Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*blob.LogStore); !ok {
		t.Fatalf("Open of a new directory gave a %T", st)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "cairn-blob"), []byte("cairn blob store 9\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := blob.Open(other); err == nil || !strings.Contains(err.Error(), "unsupported format") {
		t.Fatalf("Open of format 9 = %v", err)
	}
	if _, err := blob.OpenLog(old, blob.LogOptions{}); err == nil {
		t.Fatal("OpenLog accepted a format-1 store")
	}
}
