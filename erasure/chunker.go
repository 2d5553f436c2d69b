package erasure

import (
	"fmt"
	"io"
)

// DefaultChunkSize is the size of every chunk but an object's last: 1 MiB,
// the size IPFS users pass as --chunker=size-1048576.
const DefaultChunkSize = 1 << 20

// maxEmptyReads is how many consecutive (0, nil) reads Next tolerates before
// giving up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// Chunker splits a stream into fixed-size chunks, in bounded memory: it
// holds no buffer of its own and reads into the one the caller passes to
// Next. A Chunker is not safe for concurrent use.
type Chunker struct {
	r    io.Reader
	size int
	err  error // sticky: io.EOF once the stream is exhausted, or a read error
}

// NewChunker returns a Chunker that reads r in chunks of size bytes. A size
// of 0 or less means DefaultChunkSize.
func NewChunker(r io.Reader, size int) *Chunker {
	if size <= 0 {
		size = DefaultChunkSize
	}
	return &Chunker{r: r, size: size}
}

// Size returns the chunk size, the length Next's buffer must have at least.
func (c *Chunker) Size() int { return c.size }

// Next reads the next chunk into buf (len(buf) >= size) and returns buf[:n].
// Every chunk is exactly size bytes long except the last, which may be
// shorter but is never empty; a zero-length stream yields io.EOF at once.
// Next returns io.EOF, unwrapped, after the last chunk, and on every call
// after that.
//
// Any read error other than io.EOF is returned wrapped, together with no
// chunk: the bytes read since the previous chunk are lost, and Next returns
// the same error on every later call. A buffer shorter than size is an
// error wrapping io.ErrShortBuffer and does not consume the stream.
//
// The returned slice aliases buf; it is valid until buf is reused.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if len(buf) < c.size {
		return nil, fmt.Errorf("erasure: chunk buffer holds %d bytes, chunk size is %d: %w",
			len(buf), c.size, io.ErrShortBuffer)
	}
	buf = buf[:c.size]
	n, err := c.fill(buf)
	switch {
	case err == nil:
		return buf, nil
	case err == io.EOF:
		c.err = io.EOF
		if n == 0 {
			return nil, io.EOF
		}
		return buf[:n], nil
	default:
		c.err = fmt.Errorf("erasure: read chunk: %w", err)
		return nil, c.err
	}
}

// fill reads until buf is full, the stream ends (io.EOF, possibly with
// n > 0) or the reader fails. Unlike io.ReadFull it stops a reader that keeps
// returning (0, nil).
func (c *Chunker) fill(buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := c.r.Read(buf[n:])
		if m < 0 || m > len(buf)-n {
			return n, fmt.Errorf("reader returned %d bytes for a %d-byte read", m, len(buf)-n)
		}
		n += m
		if err != nil {
			return n, err // io.EOF itself means the end; see io.Reader
		}
		if m > 0 {
			empty = 0
			continue
		}
		if empty++; empty >= maxEmptyReads {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}
