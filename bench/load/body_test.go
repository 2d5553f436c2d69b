package load

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestBodyDeterministicAndChunkingIndependent(t *testing.T) {
	const size = 100_003
	whole, err := io.ReadAll(NewBody("k", size))
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != size {
		t.Fatalf("len %d, want %d", len(whole), size)
	}
	// Odd-sized reads give the same bytes as large ones.
	for _, n := range []int{1, 3, 7, 8, 9, 4095} {
		var got bytes.Buffer
		buf := make([]byte, n)
		if _, err := io.CopyBuffer(&got, struct{ io.Reader }{NewBody("k", size)}, buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), whole) {
			t.Fatalf("reads of %d bytes give other content", n)
		}
	}
	if err := iotest.TestReader(NewBody("k", size), whole); err != nil {
		t.Fatal(err)
	}
	other, _ := io.ReadAll(NewBody("k2", size))
	if bytes.Equal(other[:64], whole[:64]) {
		t.Fatal("two keys give the same content")
	}
	if d := DigestOf("k", size); d.Size != size || d == DigestOf("k2", size) {
		t.Fatalf("digest %+v", d)
	}
}

func TestBodySeek(t *testing.T) {
	const size = 10_007
	whole, _ := io.ReadAll(NewBody("k", size))
	b := NewBody("k", size)
	for _, off := range []int64{0, 1, 7, 8, 9, 4096, 5003, size - 1, size} {
		if pos, err := b.Seek(off, io.SeekStart); err != nil || pos != off {
			t.Fatalf("Seek(%d) = %d, %v", off, pos, err)
		}
		rest, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(rest, whole[off:]) {
			t.Fatalf("after Seek(%d): %d bytes, %v, differ from the object's", off, len(rest), err)
		}
	}
	// Relative seeks, from a position inside a word.
	b.Seek(3, io.SeekStart)
	b.Read(make([]byte, 2))
	if pos, _ := b.Seek(0, io.SeekCurrent); pos != 5 {
		t.Fatalf("position %d, want 5", pos)
	}
	if pos, _ := b.Seek(-10, io.SeekEnd); pos != size-10 {
		t.Fatalf("position %d, want %d", pos, size-10)
	}
	if rest, _ := io.ReadAll(b); !bytes.Equal(rest, whole[size-10:]) {
		t.Fatal("the last 10 bytes differ")
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("a negative position was accepted")
	}
}

func BenchmarkBody(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	body := NewBody("bench", 1<<62)
	for b.Loop() {
		body.Read(buf)
	}
}
