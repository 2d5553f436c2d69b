package metarpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cairn/internal/meta"
	"cairn/internal/nodeauth"
)

// TestWrongSecret: a client that does not hold the cluster secret gets
// an error wrapping nodeauth.ErrUnauthorized, at once (no retry), and
// nothing is written.
func TestWrongSecret(t *testing.T) {
	nd := newDev(t, nil)
	c := newClient(t, otherSecret, fixed(nd.http.URL), nil)
	hits := nd.hits.Load()
	err := c.CreateBucket(bg, "b", time.Now())
	wantErr(t, err, nodeauth.ErrUnauthorized)
	var re *Error
	if !errors.As(err, &re) || re.Code != codeUnauthorized || re.Status != http.StatusUnauthorized {
		t.Errorf("error %#v", err)
	}
	_, err = c.GetBucket(bg, "b")
	wantErr(t, err, nodeauth.ErrUnauthorized)
	wantErr(t, c.PutKey(bg, &meta.Key{ID: "AK", Secret: "s"}), nodeauth.ErrUnauthorized)
	if n := nd.hits.Load() - hits; n != 3 {
		t.Errorf("%d requests for 3 refused calls", n)
	}
	if bs, err := nd.s.ListBuckets(bg); err != nil || len(bs) != 0 {
		t.Errorf("buckets after refused calls: %v, %v", bs, err)
	}
	if _, err := nd.s.GetKey(bg, "AK"); !errors.Is(err, meta.ErrNoSuchAccess) {
		t.Errorf("key after a refused call: %v", err)
	}
}

// TestRefusals sends raw HTTP requests that the server must refuse
// without touching the store.
func TestRefusals(t *testing.T) {
	nd := newDev(t, func(sc *ServerConfig) { sc.MaxBody = 1 << 10 })
	signer := newSigner(t, testSecret)
	good, _ := json.Marshal(&createBucketReq{Name: "b", Now: time.Now()})
	type req struct {
		method, path string
		body         []byte
		chunked      bool // no Content-Length
		sign         func(r *http.Request)
	}
	signWith := func(hash string) func(r *http.Request) {
		return func(r *http.Request) { signer.Sign(r, hash) }
	}
	signed := func(body []byte) func(r *http.Request) { return signWith(nodeauth.BodyHash(body)) }
	big := bytes.Repeat([]byte(" "), 2<<10)
	for name, c := range map[string]struct {
		req    req
		status int
		code   string
	}{
		"unsigned":            {req{"POST", "/v1/meta/CreateBucket", good, false, nil}, 401, codeUnauthorized},
		"other secret":        {req{"POST", "/v1/meta/CreateBucket", good, false, func(r *http.Request) { newSigner(t, otherSecret).Sign(r, nodeauth.BodyHash(good)) }}, 401, codeUnauthorized},
		"tampered body":       {req{"POST", "/v1/meta/CreateBucket", good, false, signed([]byte(`{"name":"x"}`))}, 401, codeUnauthorized},
		"unsigned payload":    {req{"POST", "/v1/meta/CreateBucket", good, false, signWith(nodeauth.UnsignedPayload)}, 401, codeUnauthorized},
		"unsigned GET":        {req{"GET", "/v1/meta/ListBuckets", nil, false, nil}, 401, codeUnauthorized},
		"GET":                 {req{"GET", "/v1/meta/ListBuckets", nil, false, signed(nil)}, 405, codeBadMethod},
		"unknown method":      {req{"POST", "/v1/meta/Format", good, false, signed(good)}, 404, codeUnknownMethod},
		"too large":           {req{"POST", "/v1/meta/CreateBucket", big, false, signed(big)}, 413, codeTooLarge},
		"too large, chunked":  {req{"POST", "/v1/meta/CreateBucket", big, true, signed(big)}, 413, codeTooLarge},
		"malformed":           {req{"POST", "/v1/meta/CreateBucket", []byte(`{"name":`), false, signed([]byte(`{"name":`))}, 400, codeBadRequest},
		"wrong argument type": {req{"POST", "/v1/meta/CreateBucket", []byte(`{"name":3}`), false, signed([]byte(`{"name":3}`))}, 400, codeBadRequest},
	} {
		var body io.Reader = bytes.NewReader(c.req.body)
		if c.req.chunked {
			body = io.MultiReader(body) // hides the length
		}
		r, err := http.NewRequest(c.req.method, nd.http.URL+c.req.path, body)
		must(t, err)
		if c.req.sign != nil {
			c.req.sign(r)
		}
		resp, err := http.DefaultClient.Do(r)
		must(t, err)
		var eb errorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		_ = resp.Body.Close()
		if resp.StatusCode != c.status || err != nil || eb.Error == nil || eb.Error.Code != c.code {
			t.Errorf("%s: %d %+v (%v), want %d %s", name, resp.StatusCode, eb.Error, err, c.status, c.code)
		}
	}
	if bs, err := nd.s.ListBuckets(bg); err != nil || len(bs) != 0 {
		t.Errorf("buckets after refused requests: %v, %v", bs, err)
	}

	// A path outside /v1/meta/ (the server mounted elsewhere).
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/shards/x", bytes.NewReader(good))
	signer.Sign(r, nodeauth.BodyHash(good))
	nd.srv.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), codeUnknownMethod) {
		t.Errorf("path outside the prefix: %d %s", w.Code, w.Body)
	}
}

func TestConfigs(t *testing.T) {
	signer := newSigner(t, testSecret)
	if _, err := NewServer(ServerConfig{Signer: signer}); err == nil {
		t.Error("NewServer without a Store")
	}
	if _, err := newServer(ServerConfig{}, nil); err == nil {
		t.Error("NewServer without a Signer")
	}
	if _, err := newServer(ServerConfig{Signer: signer, MaxBody: -1}, nil); err == nil {
		t.Error("NewServer with a negative MaxBody")
	}
	for name, cfg := range map[string]ClientConfig{
		"no Leader":        {Signer: signer},
		"negative Timeout": {Leader: fixed(""), Signer: signer, Timeout: -1},
		"negative MaxBody": {Leader: fixed(""), Signer: signer, MaxBody: -1},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("NewClient with %s", name)
		}
	}
}
