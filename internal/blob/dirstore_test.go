package blob_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
)

func openTemp(t testing.TB) *blob.DirStore {
	t.Helper()
	s, err := blob.OpenDir(filepath.Join(t.TempDir(), "node"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDirStore(t *testing.T) {
	blobtest.Run(t, blobtest.Harness{
		New: func(t *testing.T) blob.Store { return openTemp(t) },
		Corrupt: func(t *testing.T, s blob.Store, id cid.Cid) {
			flipByte(t, s.(*blob.DirStore), id, -1)
		},
		Wipe: func(t *testing.T, s blob.Store) {
			// rm -rf: with Puts recreating directories meanwhile, it may
			// need a few passes, as it would for an operator.
			var err error
			for range 20 {
				if err = os.RemoveAll(s.(*blob.DirStore).Dir()); err == nil {
					return
				}
			}
			t.Logf("wipe: %v", err)
		},
	})
}

// TestStoreSuite runs the plain suite entry point too.
func TestStoreSuite(t *testing.T) {
	blobtest.TestStore(t, func(t *testing.T) blob.Store { return openTemp(t) })
}

// flipByte flips one byte of a shard's file on disk: at offset off, or in
// the middle of the content when off < 0.
func flipByte(t *testing.T, s *blob.DirStore, id cid.Cid, off int) {
	t.Helper()
	path, err := s.Path(id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off = 8 + (len(b)-8)/2
	}
	b[off] ^= 0x40
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

func shard(t testing.TB, seed uint64, size int) (cid.Cid, []byte) {
	return blobtest.NewShard(t, rand.New(rand.NewPCG(seed, 2)), size)
}

// TestOnDiskFormat checks the layout doc.go describes.
func TestOnDiskFormat(t *testing.T) {
	s := openTemp(t)
	id, data := shard(t, 1, 1234)
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatal(err)
	}
	path, _ := s.Path(id)
	k := id.KeyString()
	wantPath := filepath.Join(s.Dir(), "shards", hex2(k[len(k)-1]), id.String())
	if path != wantPath {
		t.Fatalf("shard at %s, want %s", path, wantPath)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:8], []byte("CAIRNSH\x01")) || !bytes.Equal(b[8:], data) {
		t.Fatalf("file starts %q and holds %d bytes, want the v1 header then the %d-byte shard", b[:8], len(b)-8, len(data))
	}
	v, err := os.ReadFile(filepath.Join(s.Dir(), "cairn-blob"))
	if err != nil || string(v) != "cairn blob store 1\n" {
		t.Fatalf("version file: %q, %v", v, err)
	}
	tmp, _ := os.ReadDir(filepath.Join(s.Dir(), "tmp"))
	if len(tmp) != 0 {
		t.Fatalf("tmp holds %d files after Put", len(tmp))
	}
}

func hex2(b byte) string {
	const hex = "0123456789abcdef"
	return string([]byte{hex[b>>4], hex[b&15]})
}

func TestQuarantine(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  int // byte to flip; -1: content
	}{
		{"content", -1},
		{"header", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			id, data := shard(t, 2, 4096)
			ctx := context.Background()
			if err := s.Put(ctx, id, data); err != nil {
				t.Fatal(err)
			}
			flipByte(t, s, id, tc.off)
			if _, err := s.Get(ctx, id, nil); !errors.Is(err, blob.ErrCorrupt) {
				t.Fatalf("Get = %v, want ErrCorrupt", err)
			}
			q, err := os.ReadDir(filepath.Join(s.Dir(), "quarantine"))
			if err != nil || len(q) != 1 || !strings.HasPrefix(q[0].Name(), id.String()+".") {
				t.Fatalf("quarantine holds %v (%v), want the shard", q, err)
			}
			if _, err := s.Get(ctx, id, nil); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("second Get = %v, want ErrNotFound", err)
			}
		})
	}
	// A truncated file is corrupt too.
	s := openTemp(t)
	id, data := shard(t, 3, 4096)
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatal(err)
	}
	path, _ := s.Path(id)
	if err := os.Truncate(path, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), id, nil); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Get of a truncated file = %v, want ErrCorrupt", err)
	}
}

// TestPutReplacesWrongSize: a file of the wrong size under a shard's name
// (left by a disk fault) is replaced by Put, not taken for the shard.
func TestPutReplacesWrongSize(t *testing.T) {
	s := openTemp(t)
	id, data := shard(t, 4, 1000)
	path, _ := s.Path(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("CAIRNSH\x01short"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), id, nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after Put over a bad file: %v", err)
	}
}

func TestStaleTempRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	if _, err := blob.OpenDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bafkreiabc.12345", "bafkreidef.999"} {
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := blob.OpenDir(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(left) != 0 {
		t.Fatalf("OpenDir left %d temporary files", len(left))
	}
}

func TestOpenOtherVersion(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cairn-blob"), []byte("cairn blob store 2\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := blob.OpenDir(dir); err == nil {
		t.Fatal("OpenDir accepted a store of format 2")
	}
}

// TestReopen: shards survive closing and reopening the store.
func TestReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	s, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, data := shard(t, 5, 777)
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatal(err)
	}
	s2, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get(context.Background(), id, nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after reopen: %v", err)
	}
}

func TestCIDv0NotStored(t *testing.T) {
	s := openTemp(t)
	data := []byte("old style")
	h, err := mh.Sum(data, mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	id := cid.NewCidV0(h)
	if err := s.Put(context.Background(), id, data); err == nil {
		t.Fatal("Put of a CIDv0 succeeded")
	}
	if _, err := s.Get(context.Background(), id, nil); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of a CIDv0 = %v, want ErrNotFound", err)
	}
}

// TestFanOut checks that shards spread evenly over the 256 directories.
func TestFanOut(t *testing.T) {
	s := openTemp(t)
	rng := rand.New(rand.NewPCG(6, 7))
	const shards = 256 * 64
	per := map[string]int{}
	for range shards {
		id, _ := blobtest.NewShard(t, rng, 16)
		path, err := s.Path(id)
		if err != nil {
			t.Fatal(err)
		}
		per[filepath.Base(filepath.Dir(path))]++
	}
	lo, hi := shards, 0
	for _, c := range per {
		lo, hi = min(lo, c), max(hi, c)
	}
	t.Logf("%d shards over %d directories: %d to %d per directory (mean 64)", shards, len(per), lo, hi)
	if len(per) != 256 || lo < 32 || hi > 100 {
		t.Fatalf("uneven fan-out: %d directories, %d to %d per directory", len(per), lo, hi)
	}
	// And they land where Path says.
	id, data := blobtest.NewShard(t, rng, 16)
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatal(err)
	}
	path, _ := s.Path(id)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestPutComputed: a shard stored without hashing it again reads back; a
// wrong CID stores bytes that no Get returns.
func TestPutComputed(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	data := []byte("shard bytes whose CID the caller computed")
	id := erasure.ShardCID(data)
	if err := s.PutComputed(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, id, nil); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %q, %v", got, err)
	}
	wrong := erasure.ShardCID([]byte("other bytes"))
	if err := s.PutComputed(ctx, wrong, data); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, wrong, nil); err == nil {
		t.Fatalf("a shard stored under a wrong CID was returned: %q", got)
	}
}
