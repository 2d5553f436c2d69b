package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"cairn/internal/blob"
)

// TestLogScrubHeader: a damaged record header leaves the content intact,
// so Get still serves the shard; but the next open would end the
// segment's records there. Scrub reads the header too: it writes the
// shard again if its content is right, and quarantines it if not.
func TestLogScrubHeader(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	s := openLog(t, dir, blob.LogOptions{})
	shards := logShards(t, 50)
	for _, sh := range shards {
		if err := s.Put(ctx, sh.id, sh.data); err != nil {
			t.Fatal(err)
		}
	}
	// 100_000 and 262_144 bytes: their content starts a block after the
	// header.
	header, both := shards[5], shards[6]
	for _, sh := range []testShard{header, both} {
		path, off, _, err := s.Locate(sh.id)
		if err != nil {
			t.Fatal(err)
		}
		flipAt(t, path, off-4096+30) // in the CID
	}
	flipLogByte(t, s, both.id)
	mustGetShard(t, s, header) // the content is intact

	var findings []blob.ScrubFinding
	st, err := s.Scrub(ctx, blob.ScrubOptions{}, func(f blob.ScrubFinding) { findings = append(findings, f) })
	if err != nil {
		t.Fatal(err)
	}
	if st.Rewritten != 1 || st.Corrupt != 1 || len(findings) != 1 || !findings[0].CID.Equals(both.id) ||
		!errors.Is(findings[0].Err, blob.ErrCorrupt) {
		t.Fatalf("scrub of two damaged headers, one with damaged content: %+v, %v", st, findings)
	}
	mustGetShard(t, s, header)
	if path, _, _, _ := s.Locate(header.id); filepath.Base(path) == "0000000000000000" {
		t.Fatal("the shard with a damaged header was not written again")
	}
	if ok, _ := s.Has(ctx, both.id); ok {
		t.Fatal("the shard with damaged content is still held")
	}
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", both.id.String()+".*"))
	if len(q) != 1 {
		t.Fatalf("quarantine holds %v", q)
	}
	for _, sh := range shards {
		if !sh.id.Equals(both.id) {
			mustGetShard(t, s, sh)
		}
	}
	if st, err := s.Scrub(ctx, blob.ScrubOptions{}, nil); err != nil || st.Rewritten != 0 || st.Corrupt != 0 {
		t.Fatalf("second pass: %+v, %v", st, err)
	}
	// Compact rewrites the rest of the damaged segment (the one that took
	// appends), and a reopen sees every shard held.
	if cst, err := s.Compact(ctx); err != nil || cst.Moved != int64(len(shards)-2) {
		t.Fatalf("Compact: %+v, %v", cst, err)
	}
	s.Close()
	s = openLog(t, dir, blob.LogOptions{})
	for _, sh := range shards {
		if !sh.id.Equals(both.id) {
			mustGetShard(t, s, sh)
		}
	}
}

// flipAt flips a bit of the byte at off in the file at path.
func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
