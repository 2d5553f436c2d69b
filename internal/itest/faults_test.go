//go:build integration

package itest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"
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

// TestDegradedReadsAnyTwoNodes takes away every pair of the six node
// directories in turn while the process runs: every object still reads back.
// Then it deletes two for good, and reads and writes go on.
func TestDegradedReadsAnyTwoNodes(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	mkBucket(t, c, "degraded")
	set := putSet(t, c, "degraded")
	dirs := p.nodeDirs()
	if len(dirs) != 6 {
		t.Fatalf("%d node dirs, want 6", len(dirs))
	}
	for i := range dirs {
		for j := i + 1; j < len(dirs); j++ {
			t.Run(fmt.Sprintf("without-%s-%s", filepath.Base(dirs[i]), filepath.Base(dirs[j])), func(t *testing.T) {
				for _, d := range []string{dirs[i], dirs[j]} {
					if err := os.Rename(d, d+".away"); err != nil {
						t.Fatal(err)
					}
				}
				defer func() {
					for _, d := range []string{dirs[i], dirs[j]} {
						os.RemoveAll(d) // anything a concurrent write recreated
						if err := os.Rename(d+".away", d); err != nil {
							t.Fatal(err)
						}
					}
				}()
				checkSet(t, c, "degraded", set)
			})
		}
	}
	// Two disks gone for good.
	for _, d := range dirs[1:3] {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	checkSet(t, c, "degraded", set)
	more := stored{key: "after-loss", seed: 77, size: 2*MiB + 3}
	if _, err := c.PutObject(ctxT(t), "degraded", more.key, newPayload(more.seed, more.size), more.size, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put after losing two node dirs: %v", err)
	}
	checkSet(t, c, "degraded", append(set, more))
}

// shardFiles lists every shard file under the node dirs.
func shardFiles(t *testing.T, p *proc) []string {
	t.Helper()
	var files []string
	for _, d := range p.nodeDirs() {
		filepath.WalkDir(filepath.Join(d, "shards"), func(path string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
	}
	slices.Sort(files)
	return files
}

// flipByte corrupts one byte near the end of a shard file (past any header)
// and returns the original contents.
func flipByte(t *testing.T, path string) []byte {
	t.Helper()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(orig)
	bad[len(bad)-len(bad)/3] ^= 0x40
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	return orig
}

func restore(t *testing.T, path string, orig []byte) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, orig, 0o644); err != nil {
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
	first := payloadBytes(31, 700<<10) // one chunk
	if _, err := c.PutObject(ctx, "rot", "one", bytes.NewReader(first), int64(len(first)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	files := shardFiles(t, p)
	if len(files) != 6 {
		t.Fatalf("%d shard files for a one-chunk object, want 6", len(files))
	}
	read := func(key string) ([]byte, error) {
		obj, err := c.GetObject(ctx, "rot", key, minio.GetObjectOptions{})
		if err != nil {
			return nil, err
		}
		defer obj.Close()
		return io.ReadAll(obj)
	}
	for i, f := range files {
		orig := flipByte(t, f)
		got, err := read("one")
		if err != nil || !bytes.Equal(got, first) {
			t.Fatalf("shard %d corrupt: got %d bytes, err %v", i, len(got), err)
		}
		restore(t, f, orig)
	}

	// Three of six shards corrupt: more than the two parity shards cover.
	for _, f := range files[:3] {
		flipByte(t, f)
	}
	got, err := read("one")
	if err == nil {
		t.Fatalf("GET with 3 of 6 shards corrupt succeeded with %d bytes (equal=%v)", len(got), bytes.Equal(got, first))
	}
	if code := minio.ToErrorResponse(err).StatusCode; code != 503 {
		t.Errorf("GET with 3 of 6 shards corrupt: %v (status %d), want 503", err, code)
	}

	// Mid-stream: an object whose first chunk is fine and whose second is
	// beyond repair. The client gets an error, and every byte it got before
	// the error is right.
	second := payloadBytes(32, 600<<10)
	both := append(payloadBytes(33, MiB), second...)
	before := shardFiles(t, p)
	if _, err := c.PutObject(ctx, "rot", "two", bytes.NewReader(both), int64(len(both)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, f := range shardFiles(t, p) {
		if !slices.Contains(before, f) {
			added = append(added, f)
		}
	}
	if len(added) != 12 {
		t.Fatalf("%d new shard files for a two-chunk object, want 12", len(added))
	}
	// Find the second chunk's six shards: corrupting them breaks the read
	// only past the first MiB.
	var bad []string
	for _, f := range added {
		st, _ := os.Stat(f)
		if st.Size() < (MiB/4)-64 { // 600 KiB/4 shards vs 1 MiB/4
			bad = append(bad, f)
		}
	}
	if len(bad) != 6 {
		t.Fatalf("could not tell the second chunk's shards apart: %d small files", len(bad))
	}
	for _, f := range bad[:3] {
		flipByte(t, f)
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
