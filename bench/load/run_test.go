package load

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeS3 answers just enough of S3 for Run with Keep: HEAD of a bucket,
// PUT and GET of objects, path-style. It does not check signatures. Its
// GETs return what was PUT, changed as mode says.
type fakeS3 struct {
	// mode is "", "corrupt" (GETs return one byte flipped), "short"
	// (one byte missing) or "busy" (the first PUT of each key is answered
	// 503 SlowDown).
	mode string

	mu      sync.Mutex
	objects map[string][]byte
	refused map[string]bool
	puts    int // PUTs answered 200
	gets    int // GETs answered
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	switch {
	case key == "" && r.Method == http.MethodHead:
		return // the bucket exists
	case key != "" && r.Method == http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.mode == "busy" && !f.refused[path] {
			f.refused[path] = true
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<Error><Code>SlowDown</Code><Message>busy</Message></Error>`)
			return
		}
		f.objects[bucket+"/"+key] = b
		f.puts++
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
	case key != "" && r.Method == http.MethodGet:
		f.mu.Lock()
		b, ok := f.objects[bucket+"/"+key]
		mode := f.mode
		f.gets++
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>`)
			return
		}
		b = bytes.Clone(b)
		switch mode {
		case "corrupt":
			b[len(b)/2] ^= 1
		case "short":
			b = b[:len(b)-1]
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Write(b)
	default:
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprint(w, `<Error><Code>NotImplemented</Code><Message>fake</Message></Error>`)
	}
}

// setMode changes mode while the server runs.
func (f *fakeS3) setMode(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
}

// stored returns the PUTs answered 200 and the objects held.
func (f *fakeS3) stored() (puts, objects int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.puts, len(f.objects)
}

// gotten returns the GETs answered.
func (f *fakeS3) gotten() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets
}

func runFake(t *testing.T, mode string, noVerify bool) *Result {
	t.Helper()
	return runFakeWorkload(t, mode, WorkloadGet, noVerify)
}

func runFakeWorkload(t *testing.T, mode, workload string, noVerify bool) *Result {
	t.Helper()
	srv := httptest.NewServer(&fakeS3{mode: mode, objects: map[string][]byte{}, refused: map[string]bool{}})
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Endpoint = srv.URL
	cfg.AccessKey, cfg.SecretKey = "access", "secret"
	cfg.Bucket = "bench"
	cfg.Workload = workload
	cfg.Size = 100_000
	cfg.Objects = 3
	cfg.Concurrency = 2
	cfg.Count = 20
	cfg.NoVerify = noVerify
	cfg.Keep = true
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestGetCountsWrongBytesAsErrors(t *testing.T) {
	for _, c := range []struct {
		mode     string
		noVerify bool
		errors   int64
		message  string
	}{
		{mode: "", errors: 0},
		{mode: "corrupt", errors: 20, message: "content differs from what was uploaded"},
		{mode: "short", errors: 20, message: "read 99999 bytes, want 100000"},
		{mode: "short", noVerify: true, errors: 20, message: "read 99999 bytes"},
		// Without verification only the length is checked.
		{mode: "corrupt", noVerify: true, errors: 0},
	} {
		t.Run(fmt.Sprintf("%s-noverify=%v", c.mode, c.noVerify), func(t *testing.T) {
			res := runFake(t, c.mode, c.noVerify)
			get := res.Ops[0]
			if get.Op != "GET" || get.Errors != c.errors || get.Count != 20-c.errors || res.Errors() != c.errors {
				t.Fatalf("GET count %d errors %d (total errors %d), want %d errors of 20",
					get.Count, get.Errors, res.Errors(), c.errors)
			}
			if c.errors == 0 {
				if len(res.FirstErrors) != 0 {
					t.Fatalf("first errors %q", res.FirstErrors)
				}
				if get.Bytes != 20*100_000 || get.Latency.P50 <= 0 {
					t.Fatalf("bytes %d, latency %+v", get.Bytes, get.Latency)
				}
				return
			}
			if len(res.FirstErrors) != maxFirstErrors || !strings.Contains(res.FirstErrors[0], c.message) {
				t.Fatalf("first errors %q, want %d saying %q", res.FirstErrors, maxFirstErrors, c.message)
			}
			if get.Bytes != 0 || get.Latency != (Latency{}) {
				t.Fatalf("failed GETs counted towards bytes (%d) or latency (%+v)", get.Bytes, get.Latency)
			}
		})
	}
}

// A PUT answered 503 is sent again (the body seeks back), and the digest
// GETs are checked against is that of the whole body, not of the bytes the
// two tries read.
func TestPutRetriedAfter503(t *testing.T) {
	res := runFakeWorkload(t, "busy", WorkloadGet, false)
	if res.Errors() != 0 || res.Total.Count != 20 {
		t.Fatalf("get after busy prepare: %d ok, %d errors %q", res.Total.Count, res.Errors(), res.FirstErrors)
	}
	res = runFakeWorkload(t, "busy", WorkloadPut, false)
	if res.Errors() != 0 || res.Total.Count != 20 || res.Retried != 20 {
		t.Fatalf("put: %d ok, %d errors %q, %d retried; want 20 ok, 20 retried",
			res.Total.Count, res.Errors(), res.FirstErrors, res.Retried)
	}
	var sb strings.Builder
	WriteTable(&sb, res)
	if !strings.Contains(sb.String(), "answered 20 requests with 429 or 5xx") {
		t.Fatalf("the table does not mention the retries:\n%s", sb.String())
	}
}

// Prepare leaves objects that a Run with Reuse reads, checks, and does not
// upload again; an open Start holds the timed phase back, a closed Stop
// ends it before it starts.
func TestPrepareReuseStop(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}, refused: map[string]bool{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey, cfg.Bucket = srv.URL, "access", "secret", "bench"
	cfg.Size, cfg.Objects, cfg.Concurrency, cfg.Count = 50_000, 5, 2, 30
	ctx := context.Background()
	if _, err := Prepare(ctx, cfg); err == nil {
		t.Fatal("Prepare without a prefix: no error")
	}
	cfg.Prefix = "data/"
	if _, err := Prepare(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if puts, objects := fake.stored(); puts != 5 || objects != 5 {
		t.Fatalf("prepare: %d PUTs, %d objects; want 5", puts, objects)
	}

	cfg.Workload, cfg.Reuse, cfg.Keep = WorkloadGet, true, true
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if puts, _ := fake.stored(); puts != 5 {
		t.Fatalf("a Run with Reuse uploaded %d objects", puts-5)
	}
	if res.Errors() != 0 || res.Total.Count != 30 || res.Objects != 5 {
		t.Fatalf("reuse: %d ok, %d errors %q, %d objects", res.Total.Count, res.Errors(), res.FirstErrors, res.Objects)
	}
	// The premise: the GETs checked the bytes, so a corrupt store fails them.
	fake.setMode("corrupt")
	if res, err = Run(ctx, cfg); err != nil || res.Errors() != 30 {
		t.Fatalf("reuse of corrupt objects: %d errors (%v), want 30", res.Errors(), err)
	}
	fake.setMode("")

	// The timed phase waits for Start: no GET while it is open.
	start, ready := make(chan struct{}), make(chan struct{})
	cfg.Start, cfg.Prepared = start, func() { close(ready) }
	done := make(chan error, 1)
	gets0 := fake.gotten()
	go func() {
		res, err := Run(ctx, cfg)
		if err == nil && res.Total.Count != 30 {
			err = fmt.Errorf("%d GETs, want 30", res.Total.Count)
		}
		done <- err
	}()
	<-ready
	time.Sleep(100 * time.Millisecond)
	if n := fake.gotten() - gets0; n != 0 {
		t.Fatalf("%d GETs before Start was closed", n)
	}
	close(start)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	close(stop)
	cfg.Start, cfg.Prepared, cfg.Stop = nil, nil, stop
	if res, err = Run(ctx, cfg); err != nil || res.Total.Count != 0 || res.Errors() != 0 {
		t.Fatalf("stopped run: %d ok, %d errors, %v; want nothing", res.Total.Count, res.Errors(), err)
	}

	cfg.Stop, cfg.Prefix = nil, ""
	if err := cfg.Validate(); err == nil {
		t.Fatal("Reuse without a prefix validated")
	}
}

// With several endpoints, preparing and the timed phase take them in
// turn: each serves its share of the operations, and a GET through one
// reads what was PUT through another.
func TestEndpointsInTurn(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}, refused: map[string]bool{}}
	var servers []*httptest.Server
	var counts [3]atomic.Int64
	for i := range counts {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead {
				counts[i].Add(1)
			}
			fake.ServeHTTP(w, r)
		}))
		defer srv.Close()
		servers = append(servers, srv)
	}
	cfg := DefaultConfig()
	cfg.AccessKey, cfg.SecretKey, cfg.Bucket = "access", "secret", "bench"
	cfg.Endpoints = []string{servers[0].URL, servers[1].URL, servers[2].URL}
	cfg.Workload, cfg.Size, cfg.Objects, cfg.Concurrency, cfg.Count, cfg.Keep = WorkloadGet, 10_000, 6, 3, 60, true
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() != 0 || res.Total.Count != 60 {
		t.Fatalf("%d ok, %d errors %q", res.Total.Count, res.Errors(), res.FirstErrors)
	}
	// 6 PUTs and 60 GETs, 22 each.
	for i := range counts {
		if n := counts[i].Load(); n != 22 {
			t.Errorf("endpoint %d served %d requests, want 22", i, n)
		}
	}
	if want := strings.Join(cfg.Endpoints, ","); res.Endpoint != want {
		t.Errorf("result endpoint %q, want %q", res.Endpoint, want)
	}
	cfg.Endpoints = append(cfg.Endpoints, "ftp://x:1")
	if cfg.Validate() == nil {
		t.Error("a bad endpoint among several validated")
	}
}

func TestValidate(t *testing.T) {
	good := DefaultConfig()
	good.Endpoint, good.AccessKey, good.SecretKey, good.Bucket = "127.0.0.1:9000", "a", "s", "b"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no endpoint":   func(c *Config) { c.Endpoint = "" },
		"ftp endpoint":  func(c *Config) { c.Endpoint = "ftp://h:1" },
		"path endpoint": func(c *Config) { c.Endpoint = "http://h:1/x" },
		"no keys":       func(c *Config) { c.SecretKey = "" },
		"workload":      func(c *Config) { c.Workload = "delete" },
		"concurrency":   func(c *Config) { c.Concurrency = 0 },
		"ratio":         func(c *Config) { c.GetRatio = 1.5 },
		"page":          func(c *Config) { c.PageSize = 1001 },
		"part":          func(c *Config) { c.PartSize = 1 << 20 },
		"no end":        func(c *Config) { c.Duration, c.Count = 0, 0 },
	} {
		c := good
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
	for _, c := range []struct {
		ep, host string
		secure   bool
	}{
		{"127.0.0.1:9000", "127.0.0.1:9000", false},
		{"http://127.0.0.1:9000", "127.0.0.1:9000", false},
		{"https://s3.example:443/", "s3.example:443", true},
	} {
		host, secure, err := parseEndpoint(c.ep)
		if err != nil || host != c.host || secure != c.secure {
			t.Errorf("parseEndpoint(%q) = %q, %v, %v", c.ep, host, secure, err)
		}
	}
}

func TestDefaultObjects(t *testing.T) {
	for _, c := range []struct {
		workload    string
		size        int64
		concurrency int
		want        int
	}{
		{WorkloadGet, 4 << 10, 1, 16},
		{WorkloadGet, 4 << 10, 16, 32},
		{WorkloadGet, 64 << 20, 16, 32},
		{WorkloadGet, 64 << 20, 64, 64}, // 4 GiB
		{WorkloadMixed, 1 << 30, 16, 4},
		{WorkloadGet, 8 << 30, 16, 4},
		{WorkloadList, 0, 16, 2000},
	} {
		if got := defaultObjects(c.workload, c.size, c.concurrency); got != c.want {
			t.Errorf("defaultObjects(%s, %d, %d) = %d, want %d", c.workload, c.size, c.concurrency, got, c.want)
		}
	}
}

// TestRootCAs: over https:// the client trusts the authorities of
// Config.RootCAs, and without them refuses a certificate the system does
// not know.
func TestRootCAs(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}, refused: map[string]bool{}}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("test server at %s", srv.URL)
	}
	cfg := DefaultConfig()
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey, cfg.Bucket = srv.URL, "access", "secret", "bench"
	cfg.Workload, cfg.Size, cfg.Objects, cfg.Concurrency, cfg.Count, cfg.Keep = WorkloadGet, 10_000, 2, 2, 10, true
	_, err := Run(context.Background(), cfg)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("without root CAs: %v, want an unknown authority", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	cfg.RootCAs.AddCert(srv.Certificate())
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() != 0 || res.Total.Count != 10 {
		t.Fatalf("%d ok, %d errors %q", res.Total.Count, res.Errors(), res.FirstErrors)
	}
	if puts, objects := fake.stored(); puts != 2 || objects != 2 {
		t.Errorf("%d PUTs, %d objects over HTTPS, want 2 and 2", puts, objects)
	}
}
