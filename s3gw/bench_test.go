package s3gw

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// BenchmarkSigV4Header verifies a header-signed GET: canonical request,
// signing key and signature.
func BenchmarkSigV4Header(b *testing.B) {
	now := time.Now().UTC()
	s := docServer(b, now)
	req := httptest.NewRequest("GET", "http://localhost/bucket/some/key.txt?partNumber=1&x-id=GetObject", nil)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	req.Header.Set("Range", "bytes=0-1023")
	req = signer.SignV4(*req, testAK, testSK, "", testRegion)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.authenticate(req); err != nil {
			b.Fatal(err)
		}
	}
}

// plainReader hides bytes.Reader's WriterTo so that io.Copy goes through a
// buffer, as it does for a request body.
type plainReader struct{ io.Reader }

const benchSize = 16 << 20

// BenchmarkChunkedDecoder decodes a signed aws-chunked payload in 64 KiB
// chunks (minio-go's framing), checking every chunk signature.
func BenchmarkChunkedDecoder(b *testing.B) {
	data := randBytes(benchSize, 1)
	req, _ := http.NewRequest("PUT", "http://localhost/bucket/key", bytes.NewReader(data))
	req = signer.StreamingSignV4(req, testAK, testSK, "", testRegion, int64(len(data)), time.Now().UTC(), closeHasher{sha256.New()})
	wire, err := io.ReadAll(req.Body)
	if err != nil {
		b.Fatal(err)
	}
	s := docServer(b, time.Now())
	r := httptest.NewRequest("PUT", "http://localhost/bucket/key", bytes.NewReader(wire))
	r.Header = req.Header
	r.Host = req.Host
	a, err := s.authenticate(r)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(plainReader{bytes.NewReader(wire)})
		p, err := openPayload(r, a, false)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, p); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkChunkedDecoderUnsigned decodes STREAMING-UNSIGNED-PAYLOAD-TRAILER
// with a CRC32C trailer.
func BenchmarkChunkedDecoderUnsigned(b *testing.B) {
	data := randBytes(benchSize, 1)
	req, _ := http.NewRequest("PUT", "http://localhost/bucket/key", bytes.NewReader(data))
	h := crc32cBase64(data)
	req = signer.UnsignedTrailer(*req, http.Header{"X-Amz-Checksum-Crc32c": {h}})
	req.ContentLength = int64(len(data))
	wire, err := io.ReadAll(req.Body)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("PUT", "http://localhost/bucket/key", nil)
	r.Header = req.Header
	r.Header.Set("X-Amz-Decoded-Content-Length", "16777216")
	a := &authInfo{payload: streamingUnsignedTrailer}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(plainReader{bytes.NewReader(wire)})
		p, err := openPayload(r, a, true)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, p); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkPlainCopy is the baseline: the same bytes through io.Copy.
func BenchmarkPlainCopy(b *testing.B) {
	data := randBytes(benchSize, 1)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if n, err := io.Copy(io.Discard, plainReader{bytes.NewReader(data)}); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
	}
}

func crc32cBase64(data []byte) string {
	a := algoByHeader("x-amz-checksum-crc32c")
	h := a.new()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
