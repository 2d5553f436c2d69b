package s3gw

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

const (
	testAK     = "AKIAIOSFODNN7EXAMPLE"
	testSK     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
)

// testEnv is a Server over a memBackend behind an httptest server, which
// records the payload modes and trailers clients used.
type testEnv struct {
	t    *testing.T
	be   *memBackend
	srv  *Server
	ts   *httptest.Server
	seen *seenModes
	// clock offset, settable by tests (RequestTimeTooSkewed).
	mu     sync.Mutex
	offset time.Duration
}

type seenModes struct {
	mu    sync.Mutex
	modes map[string]int // x-amz-content-sha256 ("hex" for hashes), and "trailer:<name>"
}

func (s *seenModes) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes[k]++
}

func (s *seenModes) has(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modes[k] > 0
}

func (s *seenModes) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for k, v := range s.modes {
		b.WriteString(k + "=" + strconv.Itoa(v) + " ")
	}
	return b.String()
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("S3GW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

func newTestEnv(t *testing.T, tls bool, mod ...func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, be: newMemBackend(), seen: &seenModes{modes: map[string]int{}}}
	cfg := Config{
		Backend:     e.be,
		Credentials: memCreds{testAK: testSK},
		Region:      testRegion,
		Logger:      testLogger(t),
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return time.Now().Add(e.offset)
		},
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := r.Header.Get("X-Amz-Content-Sha256")
		if len(mode) == 64 {
			mode = "hex"
		}
		if mode != "" {
			e.seen.add(mode)
		}
		for _, tr := range r.Header.Values("X-Amz-Trailer") {
			e.seen.add("trailer:" + tr)
		}
		for k := range r.Header {
			if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-checksum-") {
				e.seen.add("header:" + lk)
			}
		}
		srv.ServeHTTP(w, r)
	})
	if tls {
		e.ts = httptest.NewTLSServer(h)
	} else {
		e.ts = httptest.NewServer(h)
	}
	t.Cleanup(e.ts.Close)
	return e
}

func (e *testEnv) setOffset(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offset = d
}

func (e *testEnv) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(e.ts.URL, "http://"), "https://")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signedReq builds a request signed with SigV4 in the header (minio-go's
// signer, an independent implementation), its payload hashed.
func (e *testEnv) signedReq(method, path string, body []byte, hdr ...string) *http.Request {
	return e.signedReqAs(testAK, testSK, method, path, body, hdr...)
}

func (e *testEnv) signedReqAs(ak, sk, method, path string, body []byte, hdr ...string) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if req.Header.Get("X-Amz-Content-Sha256") == "" {
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	}
	return signer.SignV4(*req, ak, sk, "", testRegion)
}

func (e *testEnv) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.Header.Get("X-Amz-Request-Id") == "" {
		e.t.Errorf("%s %s: no x-amz-request-id", req.Method, req.URL)
	}
	return resp, b
}

// must runs a signed request and requires status.
func (e *testEnv) must(status int, method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	resp, b := e.do(e.signedReq(method, path, body, hdr...))
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	return resp, b
}

// s3Code returns the Code of an S3 error document.
func s3Code(t *testing.T, body []byte) string {
	t.Helper()
	var er struct {
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal(body, &er); err != nil {
		t.Fatalf("not an S3 error document: %v: %q", err, body)
	}
	if er.RequestID == "" {
		t.Errorf("error without RequestId: %s", body)
	}
	return er.Code
}

func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (%s): %s", resp.StatusCode, status, code, body)
	}
	if resp.Request != nil && resp.Request.Method == http.MethodHead {
		if len(body) != 0 {
			t.Fatalf("HEAD error with a body: %q", body)
		}
		return
	}
	if got := s3Code(t, body); got != code {
		t.Fatalf("code %q, want %q: %s", got, code, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("error Content-Type %q", ct)
	}
}

// signAgain signs req again, after a change of Host for instance.
func signAgain(req *http.Request) *http.Request {
	req.Header.Del("Authorization")
	return signer.SignV4(*req, testAK, testSK, "", testRegion)
}
