package s3gw

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The worked examples of the S3 API reference ("Signature Calculations for
// the Authorization Header", "... Transferring Payload in Multiple Chunks",
// "... trailing headers", "Authenticating Requests: Using Query
// Parameters"), with their published signatures.

var docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

const docCred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

func docServer(t testing.TB, now time.Time) *Server {
	t.Helper()
	s, err := New(Config{
		Backend:     newMemBackend(),
		Credentials: memCreds{testAK: testSK},
		Now:         func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func docRequest(method, target string, body io.Reader, hdr map[string]string, signed, sig string) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = "examplebucket.s3.amazonaws.com"
	if strings.HasPrefix(target, "/examplebucket/") {
		r.Host = "s3.amazonaws.com"
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if sig != "" {
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docCred+",SignedHeaders="+signed+",Signature="+sig)
	}
	return r
}

func TestSigV4DocExamples(t *testing.T) {
	s := docServer(t, docTime)
	cases := []struct {
		name, method, target string
		hdr                  map[string]string
		signed, sig          string
	}{
		{
			"GET object with range", "GET", "/test.txt",
			map[string]string{"Range": "bytes=0-9", "X-Amz-Content-Sha256": emptySHA256, "X-Amz-Date": "20130524T000000Z"},
			"host;range;x-amz-content-sha256;x-amz-date",
			"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			"PUT object", "PUT", "/test$file.text",
			map[string]string{
				"Date":                 "Fri, 24 May 2013 00:00:00 GMT",
				"X-Amz-Date":           "20130524T000000Z",
				"X-Amz-Storage-Class":  "REDUCED_REDUNDANCY",
				"X-Amz-Content-Sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
			},
			"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			"98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			"GET bucket lifecycle", "GET", "/?lifecycle",
			map[string]string{"X-Amz-Content-Sha256": emptySHA256, "X-Amz-Date": "20130524T000000Z"},
			"host;x-amz-content-sha256;x-amz-date",
			"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			"GET bucket (list objects)", "GET", "/?max-keys=2&prefix=J",
			map[string]string{"X-Amz-Content-Sha256": emptySHA256, "X-Amz-Date": "20130524T000000Z"},
			"host;x-amz-content-sha256;x-amz-date",
			"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := io.Reader(http.NoBody)
			if c.method == "PUT" {
				body = strings.NewReader("Welcome to Amazon S3.")
			}
			r := docRequest(c.method, c.target, body, c.hdr, c.signed, c.sig)
			a, err := s.authenticate(r)
			if err != nil {
				t.Fatalf("published signature refused: %v", err)
			}
			if a.accessKey != testAK {
				t.Fatalf("access key %q", a.accessKey)
			}
			if c.method == "PUT" {
				p, err := openPayload(r, a, true)
				if err != nil {
					t.Fatal(err)
				}
				if b, err := io.ReadAll(p); err != nil || string(b) != "Welcome to Amazon S3." {
					t.Fatalf("payload %q, %v", b, err)
				}
			}
			// One character off anywhere in the signature fails.
			bad := c.sig[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", c.sig[63])+1)%16])
			r = docRequest(c.method, c.target, http.NoBody, c.hdr, c.signed, bad)
			if _, err := s.authenticate(r); !errors.Is(err, errSignatureDoesNotMatch) {
				t.Fatalf("tampered signature: %v", err)
			}
		})
	}
}

func TestSigV4DocPresigned(t *testing.T) {
	const target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	for _, c := range []struct {
		now  time.Time
		want error
	}{
		{docTime.Add(time.Hour), nil},
		{docTime.Add(24*time.Hour + time.Second), errAccessDenied}, // expired
		{docTime.Add(-time.Hour), errAccessDenied},                 // not yet valid
	} {
		r := docRequest("GET", target, nil, nil, "", "")
		a, err := docServer(t, c.now).authenticate(r)
		if !errors.Is(err, c.want) {
			t.Fatalf("at %v: %v, want %v", c.now, err, c.want)
		}
		if err == nil && (!a.presigned || a.payload != unsignedPayload) {
			t.Fatalf("auth %+v", a)
		}
	}
	r := docRequest("GET", strings.Replace(target, "test.txt", "test2.txt", 1), nil, nil, "", "")
	if _, err := docServer(t, docTime).authenticate(r); !errors.Is(err, errSignatureDoesNotMatch) {
		t.Fatalf("other key: %v", err)
	}
	r = docRequest("GET", strings.Replace(target, "86400", "604801", 1), nil, nil, "", "")
	if _, err := docServer(t, docTime).authenticate(r); !errors.Is(err, errAuthorizationQueryParams) {
		t.Fatalf("8-day expiry: %v", err)
	}
}

// docChunkedBody frames 65,536 + 1,024 bytes of 'a' as in the examples.
func docChunkedBody(sigs [3]string, trailer string) []byte {
	var b bytes.Buffer
	for i, n := range []int{65536, 1024, 0} {
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", n, sigs[i])
		if n > 0 {
			b.WriteString(strings.Repeat("a", n) + "\r\n")
		}
	}
	b.WriteString(trailer)
	b.WriteString("\r\n")
	return b.Bytes()
}

var docChunkSigs = [3]string{
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
}

var docTrailerSigs = [3]string{
	"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
	"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
	"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
}

const docTrailer = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"

func docChunkedRequest(body []byte, trailer bool) *http.Request {
	hdr := map[string]string{
		"Content-Encoding":             "aws-chunked",
		"X-Amz-Date":                   "20130524T000000Z",
		"X-Amz-Storage-Class":          "REDUCED_REDUNDANCY",
		"X-Amz-Decoded-Content-Length": "66560",
		"X-Amz-Content-Sha256":         streamingPayload,
	}
	signed := "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"
	seed := "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	if trailer {
		hdr["X-Amz-Content-Sha256"] = streamingPayloadTrailer
		hdr["X-Amz-Trailer"] = "x-amz-checksum-crc32c"
		signed = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
		seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
	}
	return docRequest("PUT", "/examplebucket/chunkObject.txt", bytes.NewReader(body), hdr, signed, seed)
}

// truncatedBody is a body that ends early, as net/http reports it.
type truncatedBody struct{ r io.Reader }

func (b truncatedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func readDocChunked(t *testing.T, body []byte, trailer bool) ([]byte, *payload, error) {
	t.Helper()
	r := docChunkedRequest(body, trailer)
	if !trailer && len(body) < 66824 { // sent with the full Content-Length
		r.ContentLength = 66824
		r.Body = io.NopCloser(truncatedBody{bytes.NewReader(body)})
	}
	a, err := docServer(t, docTime).authenticate(r)
	if err != nil {
		t.Fatalf("published seed signature refused: %v", err)
	}
	p, err := openPayload(r, a, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.size != 66560 {
		t.Fatalf("size %d", p.size)
	}
	got, err := io.ReadAll(p)
	return got, p, err
}

func TestSigV4DocChunked(t *testing.T) {
	body := docChunkedBody(docChunkSigs, "")
	if len(body) != 66824 {
		t.Fatalf("encoded length %d, the example says 66824", len(body))
	}
	got, _, err := readDocChunked(t, body, false)
	if err != nil || !bytes.Equal(got, bytes.Repeat([]byte("a"), 66560)) {
		t.Fatalf("decoded %d bytes, %v", len(got), err)
	}

	// Tampering with data, a chunk signature, or dropping the final chunk.
	tampered := bytes.Clone(body)
	tampered[66000] = 'b'
	if _, _, err := readDocChunked(t, tampered, false); !errors.Is(err, errSignatureDoesNotMatch) {
		t.Fatalf("tampered data: %v", err)
	}
	sigs := docChunkSigs
	sigs[2] = strings.Repeat("0", 64)
	if _, _, err := readDocChunked(t, docChunkedBody(sigs, ""), false); !errors.Is(err, errSignatureDoesNotMatch) {
		t.Fatalf("tampered final signature: %v", err)
	}
	if _, _, err := readDocChunked(t, body[:66000], false); !errors.Is(err, ErrIncompleteBody) {
		t.Fatalf("truncated: %v", err)
	}
}

func TestSigV4DocChunkedTrailer(t *testing.T) {
	got, p, err := readDocChunked(t, docChunkedBody(docTrailerSigs, docTrailer), true)
	if err != nil || len(got) != 66560 {
		t.Fatalf("decoded %d bytes, %v", len(got), err)
	}
	if p.sum == nil || p.sum.got != "sOO8/Q==" {
		t.Fatalf("crc32c not verified: %+v", p.sum)
	}
	// A wrong checksum with its (recomputed-less) signature fails the signature.
	bad := strings.Replace(docTrailer, "sOO8/Q==", "AAAAAA==", 1)
	if _, _, err := readDocChunked(t, docChunkedBody(docTrailerSigs, bad), true); !errors.Is(err, errSignatureDoesNotMatch) {
		t.Fatalf("tampered trailer: %v", err)
	}
}

func TestChunkedUnsignedTrailer(t *testing.T) {
	body := "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"
	for _, c := range []struct {
		body string
		want error
	}{
		{body, nil},
		{strings.Replace(body, "NSRBwg==", "AAAAAA==", 1), errBadDigest},
		// minio-go: LF-terminated trailer and an extra CRLF.
		{"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\n\r\n\r\n", nil},
		{"3\r\nab", ErrIncompleteBody},
		{"zz\r\nabc\r\n0\r\n\r\n", errMalformedChunk},
	} {
		r := httptest.NewRequest("PUT", "/b/k", strings.NewReader(c.body))
		r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		r.Header.Set("X-Amz-Decoded-Content-Length", "3")
		p, err := openPayload(r, &authInfo{payload: streamingUnsignedTrailer}, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(p)
		if !errors.Is(err, c.want) {
			t.Fatalf("%q: %v, want %v", c.body, err, c.want)
		}
		if err == nil && string(got) != "abc" {
			t.Fatalf("%q: read %q", c.body, got)
		}
	}
}

func TestChecksumAlgorithms(t *testing.T) {
	// Check values of "123456789" (the CRC catalogue's), base64 of the
	// big-endian sum, as S3 sends them.
	want := map[string]uint64{
		"CRC32":     0xCBF43926,
		"CRC32C":    0xE3069283,
		"CRC64NVME": 0xAE8B14860A799888,
	}
	for _, a := range checksumAlgos {
		h := a.new()
		h.Write([]byte("123456789"))
		sum := h.Sum(nil)
		if len(sum) != a.size {
			t.Fatalf("%s: %d bytes", a.name, len(sum))
		}
		if w, ok := want[a.name]; ok {
			var got uint64
			for _, b := range sum {
				got = got<<8 | uint64(b)
			}
			if got != w {
				t.Fatalf("%s = %x, want %x", a.name, got, w)
			}
		}
	}
	_ = crc64.Size
}

func TestURIEncode(t *testing.T) {
	for in, want := range map[string]string{
		"/test$file.text": "/test%24file.text",
		"/a b+c~d":        "/a%20b%2Bc~d",
		"/ключ":           "/%D0%BA%D0%BB%D1%8E%D1%87",
		"/a//b/":          "/a//b/",
	} {
		if got := uriEncode(in, false); got != want {
			t.Errorf("uriEncode(%q) = %q, want %q", in, got, want)
		}
	}
	if got := canonicalQuery("prefix=J&max-keys=2&list-type=2&a=%2F&b=x+y&c"); got != "a=%2F&b=x%20y&c=&list-type=2&max-keys=2&prefix=J" {
		t.Errorf("canonicalQuery = %q", got)
	}
}
