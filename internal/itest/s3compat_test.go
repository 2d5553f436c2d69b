//go:build integration

package itest

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// send sends a request and returns the response, its body read.
func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// head returns the headers of a signed HEAD of bucket/key, which must
// succeed.
func head(t *testing.T, p *proc, bucket, key string, hdr map[string]string) http.Header {
	t.Helper()
	resp, _ := send(t, signed(t, p, http.MethodHead, "/"+bucket+"/"+key, nil, nil, hdr, time.Now(), p.secret))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s/%s: %d", bucket, key, resp.StatusCode)
	}
	return resp.Header
}
