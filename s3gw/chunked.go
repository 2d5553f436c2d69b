package s3gw

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"
)

const (
	// maxChunkSize bounds one aws-chunked chunk. Clients use 8 KiB to 1 MiB;
	// nothing of a chunk is buffered, the bound only rejects nonsense early.
	maxChunkSize = 16 << 20
	// maxChunkLine bounds a chunk header or trailer line.
	maxChunkLine = 4 << 10
	// maxTrailerLines bounds the trailer section.
	maxTrailerLines = 32
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

var errMalformedChunk = errInvalidRequest.withMessage("The aws-chunked payload is malformed.")

// chunkSigner chains the signatures of an aws-chunked payload from the seed
// signature of the request.
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string    // the previous signature
	mac     hash.Hash // HMAC with key, reused from chunk to chunk
	buf     []byte
}

func newChunkSigner(key []byte, amzDate, scope, seed string) *chunkSigner {
	return &chunkSigner{key: key, amzDate: amzDate, scope: scope, prev: seed, mac: hmac.New(sha256.New, key)}
}

// next returns the signature that a chunk whose data has SHA-256 sum must
// carry, and chains it.
func (c *chunkSigner) next(sum []byte) string {
	return c.sign("AWS4-HMAC-SHA256-PAYLOAD\n", emptySHA256+"\n", sum)
}

// nextTrailer returns the signature of a trailer section whose canonical
// form ("name:value\n" per header) has SHA-256 sum.
func (c *chunkSigner) nextTrailer(sum []byte) string {
	return c.sign("AWS4-HMAC-SHA256-TRAILER\n", "", sum)
}

func (c *chunkSigner) sign(algorithm, extra string, sum []byte) string {
	b := append(c.buf[:0], algorithm...)
	b = append(b, c.amzDate...)
	b = append(b, '\n')
	b = append(b, c.scope...)
	b = append(b, '\n')
	b = append(b, c.prev...)
	b = append(b, '\n')
	b = append(b, extra...)
	b = hex.AppendEncode(b, sum)
	c.buf = b
	c.mac.Reset()
	c.mac.Write(b)
	c.prev = hex.EncodeToString(c.mac.Sum(c.buf[len(b):len(b)]))
	return c.prev
}

// chunkedReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n
//	[trailer-name:value\r\n ... [x-amz-trailer-signature:sig\r\n]] \r\n
//
// With a signer it checks every chunk signature; the signature of a chunk is
// checked as soon as its last byte has been read, and a mismatch is returned
// as an error before the next chunk and long before io.EOF, so a consumer
// that commits only at EOF never commits unverified bytes. Data passes
// through: nothing is buffered beyond the bufio.Reader.
//
// Trailers (x-amz-checksum-*) are available from Trailer once Read has
// returned io.EOF.
type chunkedReader struct {
	br       *bufio.Reader
	signer   *chunkSigner // nil for unsigned chunks
	trailers bool         // a trailer section is announced (x-amz-trailer)
	decoded  int64        // x-amz-decoded-content-length, -1 if not sent

	trailer   map[string]string
	remaining int64  // data left in the current chunk
	sig       string // the current chunk's claimed signature
	h         hash.Hash
	total     int64
	err       error // sticky
}

func newChunkedReader(r io.Reader, signer *chunkSigner, trailers bool, decoded int64) *chunkedReader {
	c := &chunkedReader{
		br:       bufio.NewReaderSize(r, 64<<10),
		signer:   signer,
		trailers: trailers,
		decoded:  decoded,
		trailer:  map[string]string{},
	}
	if signer != nil {
		c.h = sha256.New()
	}
	return c
}

// Trailer returns the value of a trailing header (lower-case name).
func (c *chunkedReader) Trailer(name string) (string, bool) {
	v, ok := c.trailer[name]
	return v, ok
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.remaining == 0 {
		if err := c.nextChunk(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.remaining -= int64(n)
		c.total += int64(n)
		if c.decoded >= 0 && c.total > c.decoded {
			c.err = errInvalidRequest.withMessage("The decoded payload is longer than x-amz-decoded-content-length.")
			return n, c.err
		}
	}
	if err != nil {
		if err == io.EOF {
			err = ErrIncompleteBody
		}
		c.err = err
		return n, err
	}
	if c.remaining == 0 {
		if err := c.endChunk(); err != nil {
			c.err = err
			return n, err
		}
	}
	return n, nil
}

// nextChunk reads a chunk header. At the final, empty chunk it reads the
// trailer section and returns io.EOF.
func (c *chunkedReader) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	sizeText, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
	if err != nil || size < 0 || size > maxChunkSize {
		return errMalformedChunk
	}
	if c.signer != nil {
		c.sig = ""
		for _, e := range strings.Split(ext, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(e), "chunk-signature="); ok {
				c.sig = v
			}
		}
		if c.sig == "" {
			return errSignatureDoesNotMatch.withMessage("A chunk of the payload has no chunk-signature.")
		}
		c.h.Reset()
	}
	if size > 0 {
		c.remaining = size
		return nil
	}
	if err := c.checkChunkSignature(); err != nil {
		return err
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	if c.decoded >= 0 && c.total != c.decoded {
		return ErrIncompleteBody
	}
	return io.EOF
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunkedReader) endChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if line != "" {
		return errMalformedChunk
	}
	return c.checkChunkSignature()
}

func (c *chunkedReader) checkChunkSignature() error {
	if c.signer == nil {
		return nil
	}
	want := c.signer.next(c.h.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(c.sig)) {
		return errSignatureDoesNotMatch.withMessage("The chunk signature does not match.")
	}
	return nil
}

// readTrailers reads the section after the final chunk up to its closing
// empty line (or the end of the body). Clients differ in details: minio-go
// ends trailer lines with a bare LF and puts an empty line before
// x-amz-trailer-signature, the AWS SDKs do not, so empty lines before a
// signature that is still due are skipped.
func (c *chunkedReader) readTrailers() error {
	signed := c.signer != nil && c.trailers
	var canon bytes.Buffer
	gotSig := false
	for i := 0; ; i++ {
		if i > maxTrailerLines {
			return errMalformedChunk
		}
		line, err := c.readLine()
		if errors.Is(err, ErrIncompleteBody) && line == "" && (!signed || gotSig) {
			return nil // the body may end without the final CRLF
		}
		if err != nil {
			return err
		}
		if line == "" {
			if signed && !gotSig {
				continue
			}
			return nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return errMalformedChunk
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			if !signed || gotSig {
				return errMalformedChunk
			}
			sum := sha256.Sum256(canon.Bytes())
			if !hmac.Equal([]byte(c.signer.nextTrailer(sum[:])), []byte(value)) {
				return errSignatureDoesNotMatch.withMessage("The trailer signature does not match.")
			}
			gotSig = true
			continue
		}
		if gotSig {
			return errMalformedChunk
		}
		c.trailer[name] = value
		canon.WriteString(name + ":" + value + "\n")
	}
}

// readLine reads a line ending in LF (CRLF or a bare LF) and returns it
// without the line ending. The end of the body is ErrIncompleteBody.
func (c *chunkedReader) readLine() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(b) > maxChunkLine:
		return "", errMalformedChunk
	case err == io.EOF:
		return string(b), ErrIncompleteBody
	case err != nil:
		return "", err
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return string(b), nil
}
