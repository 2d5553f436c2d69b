package nodeapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
)

var emptyHash = nodeauth.BodyHash(nil)

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestPutLimits: a declared length over MaxShardSize is refused unread; a
// chunked body is read no further than MaxShardSize+1 bytes.
func TestPutLimits(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 10
	ds := openDir(t)
	srv, err := nodeapi.NewServer(nodeapi.ServerConfig{Store: ds, Signer: signer(t, secret), NodeID: "n", MaxShardSize: limit})
	if err != nil {
		t.Fatal(err)
	}
	s := signer(t, secret)
	id, data := shard(t, 1, limit+1000)

	put := func(contentLength int64) (*httptest.ResponseRecorder, *countingReader) {
		body := &countingReader{r: bytes.NewReader(data)}
		r := httptest.NewRequest("PUT", "/v1/shards/"+id.String(), body)
		r.ContentLength = contentLength
		s.Sign(r, nodeauth.UnsignedPayload)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w, body
	}
	w, body := put(int64(len(data)))
	if w.Code != http.StatusRequestEntityTooLarge || w.Header().Get("X-Cairn-Error") != "TooLarge" || body.n != 0 {
		t.Errorf("declared oversize PUT: %d %q, %d body bytes read; want 413 TooLarge, none read", w.Code, w.Body, body.n)
	}
	w, body = put(-1) // chunked: length unknown
	if w.Code != http.StatusRequestEntityTooLarge || body.n > limit+1 {
		t.Errorf("chunked oversize PUT: %d %q, %d body bytes read; want 413, at most %d read", w.Code, w.Body, body.n, limit+1)
	}
	if ok, _ := ds.Has(ctx, id); ok {
		t.Fatal("an oversize PUT stored the shard")
	}

	// Over HTTP: the client refuses before sending past its own limit,
	// and maps the node's 413 when the node's limit is the smaller.
	url := serve(t, ds, func(c *nodeapi.ServerConfig) { c.MaxShardSize = limit })
	if err := dial(t, url, nil).Put(ctx, id, data); !errors.Is(err, nodeapi.ErrTooLarge) {
		t.Errorf("Put over the node's limit = %v, want ErrTooLarge", err)
	}
	small := dial(t, url, func(c *nodeapi.ClientConfig) { c.MaxShardSize = limit })
	if err := small.Put(ctx, id, data); !errors.Is(err, nodeapi.ErrTooLarge) {
		t.Errorf("Put over the client's limit = %v, want ErrTooLarge", err)
	}
	// A PUT with the wrong content is 400 BadDigest → ErrCorrupt.
	id2, _ := shard(t, 2, 100)
	_, other := shard(t, 3, 100)
	resp, b := send(t, rawRequest(t, "PUT", url+"/v1/shards/"+id2.String(), other, s, nodeauth.UnsignedPayload))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Cairn-Error") != "BadDigest" {
		t.Errorf("PUT of the wrong content: %d %s", resp.StatusCode, b)
	}
	if err := small.Put(ctx, id2, other); !errors.Is(err, blob.ErrCorrupt) {
		t.Errorf("client Put of the wrong content = %v, want ErrCorrupt", err)
	}
}

// TestRoutes: signed requests outside the routes get their codes.
func TestRoutes(t *testing.T) {
	url := serve(t, openDir(t), nil)
	s := signer(t, secret)
	id, _ := shard(t, 1, 10)
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/v1/nothing", 404, "NoSuchRoute", ""},
		{"GET", "/", 404, "NoSuchRoute", ""},
		{"POST", "/v1/shards/" + id.String(), 405, "MethodNotAllowed", "PUT, GET, HEAD, DELETE"},
		{"PUT", "/v1/status", 405, "MethodNotAllowed", "GET"},
		{"DELETE", "/v1/shards", 405, "MethodNotAllowed", "GET"},
		{"GET", "/v1/shards/notacid", 400, "BadRequest", ""},
		{"GET", "/v1/shards/" + id.String(), 404, "NotFound", ""},
		{"HEAD", "/v1/shards/" + id.String(), 404, "NotFound", ""},
		{"DELETE", "/v1/shards/" + id.String(), 204, "", ""},
	} {
		resp, body := send(t, rawRequest(t, c.method, url+c.path, nil, s, emptyHash))
		if resp.StatusCode != c.status || resp.Header.Get("X-Cairn-Error") != c.code || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q allow %q, want %d %q allow %q (%s)", c.method, c.path,
				resp.StatusCode, resp.Header.Get("X-Cairn-Error"), resp.Header.Get("Allow"), c.status, c.code, c.allow, body)
		}
		if c.code != "" && c.method != "HEAD" && !strings.Contains(body, `"code":"`+c.code+`"`) {
			t.Errorf("%s %s: body %q lacks the code", c.method, c.path, body)
		}
	}
}

// TestMounted: the server works mounted on a mux beside other handlers.
func TestMounted(t *testing.T) {
	ctx := context.Background()
	srv, err := nodeapi.NewServer(nodeapi.ServerConfig{Store: openDir(t), Signer: signer(t, secret), NodeID: "n"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/shards", srv)
	mux.Handle("/v1/shards/", srv)
	mux.Handle("/v1/status", srv)
	mux.HandleFunc("/v1/meta/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "meta") })
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c := dial(t, ts.URL, nil)
	id, data := shard(t, 1, 5000)
	if err := c.Put(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, id, nil); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get through the mux: %v", err)
	}
	n := 0
	if err := c.Walk(ctx, func(_ cid.Cid, _ int64) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("Walk through the mux: %d shards, %v", n, err)
	}
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body := send(t, rawRequest(t, "GET", ts.URL+"/v1/meta/x", nil, nil, "")); body != "meta" {
		t.Fatalf("the other handler answered %q", body)
	}
}

// TestConfig: bad configs are refused with a reason.
func TestConfig(t *testing.T) {
	s := signer(t, secret)
	ds := openDir(t)
	for name, cfg := range map[string]nodeapi.ServerConfig{
		"no store":        {Signer: s, NodeID: "n"},
		"no signer":       {Store: ds, NodeID: "n"},
		"both":            {Store: ds, NodeID: "n", Signer: s, Authorize: func(*http.Request) error { return nil }},
		"no node ID":      {Store: ds, Signer: s},
		"negative weight": {Store: ds, Signer: s, NodeID: "n", Weight: -1},
		"negative max":    {Store: ds, Signer: s, NodeID: "n", MaxShardSize: -1},
	} {
		if _, err := nodeapi.NewServer(cfg); err == nil {
			t.Errorf("NewServer with %s succeeded", name)
		}
	}
	for name, cfg := range map[string]nodeapi.ClientConfig{
		"no URL":        {Signer: s},
		"no scheme":     {BaseURL: "127.0.0.1:1", Signer: s},
		"path":          {BaseURL: "http://127.0.0.1:1/api", Signer: s},
		"query":         {BaseURL: "http://127.0.0.1:1?x=1", Signer: s},
		"negative time": {BaseURL: "http://127.0.0.1:1", Signer: s, Timeout: -1},
		"huge page":     {BaseURL: "http://127.0.0.1:1", Signer: s, PageSize: nodeapi.MaxPageSize + 1},
	} {
		if _, err := nodeapi.NewClient(cfg); err == nil {
			t.Errorf("NewClient with %s succeeded", name)
		}
	}
	if _, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "http://127.0.0.1:1/", Signer: s}); err != nil {
		t.Errorf("NewClient with a trailing slash: %v", err)
	}
}

// TestTransport: the node transport is bounded and ignores proxies.
func TestTransport(t *testing.T) {
	tr := nodeapi.NewTransport()
	if tr.Proxy != nil || tr.MaxConnsPerHost <= 0 || tr.MaxIdleConnsPerHost <= 0 ||
		tr.MaxIdleConnsPerHost > tr.MaxConnsPerHost || tr.TLSHandshakeTimeout <= 0 ||
		tr.ResponseHeaderTimeout <= 0 || tr.DialContext == nil || !tr.DisableCompression {
		t.Fatalf("NewTransport = %+v", tr)
	}
}

// TestAuthorize: a server that authorizes by connection (mutual TLS in a
// cluster) serves what Authorize lets through, unsigned, and refuses the
// rest with 403 Forbidden before touching the store.
func TestAuthorize(t *testing.T) {
	ds := openDir(t)
	allow := true
	srv, err := nodeapi.NewServer(nodeapi.ServerConfig{Store: ds, NodeID: "n", Authorize: func(r *http.Request) error {
		if !allow {
			return errors.New("role storage may not call this")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := []byte("a shard, unsigned, over an authorized connection")
	id := erasure.ShardCID(data)
	if err := c.Put(ctx, id, data); err != nil {
		t.Fatalf("authorized put: %v", err)
	}
	allow = false
	if err := c.Delete(ctx, id); !errors.Is(err, nodeauth.ErrUnauthorized) {
		t.Errorf("refused delete: %v, want ErrUnauthorized", err)
	}
	other := []byte("another shard")
	if err := c.Put(ctx, erasure.ShardCID(other), other); !errors.Is(err, nodeauth.ErrUnauthorized) {
		t.Errorf("refused put: %v, want ErrUnauthorized", err)
	}
	if ok, err := ds.Has(ctx, id); err != nil || !ok {
		t.Errorf("the refused delete touched the store: has=%v, %v", ok, err)
	}
	if ok, _ := ds.Has(ctx, erasure.ShardCID(other)); ok {
		t.Error("the refused put stored its shard")
	}
}
