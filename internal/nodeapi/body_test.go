package nodeapi

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestBodyGuard checks that a request body lent to net/http reads the
// caller's bytes in full, from every reader GetBody makes, and that once
// released no reader touches the buffer again.
func TestBodyGuard(t *testing.T) {
	data := bytes.Repeat([]byte("shard bytes "), 20_000) // 240 KB: several WriteTo pieces
	g := &bodyGuard{data: data}

	r1, _ := g.open()
	got, err := io.ReadAll(r1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Read: %d bytes, %v; want the %d bytes lent", len(got), err, len(data))
	}
	r2, _ := g.open()
	var w bytes.Buffer
	if n, err := r2.(io.WriterTo).WriteTo(&w); err != nil || n != int64(len(data)) || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("WriteTo: %d bytes, %v", n, err)
	}

	r3, _ := g.open()
	if _, err := r3.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	g.release()
	if n, err := r3.Read(make([]byte, 10)); n != 0 || !errors.Is(err, errBodyReleased) {
		t.Errorf("Read after release: %d, %v; want 0, errBodyReleased", n, err)
	}
	r4, _ := g.open()
	if n, err := r4.(io.WriterTo).WriteTo(io.Discard); n != 0 || !errors.Is(err, errBodyReleased) {
		t.Errorf("WriteTo after release: %d, %v; want 0, errBodyReleased", n, err)
	}
}
