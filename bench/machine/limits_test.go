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

// The chunk kernels run at least one step, however short d is.
func TestKernels(t *testing.T) {
	const d = 20 * time.Millisecond
	if v := MD5(d); v <= 0 {
		t.Fatalf("md5: %v", v)
	}
	if v := BLAKE3(d); v <= 0 {
		t.Fatalf("blake3: %v", v)
	}
	if v := HighwayHash(d); v <= 0 {
		t.Fatalf("highwayhash: %v", v)
	}
	if v := Copy(d); v <= 0 {
		t.Fatalf("copy: %v", v)
	}
	if v := MD5(0); v <= 0 {
		t.Fatalf("md5 for no time: %v, want one step", v)
	}
	if v, err := RSEncode(4, 2, d); err != nil || v <= 0 {
		t.Fatalf("rs encode: %v, %v", v, err)
	}
	if _, err := RSEncode(0, 2, d); err == nil {
		t.Fatal("a 0+2 code was accepted")
	}
	if v, err := AEAD(d); err != nil || v <= 0 {
		t.Fatalf("aead: %v, %v", v, err)
	}
}

// TLS runs over one connection and over several, and reports the TLS 1.3
// suite it got.
func TestTLS(t *testing.T) {
	for _, conns := range []int{1, 3} {
		r, err := TLS(conns, 50*time.Millisecond)
		if err != nil || r.MiBps <= 0 {
			t.Fatalf("%d connections: %+v, %v", conns, r, err)
		}
		switch r.Suite {
		case "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256":
		default:
			t.Fatalf("%d connections: suite %q, not TLS 1.3's", conns, r.Suite)
		}
	}
	if _, err := TLS(0, time.Millisecond); err == nil {
		t.Fatal("no connections accepted")
	}
}
