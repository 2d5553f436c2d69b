package machine

import (
	"os"
	"testing"
	"time"
)

// The probes run briefly and must give a positive rate; their figures are
// not checked (no timed assertions).
func TestProbes(t *testing.T) {
	if v, err := Loopback(100 * time.Millisecond); err != nil || v <= 0 {
		t.Fatalf("loopback: %v, %v", v, err)
	}
	dir := t.TempDir()
	for _, s := range []Sync{SyncAtEnd, SyncEach} {
		if v, err := DiskWrite(dir, 4<<20, 1<<20, s); err != nil || v <= 0 {
			t.Fatalf("disk write (sync %d): %v, %v", s, v, err)
		}
	}
	if _, err := DiskWrite(dir, 1, 0, SyncAtEnd); err == nil {
		t.Fatal("a zero block size was accepted")
	}
	if v, err := FsyncLatency(dir, 3); err != nil || v <= 0 {
		t.Fatalf("fsync: %v, %v", v, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("probes left %d files", len(entries))
	}
	if v := SHA256(4 << 20); v <= 0 {
		t.Fatalf("sha256: %v", v)
	}
	if v, err := Reconstruct(4, 2, 1<<20, 50*time.Millisecond); err != nil || v <= 0 {
		t.Fatalf("reconstruct: %v, %v", v, err)
	}
	if _, err := Reconstruct(0, 2, 1<<20, time.Millisecond); err == nil {
		t.Fatal("a 0+2 code was accepted")
	}
}
