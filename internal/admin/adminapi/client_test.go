package adminapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The server's side of the wire format is tested in package admin, with
// this client; these tests need no server but a stub.

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:7070":             "http://127.0.0.1:7070",
		" http://node:7070/ ":        "http://node:7070",
		"https://node:7070/cairn/":   "https://node:7070/cairn",
		"http://[::1]:7070":          "http://[::1]:7070",
		"ftp://node:7070":            "",
		"http://":                    "",
		"http://node:7070/?x=1":      "",
		"http://user:pw@node:7070/":  "",
		"http://node:7070/#fragment": "",
	} {
		got, err := NormalizeURL(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// stub answers every request with status and body, and records the
// request's escaped path and Authorization header.
func stub(t *testing.T, status int, body string) (*Client, *[2]string) {
	t.Helper()
	var got [2]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = [2]string{r.URL.EscapedPath(), r.Header.Get("Authorization")}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, "cairn-token", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

func TestClientRequest(t *testing.T) {
	c, got := stub(t, http.StatusOK, `{"bucket":"b","key":"../a/b"}`)
	obj, err := c.ObjectStat(context.Background(), "b", "../a/b")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Bucket != "b" || obj.Key != "../a/b" {
		t.Errorf("answer %+v", obj)
	}
	// The key is one segment: slashes and dots escaped, so that nothing on
	// the way cleans the path.
	if got[0] != PathPrefix+"objects/b/%2E%2E%2Fa%2Fb" || got[1] != "Bearer cairn-token" {
		t.Errorf("request path %q, authorization %q", got[0], got[1])
	}
}

func TestClientErrors(t *testing.T) {
	c, _ := stub(t, http.StatusNotFound, `{"error":"NoSuchBucket","message":"bucket \"b\" does not exist"}`)
	err := c.DeleteBucket(context.Background(), "b")
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != CodeNoSuchBucket || ae.Error() != `bucket "b" does not exist (NoSuchBucket)` {
		t.Errorf("API error: %#v", err)
	}
	// Not the admin API (a proxy): a code from the HTTP status.
	c, _ = stub(t, http.StatusBadGateway, "<html>bad gateway</html>")
	_, err = c.Status(context.Background())
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Code != "BadGateway" || !strings.Contains(ae.Message, "not from the admin API") {
		t.Errorf("proxy error: %#v", err)
	}
	if _, err := NewClient("127.0.0.1:7070", "", nil); err == nil {
		t.Error("NewClient without a token")
	}
}
