package s3gw

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// payload is a request body as a handler hands it to the Backend: decoded
// from aws-chunked if need be, and verified while it is read. Every check
// (x-amz-content-sha256, chunk signatures, x-amz-checksum-*, lengths) fails
// a Read no later than the one that would have returned io.EOF, so a Backend
// that commits only after EOF never stores a payload that failed.
type payload struct {
	r    io.Reader
	size int64           // the decoded size, -1 if unknown
	sum  *checksumReader // nil when no x-amz-checksum-* was asked for
	// failed is the first error the chain returned. When the Backend fails,
	// this explains why better than whatever the Backend wrapped it in.
	failed error
}

func (p *payload) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF && p.failed == nil {
		p.failed = err
	}
	return n, err
}

// cause returns the payload's own error if err (from the Backend) is set and
// the payload failed, err otherwise.
func (p *payload) cause(err error) error {
	if err != nil && p.failed != nil {
		return p.failed
	}
	return err
}

// echoChecksum sets the response header of the verified checksum, as S3 does
// for PutObject and UploadPart.
func (p *payload) echoChecksum(w http.ResponseWriter) {
	if p.sum != nil && p.sum.got != "" {
		w.Header()[p.sum.algo.header] = []string{p.sum.got}
	}
}

// openPayload prepares r's body for reading. With checksums, the
// x-amz-checksum-* header or trailer is verified too (PutObject, UploadPart,
// DeleteObjects: not CompleteMultipartUpload, whose checksum headers describe
// the object, not the body).
func openPayload(r *http.Request, a *authInfo, checksums bool) (*payload, error) {
	body := io.Reader(rawBody{r.Body})
	size := r.ContentLength
	var chunked *chunkedReader
	trailer := r.Header.Get("X-Amz-Trailer")

	switch mode := a.payload; mode {
	case streamingPayload, streamingPayloadTrailer, streamingUnsignedTrailer:
		decoded := int64(-1)
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, errInvalidArgument.withMessage("x-amz-decoded-content-length must be a non-negative integer.")
			}
			decoded = n
		} else if mode != streamingUnsignedTrailer {
			return nil, (&APIError{"MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."}).
				withMessage("An aws-chunked payload needs x-amz-decoded-content-length.")
		}
		var signer *chunkSigner
		if mode != streamingUnsignedTrailer {
			signer = newChunkSigner(a.signingKey, a.amzDate, a.scope, a.signature)
		}
		if trailer != "" && mode == streamingPayload {
			return nil, errInvalidRequest.withMessage("x-amz-trailer needs a -TRAILER x-amz-content-sha256.")
		}
		// A -TRAILER payload ends with a signed trailer section, even if
		// x-amz-trailer announced nothing.
		chunked = newChunkedReader(body, signer, trailer != "" || mode == streamingPayloadTrailer, decoded)
		body, size = chunked, decoded
	case unsignedPayload:
	default: // a hex SHA-256 of the body
		body = &sha256Reader{r: body, h: sha256.New(), want: mode}
	}
	if trailer != "" && chunked == nil {
		return nil, errInvalidRequest.withMessage("x-amz-trailer needs an aws-chunked payload.")
	}

	p := &payload{r: body, size: size}
	if !checksums {
		return p, nil
	}
	cs, err := requestedChecksum(r.Header, trailer)
	if err != nil {
		return nil, err
	}
	if cs != nil {
		if cs.want == "" {
			cs.trailer = chunked
		}
		cs.r, cs.h = body, cs.algo.new()
		p.r, p.sum = cs, cs
	}
	return p, nil
}

// rawBody is the request body as sent: a body shorter than its
// Content-Length is IncompleteBody.
type rawBody struct{ r io.Reader }

func (b rawBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrIncompleteBody
	}
	return n, err
}

// sha256Reader checks the body against the hex SHA-256 of
// x-amz-content-sha256.
type sha256Reader struct {
	r    io.Reader
	h    hash.Hash
	want string
	err  error
}

func (s *sha256Reader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(s.h.Sum(nil)) != s.want {
		err = errContentSHA256Mismatch
	}
	if err != nil {
		s.err = err
	}
	return n, err
}

// checksumAlgo is one of S3's additional checksums.
type checksumAlgo struct {
	name   string // as in x-amz-sdk-checksum-algorithm
	header string // x-amz-checksum-<name>, lower case
	size   int
	new    func() hash.Hash
}

// crc64NVME is the CRC-64/NVME polynomial 0xAD93D23594C93659, bit-reversed
// for hash/crc64 (which, like NVMe, reflects and complements).
const crc64NVME = 0x9A6C9329AC4BC9B5

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	nvmeTable  = crc64.MakeTable(crc64NVME)
)

var checksumAlgos = []*checksumAlgo{
	{"CRC32", "x-amz-checksum-crc32", 4, func() hash.Hash { return crc32.NewIEEE() }},
	{"CRC32C", "x-amz-checksum-crc32c", 4, func() hash.Hash { return crc32.New(castagnoli) }},
	{"CRC64NVME", "x-amz-checksum-crc64nvme", 8, func() hash.Hash { return crc64.New(nvmeTable) }},
	{"SHA1", "x-amz-checksum-sha1", 20, sha1.New},
	{"SHA256", "x-amz-checksum-sha256", 32, sha256.New},
}

// requestedChecksum finds the checksum a request asks to verify: a
// x-amz-checksum-* header, or one announced by x-amz-trailer. At most one.
func requestedChecksum(h http.Header, trailer string) (*checksumReader, error) {
	var found *checksumReader
	n := 0
	for _, t := range strings.Split(trailer, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if !strings.HasPrefix(t, "x-amz-checksum-") {
			continue
		}
		a := algoByHeader(t)
		if a == nil {
			return nil, errInvalidRequest.withMessage("The value specified in the x-amz-trailer header is not supported")
		}
		found = &checksumReader{algo: a}
		n++
	}
	for _, a := range checksumAlgos {
		v := h.Get(a.header)
		if v == "" {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(v); err != nil || len(raw) != a.size {
			return nil, errInvalidRequest.withMessage("Value for %s header is invalid.", a.header)
		}
		found = &checksumReader{algo: a, want: v}
		n++
	}
	if n > 1 {
		return nil, errInvalidRequest.withMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	if n == 0 {
		for k := range h {
			lk := strings.ToLower(k)
			switch lk {
			case "x-amz-checksum-type", "x-amz-checksum-algorithm", "x-amz-checksum-mode":
				continue
			}
			if strings.HasPrefix(lk, "x-amz-checksum-") && algoByHeader(lk) == nil {
				return nil, errInvalidRequest.withMessage("The %s checksum is not supported.", lk)
			}
		}
	}
	return found, nil
}

func algoByHeader(header string) *checksumAlgo {
	for _, a := range checksumAlgos {
		if a.header == header {
			return a
		}
	}
	return nil
}

// checksumReader verifies an x-amz-checksum-* value at EOF; the value comes
// from the header (want) or from the aws-chunked trailer.
type checksumReader struct {
	r       io.Reader
	algo    *checksumAlgo
	h       hash.Hash
	want    string
	trailer *chunkedReader
	got     string // the verified value, set at EOF
	err     error
}

func (c *checksumReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		if cerr := c.check(); cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *checksumReader) check() error {
	sum := base64.StdEncoding.EncodeToString(c.h.Sum(nil))
	want := c.want
	if c.trailer != nil {
		v, ok := c.trailer.Trailer(c.algo.header)
		if !ok {
			return errInvalidRequest.withMessage("The %s trailer announced by x-amz-trailer is missing.", c.algo.header)
		}
		want = v
	}
	if want != sum {
		return errBadDigest.withMessage("The %s you specified did not match the calculated checksum.", c.algo.name)
	}
	c.got = sum
	return nil
}
