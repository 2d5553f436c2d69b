package erasure

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// stutterReader returns (0, nil) before every real read.
type stutterReader struct {
	r     io.Reader
	stall bool
}

func (s *stutterReader) Read(p []byte) (int, error) {
	s.stall = !s.stall
	if s.stall {
		return 0, nil
	}
	return s.r.Read(p)
}

// failAfter returns its data, then err instead of io.EOF.
func failAfter(data []byte, err error) io.Reader {
	return io.MultiReader(bytes.NewReader(data), iotest.ErrReader(err))
}

// readChunks drains c with a buffer of exactly its size.
func readChunks(t *testing.T, c *Chunker) ([][]byte, error) {
	t.Helper()
	var chunks [][]byte
	buf := make([]byte, c.Size())
	for {
		chunk, err := c.Next(buf)
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, append([]byte(nil), chunk...))
	}
}

func TestChunkerSplits(t *testing.T) {
	const size = 16
	readers := map[string]func([]byte) io.Reader{
		"plain":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"stutter":  func(b []byte) io.Reader { return &stutterReader{r: bytes.NewReader(b)} },
	}
	lengths := []int{0, 1, size - 1, size, size + 1, 3 * size, 3*size + 5}
	for name, mk := range readers {
		for _, n := range lengths {
			data := bytesOf(uint64(n), n)
			c := NewChunker(mk(data), size)
			chunks, err := readChunks(t, c)
			if err != io.EOF {
				t.Fatalf("%s/%d: stream ended with %v, want io.EOF", name, n, err)
			}
			if want := (n + size - 1) / size; len(chunks) != want {
				t.Fatalf("%s/%d: %d chunks, want %d", name, n, len(chunks), want)
			}
			for i, ch := range chunks {
				last := i == len(chunks)-1
				if !last && len(ch) != size || last && (len(ch) < 1 || len(ch) > size) {
					t.Fatalf("%s/%d: chunk %d is %d bytes", name, n, i, len(ch))
				}
			}
			if got := bytes.Join(chunks, nil); !bytes.Equal(got, data) {
				t.Fatalf("%s/%d: chunks do not join back to the stream", name, n)
			}
			if _, err := c.Next(make([]byte, size)); err != io.EOF {
				t.Fatalf("%s/%d: Next after the end: %v, want io.EOF", name, n, err)
			}
		}
	}
}

func TestChunkerErrors(t *testing.T) {
	const size = 16
	boom := errors.New("boom")
	tests := []struct {
		name   string
		r      io.Reader
		chunks int // good chunks before the error
		want   error
	}{
		{"error at once", iotest.ErrReader(boom), 0, boom},
		{"error mid chunk", failAfter(bytesOf(1, 5), boom), 0, boom},
		{"error after a chunk", failAfter(bytesOf(2, size+3), boom), 1, boom},
		{"error on a boundary", failAfter(bytesOf(3, 2*size), boom), 2, boom},
		{"unexpected EOF", failAfter(bytesOf(4, 3), io.ErrUnexpectedEOF), 0, io.ErrUnexpectedEOF},
		{"timeout", iotest.TimeoutReader(bytes.NewReader(bytesOf(5, 3*size))), 1, iotest.ErrTimeout},
		{"no progress", readerFunc(func([]byte) (int, error) { return 0, nil }), 0, io.ErrNoProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChunker(tc.r, size)
			chunks, err := readChunks(t, c)
			if len(chunks) != tc.chunks {
				t.Errorf("%d chunks before the error, want %d", len(chunks), tc.chunks)
			}
			if !errors.Is(err, tc.want) || err == tc.want {
				t.Fatalf("error %v, want %v wrapped", err, tc.want)
			}
			if _, again := c.Next(make([]byte, size)); again != err {
				t.Fatalf("Next after an error: %v, want the same %v", again, err)
			}
		})
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestChunkerShortBuffer(t *testing.T) {
	c := NewChunker(bytes.NewReader([]byte("0123456789")), 8)
	if _, err := c.Next(make([]byte, 7)); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("Next(7-byte buffer): %v, want io.ErrShortBuffer", err)
	}
	// The stream was not touched: a good buffer gets all of it.
	chunk, err := c.Next(make([]byte, 100))
	if err != nil || string(chunk) != "01234567" {
		t.Fatalf("Next = %q, %v; want \"01234567\"", chunk, err)
	}
}

func TestChunkerDefaultSize(t *testing.T) {
	for _, size := range []int{0, -1} {
		if got := NewChunker(bytes.NewReader(nil), size).Size(); got != DefaultChunkSize {
			t.Errorf("NewChunker(size %d).Size() = %d, want %d", size, got, DefaultChunkSize)
		}
	}
}
