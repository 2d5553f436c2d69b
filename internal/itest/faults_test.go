//go:build integration

package itest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"

	"cairn/internal/blob"
)

type stored struct {
	key  string
	seed uint64
	size int64
}

// putSet writes objects of mixed sizes (one chunk, several chunks, a partial
// last chunk) and returns them.
func putSet(t *testing.T, c *minio.Client, bucket string) []stored {
	t.Helper()
	ctx := ctxT(t)
	var set []stored
	for i, size := range []int64{1, 1000, 300 << 10, MiB, MiB + 1, 3*MiB + 17, 9 * MiB} {
		s := stored{key: fmt.Sprintf("obj-%d", i), seed: uint64(1000 + i), size: size}
		if _, err := c.PutObject(ctx, bucket, s.key, newPayload(s.seed, size), size, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", s.key, err)
		}
		set = append(set, s)
	}
	return set
}

// checkSet reads every object back and compares it byte for byte.
func checkSet(t *testing.T, c *minio.Client, bucket string, set []stored) {
	t.Helper()
	ctx := ctxT(t)
	for _, s := range set {
		obj, err := c.GetObject(ctx, bucket, s.key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatalf("get %s: %v", s.key, err)
		}
		got, n := digest(t, obj)
		obj.Close()
		want, _ := digest(t, newPayload(s.seed, s.size))
		if n != s.size || got != want {
			t.Fatalf("%s: read %d of %d bytes, equal=%v", s.key, n, s.size, got == want)
		}
	}
}

// TestDegradedReadsAnyTwoNodes removes every pair of the six node
// directories in turn while the process runs (rm -rf, as an operator or a
// dead disk would): every object written before still reads back. Then two
// stay gone, and reads and writes go on.
func TestDegradedReadsAnyTwoNodes(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	dirs := p.nodeDirs()
	if len(dirs) != 6 {
		t.Fatalf("%d node dirs, want 6", len(dirs))
	}
	var set []stored
	for i := range dirs {
		for j := i + 1; j < len(dirs); j++ {
			t.Run(fmt.Sprintf("without-%s-%s", filepath.Base(filepath.Dir(dirs[i])), filepath.Base(filepath.Dir(dirs[j]))), func(t *testing.T) {
				// A set written with all six nodes there, so that it has
				// every shard before this pair goes.
				bucket := fmt.Sprintf("degraded-%d-%d", i, j)
				mkBucket(t, c, bucket)
				set = putSet(t, c, bucket)
				for _, d := range []string{dirs[i], dirs[j]} {
					if err := os.RemoveAll(d); err != nil {
						t.Fatal(err)
					}
				}
				checkSet(t, c, bucket, set)
			})
		}
	}
	// Two disks gone for good (the last pair), and writes go on.
	bucket := fmt.Sprintf("degraded-%d-%d", len(dirs)-2, len(dirs)-1)
	more := stored{key: "after-loss", seed: 77, size: 2*MiB + 3}
	if _, err := c.PutObject(ctxT(t), bucket, more.key, newPayload(more.seed, more.size), more.size, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put after losing two node dirs: %v", err)
	}
	checkSet(t, c, bucket, append(set, more))
}

// shardRecords lists every shard the dev cluster's node dirs hold.
func shardRecords(t *testing.T, p *proc) []blob.ShardRecord {
	t.Helper()
	var all []blob.ShardRecord
	for _, d := range p.nodeDirs() {
		recs, err := blob.Records(d)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	return all
}

// newRecords returns the shards held now that were not in before.
func newRecords(t *testing.T, p *proc, before []blob.ShardRecord) []blob.ShardRecord {
	t.Helper()
	var added []blob.ShardRecord
	for _, r := range shardRecords(t, p) {
		if !slices.ContainsFunc(before, func(b blob.ShardRecord) bool { return b.Path == r.Path && b.Offset == r.Offset }) {
			added = append(added, r)
		}
	}
	return added
}

// flipByte corrupts one byte of a shard's content on disk, behind the
// process's back.
func flipByte(t *testing.T, r blob.ShardRecord) {
	t.Helper()
	f, err := os.OpenFile(r.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	at := r.Offset + int64(r.Size) - int64(r.Size)/3
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

// TestBitrot flips a byte in each shard of a stripe in turn: the GET still
// returns the right bytes. With more shards corrupt than parity covers, the
// GET fails, and never with wrong bytes.
func TestBitrot(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "rot")
	read := func(key string) ([]byte, error) {
		obj, err := c.GetObject(ctx, "rot", key, minio.GetObjectOptions{})
		if err != nil {
			return nil, err
		}
		defer obj.Close()
		return io.ReadAll(obj)
	}
	// put stores a one-chunk object under key and returns its six shards.
	// Every object has bytes of its own: the same bytes would be the same
	// shards, which the nodes hold already.
	put := func(key string, data []byte) []blob.ShardRecord {
		before := shardRecords(t, p)
		if _, err := c.PutObject(ctx, "rot", key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		added := newRecords(t, p, before)
		if len(added) != 6 {
			t.Fatalf("%d new shards for a one-chunk object, want 6", len(added))
		}
		return added
	}
	// A corrupt shard is quarantined when read, so each shard in turn is
	// corrupted in an object of its own.
	for i := range 6 {
		key, data := fmt.Sprintf("one-%d", i), payloadBytes(uint64(40+i), 700<<10)
		shards := put(key, data)
		flipByte(t, shards[i])
		got, err := read(key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("shard %d corrupt: got %d bytes, err %v", i, len(got), err)
		}
	}

	// Three of six shards corrupt: more than the two parity shards cover.
	three := payloadBytes(31, 700<<10)
	for _, r := range put("three", three)[:3] {
		flipByte(t, r)
	}
	got, err := read("three")
	if err == nil {
		t.Fatalf("GET with 3 of 6 shards corrupt succeeded with %d bytes (equal=%v)", len(got), bytes.Equal(got, three))
	}
	if code := minio.ToErrorResponse(err).StatusCode; code != 503 {
		t.Errorf("GET with 3 of 6 shards corrupt: %v (status %d), want 503", err, code)
	}

	// Mid-stream: an object whose first chunk is fine and whose second is
	// beyond repair. The client gets an error, and every byte it got before
	// the error is right.
	second := payloadBytes(32, 600<<10)
	both := append(payloadBytes(33, MiB), second...)
	before := shardRecords(t, p)
	if _, err := c.PutObject(ctx, "rot", "two", bytes.NewReader(both), int64(len(both)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	added := newRecords(t, p, before)
	if len(added) != 12 {
		t.Fatalf("%d new shards for a two-chunk object, want 12", len(added))
	}
	// The second chunk's six shards are the small ones: corrupting them
	// breaks the read only past the first MiB.
	var bad []blob.ShardRecord
	for _, r := range added {
		if r.Size < MiB/4-64 { // 600 KiB/4 shards vs 1 MiB/4
			bad = append(bad, r)
		}
	}
	if len(bad) != 6 {
		t.Fatalf("could not tell the second chunk's shards apart: %d small ones", len(bad))
	}
	for _, r := range bad[:3] {
		flipByte(t, r)
	}
	obj, err := c.GetObject(ctx, "rot", "two", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(obj)
	if err == nil {
		t.Fatalf("GET of an object with an unrecoverable chunk succeeded (%d bytes, equal=%v)", len(got), bytes.Equal(got, both))
	}
	if !bytes.Equal(got, both[:len(got)]) {
		t.Fatalf("the %d bytes received before the error are not the stored ones", len(got))
	}
}

// TestRestartKeepsEverything stops and restarts the process (cleanly, then
// with SIGKILL right after acknowledged writes): buckets, objects and keys
// are all there.
func TestRestartKeepsEverything(t *testing.T) {
	data := t.TempDir()
	p := startDevEnv(t, data) // generated credentials, saved in data
	if p.access == "" || p.secret == "" {
		t.Fatal("no generated credentials printed")
	}
	c := p.client()
	mkBucket(t, c, "keep-a")
	mkBucket(t, c, "keep-b")
	set := putSet(t, c, "keep-a")
	p.stop()

	p2 := startDevEnv(t, data)
	if p2.access != p.access || p2.secret != p.secret {
		t.Fatalf("credentials changed across restart: %s vs %s", p2.access, p.access)
	}
	c = p2.client()
	bs, err := c.ListBuckets(ctxT(t))
	if err != nil || len(bs) != 2 || bs[0].Name != "keep-a" || bs[1].Name != "keep-b" {
		t.Fatalf("buckets after restart: %v, %v", bs, err)
	}
	checkSet(t, c, "keep-a", set)

	// Crash right after acknowledged writes.
	late := stored{key: "late", seed: 99, size: 4*MiB + 1}
	if _, err := c.PutObject(ctxT(t), "keep-b", late.key, newPayload(late.seed, late.size), late.size, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctxT(t), "keep-a", set[0].key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	p2.kill()

	p3 := startDevEnv(t, data)
	c = p3.client()
	checkSet(t, c, "keep-a", set[1:])
	checkSet(t, c, "keep-b", []stored{late})
	if _, err := c.StatObject(ctxT(t), "keep-a", set[0].key, minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("deleted object after crash: %v, want NoSuchKey", err)
	}
}

// lie rewrites a shard's content on disk together with its record's
// checksums (the content CRC at offset 20 of the header and the header
// CRC at 24, as internal/blob/doc.go lays them out), so that the node,
// once it reopens the store, serves the wrong bytes as good ones: what a
// node that lies does. It returns a func that puts the record back.
func lie(t *testing.T, r blob.ShardRecord) (restore func()) {
	t.Helper()
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	f, err := os.OpenFile(r.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cidLen := len(r.CID.Bytes())
	hdr := r.Offset - 28 - int64(cidLen) // content right after the CID
	if r.Offset%4096 == 0 {
		hdr = r.Offset - 4096 // content in the record's second block
	}
	head := make([]byte, 28+cidLen)
	content := make([]byte, r.Size)
	if _, err := f.ReadAt(head, hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(content, r.Offset); err != nil {
		t.Fatal(err)
	}
	if string(head[:4]) != "CSR1" || !bytes.Equal(head[28:], r.CID.Bytes()) ||
		binary.LittleEndian.Uint32(head[20:]) != crc32.Checksum(content, castagnoli) {
		t.Fatalf("no record of %s at %s:%d", r.CID, r.Path, hdr)
	}
	forged, forgedHead := bytes.Clone(content), bytes.Clone(head)
	forged[len(forged)/2] ^= 0x5a
	binary.LittleEndian.PutUint32(forgedHead[20:], crc32.Checksum(forged, castagnoli))
	h := crc32.New(castagnoli)
	h.Write(forgedHead[:24])
	h.Write(forgedHead[28:])
	binary.LittleEndian.PutUint32(forgedHead[24:], h.Sum32())
	write := func(head, content []byte) {
		f, err := os.OpenFile(r.Path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(head, hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(content, r.Offset); err != nil {
			t.Fatal(err)
		}
	}
	write(forgedHead, forged)
	return func() { write(head, content) }
}
