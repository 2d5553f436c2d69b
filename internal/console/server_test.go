package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
	"cairn/s3gw"
)

const testToken = "cairn-0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeAdmin answers the admin API's routes the console calls, and records
// the requests it got.
type fakeAdmin struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (a *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, r)
	a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(adminapi.ErrorBody{Code: adminapi.CodeUnauthorized, Message: "no"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch p := r.URL.EscapedPath(); {
	case p == adminapi.PathPrefix+"status":
		json.NewEncoder(w).Encode(adminapi.Status{LayoutVersion: 3, K: 4, M: 2, Leader: "n1", Nodes: []adminapi.Node{
			{ID: "n1", Zone: "a", InLayout: true, Gossip: "alive"},
			{ID: "n2", Zone: "b", InLayout: true, Gossip: "failed", Down: true},
			{ID: "n3", Zone: "c", Pending: true, Gossip: "alive"},
		}, Heal: &adminapi.HealStatus{Node: "n1", Rate: 5, Remaining: 100,
			Tally: adminapi.HealTally{Stripes: 10, Healthy: 7, Unreadable: 1, Missing: map[int]int64{1: 2}}}})
	case p == adminapi.PathPrefix+"keys" && r.Method == http.MethodGet:
		json.NewEncoder(w).Encode([]adminapi.Key{{ID: "CAIRNKEY"}})
	case strings.HasPrefix(p, adminapi.PathPrefix+"objects/"):
		json.NewEncoder(w).Encode(adminapi.Object{Key: "k", CID: "bafy"})
	default:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(adminapi.ErrorBody{Code: "NoRoute", Message: p})
	}
}

func (a *fakeAdmin) last() *http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[len(a.seen)-1]
}

// fakeGateway keeps objects in a map; the methods the console does not
// call panic (the embedded nil Backend).
type fakeGateway struct {
	s3gw.Backend
	mu      sync.Mutex
	keys    map[string]string // access key → secret
	objects map[string][]byte // bucket/key
}

func (g *fakeGateway) SecretKey(_ context.Context, id string) (string, error) {
	if s, ok := g.keys[id]; ok {
		return s, nil
	}
	return "", s3gw.ErrInvalidAccessKeyID
}

func (g *fakeGateway) ListBuckets(context.Context) ([]s3gw.BucketInfo, error) {
	return []s3gw.BucketInfo{{Name: "photos"}}, nil
}

func (g *fakeGateway) PutObject(_ context.Context, bucket, key string, r io.Reader, size int64, _ s3gw.PutOptions) (s3gw.ObjectInfo, error) {
	if bucket != "photos" {
		return s3gw.ObjectInfo{}, s3gw.ErrNoSuchBucket
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return s3gw.ObjectInfo{}, err
	}
	if size >= 0 && int64(len(b)) != size {
		return s3gw.ObjectInfo{}, s3gw.ErrIncompleteBody
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.objects[bucket+"/"+key] = b
	return s3gw.ObjectInfo{Key: key, Size: int64(len(b)), ETag: "e", CID: "bafy"}, nil
}

func (g *fakeGateway) GetObject(_ context.Context, bucket, key string) (s3gw.Object, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.objects[bucket+"/"+key]
	if !ok {
		return nil, s3gw.ErrNoSuchKey
	}
	return fakeObject{b: b, key: key}, nil
}

func (g *fakeGateway) ListObjects(_ context.Context, bucket string, q s3gw.ListQuery) (s3gw.ListResult, error) {
	if q.Delimiter != "/" {
		return s3gw.ListResult{}, errors.New("want delimiter /")
	}
	return s3gw.ListResult{Objects: []s3gw.ObjectInfo{{Key: q.Prefix + "x"}}, CommonPrefixes: []string{q.Prefix + "dir/"}}, nil
}

func (g *fakeGateway) DeleteObjects(_ context.Context, bucket string, keys []string) ([]error, error) {
	errs := make([]error, len(keys))
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range keys {
		delete(g.objects, bucket+"/"+k)
	}
	return errs, nil
}

type fakeObject struct {
	b   []byte
	key string
}

func (o fakeObject) Info() s3gw.ObjectInfo {
	return s3gw.ObjectInfo{Key: o.key, Size: int64(len(o.b)), ETag: "e"}
}

func (o fakeObject) Open(_ context.Context, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.b[off : off+n])), nil
}

type fixture struct {
	srv   *Server
	admin *fakeAdmin
	gw    *fakeGateway
	now   time.Time
}

func newFixture(t *testing.T, edit ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{admin: &fakeAdmin{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		gw: &fakeGateway{keys: map[string]string{"AKID": "s3cr3t"}, objects: map[string][]byte{}}}
	cfg := Config{Admin: f.admin, AdminToken: testToken, Gateway: func() Gateway { return f.gw }, Now: func() time.Time { return f.now }}
	for _, e := range edit {
		e(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// do serves a request; a non-nil cookie is sent, and so is the CSRF
// header unless noCSRF.
func (f *fixture) do(method, target string, body io.Reader, cookie *http.Cookie, noCSRF ...bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	if len(noCSRF) == 0 {
		r.Header.Set(CSRFHeader, "1")
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

func (f *fixture) login(t *testing.T, body string) *http.Cookie {
	t.Helper()
	w := f.do(http.MethodPost, "/api/login", strings.NewReader(body), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", body, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatalf("login %s set no %s cookie", body, CookieName)
	return nil
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e adminapi.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	return e.Code
}

// routes are every API route, as a request without a body would reach it.
var routes = []struct{ method, target string }{
	{"POST", "/api/logout"},
	{"GET", "/api/session"},
	{"GET", "/api/cluster"},
	{"GET", "/api/charts"},
	{"GET", "/api/keys"},
	{"POST", "/api/keys"},
	{"DELETE", "/api/keys/CAIRNKEY"},
	{"GET", "/api/buckets"},
	{"POST", "/api/buckets?bucket=photos"},
	{"DELETE", "/api/buckets?bucket=photos"},
	{"GET", "/api/objects?bucket=photos"},
	{"DELETE", "/api/objects?bucket=photos"},
	{"GET", "/api/object/shards?bucket=photos&key=k"},
	{"PUT", "/api/object?bucket=photos&key=k"},
	{"GET", "/api/object?bucket=photos&key=k"},
}

func TestRefusedWithoutLogin(t *testing.T) {
	f := newFixture(t)
	bogus := &http.Cookie{Name: CookieName, Value: "not-a-session"}
	for _, rt := range routes {
		for _, c := range []*http.Cookie{nil, bogus} {
			w := f.do(rt.method, rt.target, strings.NewReader("x"), c)
			if w.Code != http.StatusUnauthorized || errorCode(t, w) != "Unauthorized" {
				t.Errorf("%s %s with cookie %v: %d %s, want 401 Unauthorized", rt.method, rt.target, c, w.Code, w.Body)
			}
		}
	}
	if n := len(f.admin.seen); n != 0 {
		t.Errorf("the admin API was called %d times without a login", n)
	}
	if len(f.gw.objects) != 0 {
		t.Errorf("an upload without a login stored %d objects", len(f.gw.objects))
	}
}

func TestLoginAdminToken(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{`{"token":"cairn-wrong"}`, `{}`, `{"access_key":"AKID"}`} {
		w := f.do(http.MethodPost, "/api/login", strings.NewReader(body), nil)
		if w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
			t.Errorf("login %s: %d, cookies %v; want 401 and none", body, w.Code, w.Result().Cookies())
		}
	}
	if w := f.do(http.MethodPost, "/api/login", strings.NewReader("{"), nil); w.Code != http.StatusBadRequest {
		t.Errorf("login with a bad body: %d, want 400", w.Code)
	}

	c := f.login(t, `{"token":" `+testToken+`\n"}`)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || len(c.Value) != 43 || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, 256 random bits, not Secure over plain HTTP", c)
	}
	if c.Value == testToken || strings.Contains(c.Value, "cairn-") {
		t.Errorf("the cookie carries the token: %q", c.Value)
	}
	w := f.do(http.MethodGet, "/api/session", nil, c)
	var info sessionInfo
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil || info.Role != RoleAdmin {
		t.Errorf("session: %d %s, want role admin", w.Code, w.Body)
	}

	// The cluster view is the admin API's status, asked with the token.
	w = f.do(http.MethodGet, "/api/cluster", nil, c)
	var st adminapi.Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || w.Code != 200 || st.Leader != "n1" || len(st.Nodes) != 3 {
		t.Errorf("cluster: %d %s", w.Code, w.Body)
	}
	if got := f.admin.last().Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("the admin API got Authorization %q", got)
	}
	if w := f.do(http.MethodGet, "/api/keys", nil, c); w.Code != 200 || !strings.Contains(w.Body.String(), "CAIRNKEY") {
		t.Errorf("keys as admin: %d %s", w.Code, w.Body)
	}
	if w := f.do(http.MethodDelete, "/api/keys/CAIRN.KEY", nil, c); f.admin.last().URL.EscapedPath() != adminapi.PathPrefix+"keys/CAIRN%2EKEY" {
		t.Errorf("delete key: %d, the admin API got %s", w.Code, f.admin.last().URL.EscapedPath())
	}
}

func TestLoginAccessKey(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{`{"access_key":"AKID","secret_key":"wrong"}`, `{"access_key":"NOPE","secret_key":"s3cr3t"}`, `{"access_key":"AKID","secret_key":""}`} {
		if w := f.do(http.MethodPost, "/api/login", strings.NewReader(body), nil); w.Code != http.StatusUnauthorized {
			t.Errorf("login %s: %d, want 401", body, w.Code)
		}
	}
	c := f.login(t, `{"access_key":"AKID","secret_key":"s3cr3t"}`)
	w := f.do(http.MethodGet, "/api/session", nil, c)
	if !strings.Contains(w.Body.String(), `"role":"key"`) || !strings.Contains(w.Body.String(), `"access_key":"AKID"`) {
		t.Errorf("session: %s", w.Body)
	}
	if w := f.do(http.MethodGet, "/api/cluster", nil, c); w.Code != http.StatusOK {
		t.Errorf("cluster as a key: %d", w.Code)
	}
	for _, rt := range []struct{ method, target string }{{"GET", "/api/keys"}, {"POST", "/api/keys"}, {"DELETE", "/api/keys/AKID"}} {
		if w := f.do(rt.method, rt.target, nil, c); w.Code != http.StatusForbidden || errorCode(t, w) != "Forbidden" {
			t.Errorf("%s %s as a key: %d, want 403", rt.method, rt.target, w.Code)
		}
	}
}

func TestLoginWaitsForTheGateway(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Gateway = func() Gateway { return nil } })
	if w := f.do(http.MethodPost, "/api/login", strings.NewReader(`{"access_key":"AKID","secret_key":"s3cr3t"}`), nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("key login without a gateway: %d, want 503", w.Code)
	}
	c := f.login(t, `{"token":"`+testToken+`"}`)
	if w := f.do(http.MethodGet, "/api/buckets", nil, c); w.Code != http.StatusServiceUnavailable {
		t.Errorf("buckets without a gateway: %d, want 503", w.Code)
	}
}

func TestCSRFHeader(t *testing.T) {
	f := newFixture(t)
	if w := f.do(http.MethodPost, "/api/login", strings.NewReader(`{"token":"`+testToken+`"}`), nil, true); w.Code != http.StatusForbidden {
		t.Errorf("login without %s: %d, want 403", CSRFHeader, w.Code)
	}
	c := f.login(t, `{"token":"`+testToken+`"}`)
	for _, rt := range routes {
		if rt.method == http.MethodGet {
			continue
		}
		if w := f.do(rt.method, rt.target, strings.NewReader("x"), c, true); w.Code != http.StatusForbidden {
			t.Errorf("%s %s without %s: %d, want 403", rt.method, rt.target, CSRFHeader, w.Code)
		}
	}
	if len(f.gw.objects) != 0 {
		t.Error("an upload without the header was stored")
	}
}

func TestLogoutAndExpiry(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.SessionTTL = time.Hour })
	c := f.login(t, `{"token":"`+testToken+`"}`)
	if w := f.do(http.MethodPost, "/api/logout", nil, c); w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := f.do(http.MethodGet, "/api/session", nil, c); w.Code != http.StatusUnauthorized {
		t.Errorf("session after logout: %d, want 401", w.Code)
	}
	c = f.login(t, `{"token":"`+testToken+`"}`)
	f.now = f.now.Add(59 * time.Minute)
	if w := f.do(http.MethodGet, "/api/session", nil, c); w.Code != http.StatusOK {
		t.Errorf("session before its TTL: %d, want 200", w.Code)
	}
	f.now = f.now.Add(time.Minute)
	if w := f.do(http.MethodGet, "/api/session", nil, c); w.Code != http.StatusUnauthorized {
		t.Errorf("session after its TTL: %d, want 401", w.Code)
	}
}

func TestMaxSessions(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxSessions = 2 })
	var cs []*http.Cookie
	for range 3 {
		cs = append(cs, f.login(t, `{"token":"`+testToken+`"}`))
		f.now = f.now.Add(time.Second)
	}
	for i, want := range []int{401, 200, 200} {
		if w := f.do(http.MethodGet, "/api/session", nil, cs[i]); w.Code != want {
			t.Errorf("session %d of 3 with room for 2: %d, want %d", i, w.Code, want)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	for range 20 {
		if w := f.do(http.MethodPost, "/api/login", strings.NewReader(`{"token":"cairn-wrong"}`), nil); w.Code != http.StatusUnauthorized {
			t.Fatalf("failed login: %d, want 401", w.Code)
		}
	}
	// The clock stands still: the 20 failures spent the burst.
	if w := f.do(http.MethodPost, "/api/login", strings.NewReader(`{"token":"`+testToken+`"}`), nil); w.Code != http.StatusTooManyRequests {
		t.Errorf("login after 20 failures: %d, want 429", w.Code)
	}
	f.now = f.now.Add(2 * time.Second)
	f.login(t, `{"token":"`+testToken+`"}`)
}

func TestUploadDownloadDelete(t *testing.T) {
	f := newFixture(t)
	c := f.login(t, `{"access_key":"AKID","secret_key":"s3cr3t"}`)
	body := bytes.Repeat([]byte("cairn "), 100000)
	key := "dir//a b/ü.txt"
	target := "/api/object?bucket=photos&key=" + url.QueryEscape(key)
	if w := f.do(http.MethodPut, target, bytes.NewReader(body), c); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"cid":"bafy"`) {
		t.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	if !bytes.Equal(f.gw.objects["photos/"+key], body) {
		t.Fatal("the store holds other bytes than those uploaded")
	}
	w := f.do(http.MethodGet, target, nil, c)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), body) {
		t.Fatalf("download: %d, %d bytes, want %d identical", w.Code, w.Body.Len(), len(body))
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "txt") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if w := f.do(http.MethodDelete, "/api/objects?bucket=photos", strings.NewReader(`["`+key+`"]`), c); w.Code != http.StatusOK {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w := f.do(http.MethodGet, target, nil, c); w.Code != http.StatusNotFound || errorCode(t, w) != "NoSuchKey" {
		t.Errorf("download after delete: %d %s, want 404 NoSuchKey", w.Code, w.Body)
	}
	if w := f.do(http.MethodPut, "/api/object?bucket=other&key=k", strings.NewReader("x"), c); w.Code != http.StatusNotFound || errorCode(t, w) != "NoSuchBucket" {
		t.Errorf("upload to a missing bucket: %d %s, want 404 NoSuchBucket", w.Code, w.Body)
	}
	for _, bad := range []string{"/api/object?bucket=Bad_Name&key=k", "/api/object?bucket=photos", "/api/object?bucket=photos&key=" + strings.Repeat("k", 1025)} {
		if w := f.do(http.MethodGet, bad, nil, c); w.Code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad[:min(len(bad), 60)], w.Code)
		}
	}
}

func TestListAndShards(t *testing.T) {
	f := newFixture(t)
	c := f.login(t, `{"token":"`+testToken+`"}`)
	w := f.do(http.MethodGet, "/api/objects?bucket=photos&prefix=a/", nil, c)
	var l listing
	if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || len(l.Objects) != 1 || l.Objects[0].Key != "a/x" || len(l.Prefixes) != 1 || l.Prefixes[0] != "a/dir/" {
		t.Errorf("list: %d %s", w.Code, w.Body)
	}
	// A key with slashes, dots and spaces reaches the admin API as one
	// escaped segment.
	w = f.do(http.MethodGet, "/api/object/shards?bucket=photos&key="+url.QueryEscape("a/../b c.txt"), nil, c)
	if w.Code != http.StatusOK {
		t.Fatalf("shards: %d %s", w.Code, w.Body)
	}
	if got, want := f.admin.last().URL.EscapedPath(), adminapi.PathPrefix+"objects/photos/a%2F%2E%2E%2Fb%20c%2Etxt"; got != want {
		t.Errorf("the admin API got %s, want %s", got, want)
	}
}

func TestPage(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/", "/static/app.js", "/static/style.css"} {
		w := f.do(http.MethodGet, p, nil, nil)
		if w.Code != http.StatusOK || w.Body.Len() < 500 {
			t.Errorf("GET %s: %d, %d bytes", p, w.Code, w.Body.Len())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", p, csp)
		}
	}
	if w := f.do(http.MethodGet, "/", nil, nil); !strings.Contains(w.Body.String(), "<title>Cairn console</title>") {
		t.Errorf("the page: %s", w.Body)
	}
}

// policyGateway is fakeGateway whose keys have policies (storectl key
// create --policy).
type policyGateway struct {
	*fakeGateway
	policies map[string]*s3gw.KeyPolicy
}

func (g policyGateway) KeyPolicy(ctx context.Context, id string) (string, *s3gw.KeyPolicy, error) {
	secret, err := g.SecretKey(ctx, id)
	return secret, g.policies[id], err
}

// TestKeySessionPolicy: a key session may do in the console what its key
// may do through S3, nothing more: a read-only key reads and never
// writes; a key bound to a prefix of one bucket stays there.
func TestKeySessionPolicy(t *testing.T) {
	f := newFixture(t)
	pg := policyGateway{fakeGateway: f.gw, policies: map[string]*s3gw.KeyPolicy{
		"RO":  {ReadOnly: true},
		"PFX": {Bucket: "photos", Prefix: "team/"},
	}}
	f.gw.keys["RO"], f.gw.keys["PFX"] = "ro-secret", "pfx-secret"
	f.gw.objects["photos/team/a"] = []byte("a")
	f.srv.cfg.Gateway = func() Gateway { return pg }

	ro := f.login(t, `{"access_key":"RO","secret_key":"ro-secret"}`)
	pfx := f.login(t, `{"access_key":"PFX","secret_key":"pfx-secret"}`)
	for _, tc := range []struct {
		who    *http.Cookie
		method string
		target string
		body   string
		status int
	}{
		{ro, "GET", "/api/buckets", "", 200},
		{ro, "GET", "/api/objects?bucket=photos", "", 200},
		{ro, "GET", "/api/object?bucket=photos&key=team/a", "", 200},
		{ro, "PUT", "/api/object?bucket=photos&key=new", "x", 403},
		{ro, "DELETE", "/api/objects?bucket=photos", `["team/a"]`, 403},
		{ro, "POST", "/api/buckets?bucket=more", "", 403},
		{ro, "DELETE", "/api/buckets?bucket=photos", "", 403},
		{pfx, "GET", "/api/buckets", "", 403},
		{pfx, "GET", "/api/objects?bucket=photos", "", 403},
		{pfx, "GET", "/api/objects?bucket=photos&prefix=team/", "", 200},
		{pfx, "PUT", "/api/object?bucket=photos&key=team/b", "b", 200},
		{pfx, "PUT", "/api/object?bucket=photos&key=top", "t", 403},
		{pfx, "GET", "/api/object?bucket=photos&key=top", "", 403},
		{pfx, "DELETE", "/api/objects?bucket=photos", `["team/b","top"]`, 403},
		{pfx, "DELETE", "/api/objects?bucket=photos", `["team/b"]`, 200},
		{pfx, "DELETE", "/api/buckets?bucket=photos", "", 403},
	} {
		w := f.do(tc.method, tc.target, strings.NewReader(tc.body), tc.who)
		if w.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.target, w.Code, w.Body, tc.status)
			continue
		}
		if tc.status == 403 && errorCode(t, w) != "AccessDenied" {
			t.Errorf("%s %s: code %s, want AccessDenied", tc.method, tc.target, errorCode(t, w))
		}
	}
	if _, ok := f.gw.objects["photos/new"]; ok {
		t.Error("a read-only key's upload was stored")
	}
	if _, ok := f.gw.objects["photos/team/a"]; !ok {
		t.Error("a read-only key's delete removed the object")
	}
}
