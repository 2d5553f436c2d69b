package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cairn/internal/blob"
)

// TestLogScrubHeader: a damaged record header leaves the content intact,
// so Get still serves the shard; but the next open would end the
// segment's records there. Scrub reads the header too, and quarantines
// the shard.
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
	bad := shards[5] // 100_000 bytes: its content starts a block after its header
	path, off, _, err := s.Locate(bad.id)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	hdr := off - 4096 + 30 // in the CID
	if _, err := f.ReadAt(b, hdr); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, hdr); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustGetShard(t, s, bad) // the content is intact

	var findings []blob.ScrubFinding
	st, err := s.Scrub(ctx, blob.ScrubOptions{}, func(f blob.ScrubFinding) { findings = append(findings, f) })
	if err != nil {
		t.Fatal(err)
	}
	if st.Corrupt != 1 || len(findings) != 1 || !findings[0].CID.Equals(bad.id) || !errors.Is(findings[0].Err, blob.ErrCorrupt) ||
		!strings.Contains(findings[0].Err.Error(), "header") {
		t.Fatalf("scrub of a damaged header: %+v, %v", st, findings)
	}
	if ok, _ := s.Has(ctx, bad.id); ok {
		t.Fatal("the shard with a damaged header is still held")
	}
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine", bad.id.String()+".*"))
	if len(q) != 1 {
		t.Fatalf("quarantine holds %v", q)
	}
	for _, sh := range shards {
		if !sh.id.Equals(bad.id) {
			mustGetShard(t, s, sh)
		}
	}
}
