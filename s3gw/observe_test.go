package s3gw

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is an Observer that keeps every RequestStats by operation.
type recorder struct {
	mu    sync.Mutex
	asked []string
	seen  map[string][]RequestStats
}

func (r *recorder) Operation(name string) OperationObserver {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, name)
	return opRecorder{r, name}
}

type opRecorder struct {
	r    *recorder
	name string
}

func (o opRecorder) Done(s RequestStats) {
	o.r.mu.Lock()
	defer o.r.mu.Unlock()
	o.r.seen[o.name] = append(o.r.seen[o.name], s)
}

// wait returns the stats of op once there are n of them: Done runs when
// the handler returns, which may be after the client has the response.
func (r *recorder) wait(t *testing.T, op string, n int) []RequestStats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.seen[op])
		r.mu.Unlock()
		if len(got) >= n {
			if len(got) > n {
				t.Fatalf("%s: %d requests observed, want %d: %+v", op, len(got), n, got)
			}
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d requests observed after 5s, want %d", op, len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserver(t *testing.T) {
	rec := &recorder{seen: map[string][]RequestStats{}}
	fb := &faultyBackend{}
	e := newTestEnv(t, false, func(c *Config) {
		c.Observer = rec
		fb.memBackend = c.Backend.(*memBackend)
		c.Backend = fb
	})
	// New asks once for every operation, and for requests naming none.
	want := append(Operations(), "")
	if !sameSet(rec.asked, want) {
		t.Fatalf("New asked the Observer about %q, want %q", rec.asked, want)
	}

	e.must(200, "PUT", "/bkt", nil)
	data := randBytes(100_000, 1)
	e.must(200, "PUT", "/bkt/obj", data)
	_, got := e.must(200, "GET", "/bkt/obj", nil)
	resp, _ := e.do(e.signedReq("HEAD", "/bkt/missing", nil))
	if resp.StatusCode != 404 {
		t.Fatalf("HEAD of a missing key: %d", resp.StatusCode)
	}
	resp, _ = e.do(e.signedReq("GET", "/bkt?acl", nil))
	if resp.StatusCode != 501 {
		t.Fatalf("GET ?acl: %d", resp.StatusCode)
	}
	resp, _ = e.do(e.signedReqAs(testAK, "not the secret key", "GET", "/bkt/obj", nil))
	if resp.StatusCode != 403 {
		t.Fatalf("a bad signature: %d", resp.StatusCode)
	}

	put := rec.wait(t, "PutObject", 1)[0]
	if put.Status != 200 || put.Received != int64(len(data)) || put.Aborted || put.Duration <= 0 {
		t.Errorf("PutObject: %+v, want status 200, %d bytes received", put, len(data))
	}
	gets := rec.wait(t, "GetObject", 2)
	if g := gets[0]; g.Status != 200 || g.Sent != int64(len(got)) || g.Sent != int64(len(data)) || g.Received != 0 {
		t.Errorf("GetObject: %+v, want status 200, %d bytes sent", g, len(data))
	}
	if g := gets[1]; g.Status != 403 || g.Sent == 0 {
		t.Errorf("GetObject with a bad signature: %+v, want status 403 and an error body", g)
	}
	if h := rec.wait(t, "HeadObject", 1)[0]; h.Status != 404 || h.Sent != 0 {
		t.Errorf("HeadObject: %+v, want status 404, no body", h)
	}
	if u := rec.wait(t, "", 1)[0]; u.Status != 501 {
		t.Errorf("an unimplemented operation: %+v, want status 501", u)
	}
	if c := rec.wait(t, "CreateBucket", 1)[0]; c.Status != 200 {
		t.Errorf("CreateBucket: %+v", c)
	}

	// A response cut off half way is observed, and says so.
	e.must(200, "PUT", "/bkt/broken", data)
	resp, err := e.ts.Client().Do(e.signedReq("GET", "/bkt/broken", nil))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if b := rec.wait(t, "GetObject", 3)[2]; !b.Aborted || b.Status != 200 || b.Sent != n || n >= int64(len(data)) {
		t.Errorf("an aborted GetObject: %+v (client got %d of %d bytes), want Aborted", b, n, len(data))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestOperationsComplete checks that operations, which New asks the
// Observer about, holds every opSpec that router.go declares: an
// operation missing from it would be observed as "" (no operation).
func TestOperationsComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "router.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.CompositeLit); ok {
			if id, ok := lit.Type.(*ast.Ident); ok && id.Name == "opSpec" && len(lit.Elts) > 0 {
				if s, ok := lit.Elts[0].(*ast.BasicLit); ok {
					declared = append(declared, s.Value[1:len(s.Value)-1])
				}
			}
		}
		return true
	})
	if len(declared) < 20 {
		t.Fatalf("found only %d opSpecs in router.go: %q", len(declared), declared)
	}
	if !sameSet(declared, Operations()) {
		t.Errorf("router.go declares %q;\noperations holds %q", declared, Operations())
	}
}
