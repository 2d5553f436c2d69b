//go:build integration

package itest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestSSEVersions (issue 14, encryption with versions and locks): in a
// versioned bucket each SSE-C version opens with its own key only, by
// version ID (GET and HEAD), and an SSE-S3 version answers its
// encryption; a CopyObject that re-encrypts an SSE-C object (read and
// written again) into an object lock bucket takes that bucket's default
// retention, which then refuses the copy's DELETE by version.
func TestSSEVersions(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	req := func(method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, q, body, hdr, time.Now(), p.secret)
	}
	mkBucket(t, c, "encv")
	if err := c.EnableVersioning(ctx, "encv"); err != nil {
		t.Fatal(err)
	}
	keyA, keyB := bytes.Repeat([]byte{0xA1}, 32), bytes.Repeat([]byte{0xB2}, 32)
	dataA, dataB, dataS3 := payloadBytes(31, 200<<10), payloadBytes(32, 150<<10+3), payloadBytes(33, 90<<10)
	put := func(body []byte, hdr map[string]string) string {
		t.Helper()
		resp, _ := wantStatus(t, req("PUT", "/encv/k", nil, body, hdr), 200, "")
		id := resp.Header.Get("x-amz-version-id")
		if id == "" || id == "null" {
			t.Fatalf("PUT in a versioned bucket answered version %q", id)
		}
		return id
	}
	vA := put(dataA, ssec(objSSEC, keyA))
	vB := put(dataB, ssec(objSSEC, keyB))
	vS3 := put(dataS3, map[string]string{"X-Amz-Server-Side-Encryption": "AES256"})

	for _, v := range []struct {
		id        string
		key, data []byte
	}{{vA, keyA, dataA}, {vB, keyB, dataB}} {
		q := url.Values{"versionId": {v.id}}
		resp, got := wantStatus(t, req("GET", "/encv/k", q, nil, ssec(objSSEC, v.key)), 200, "")
		if !bytes.Equal(got, v.data) || resp.Header.Get("x-amz-version-id") != v.id || resp.Header.Get(objSSEC+"Algorithm") != "AES256" {
			t.Fatalf("GET of SSE-C version %s with its key: %d bytes, headers %v", v.id, len(got), resp.Header)
		}
		wantStatus(t, req("HEAD", "/encv/k", q, nil, ssec(objSSEC, v.key)), 200, "")
		other := keyA
		if bytes.Equal(v.key, keyA) {
			other = keyB
		}
		wantStatus(t, req("GET", "/encv/k", q, nil, nil), 400, "InvalidRequest")
		wantStatus(t, req("GET", "/encv/k", q, nil, ssec(objSSEC, other)), 403, "AccessDenied")
		wantStatus(t, req("HEAD", "/encv/k", q, nil, ssec(objSSEC, other)), 403, "")
	}
	// The current version is SSE-S3: no key needed, and it says so, by ID
	// as without.
	for _, q := range []url.Values{nil, {"versionId": {vS3}}} {
		resp, got := wantStatus(t, req("GET", "/encv/k", q, nil, nil), 200, "")
		if !bytes.Equal(got, dataS3) || resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" || resp.Header.Get("x-amz-version-id") != vS3 {
			t.Fatalf("GET of the SSE-S3 version (%v): %d bytes, headers %v", q, len(got), resp.Header)
		}
	}

	// A lock bucket with a default GOVERNANCE retention of a day.
	wantStatus(t, req("PUT", "/lockenc", nil, nil, map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"}), 200, "")
	lockCfg := []byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>`)
	sum := md5.Sum(lockCfg)
	wantStatus(t, req("PUT", "/lockenc", url.Values{"object-lock": {""}}, lockCfg, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}), 200, "")
	// Copy version A (SSE-C, key A) under key B: read and written again.
	before := time.Now()
	hdr := ssec(copySSEC, keyA, "X-Amz-Copy-Source", "/encv/k?versionId="+vA, objSSEC+"Algorithm", "AES256",
		objSSEC+"Key", base64.StdEncoding.EncodeToString(keyB), objSSEC+"Key-Md5", ssec(objSSEC, keyB)[objSSEC+"Key-Md5"])
	resp, _ := wantStatus(t, req("PUT", "/lockenc/copy", nil, nil, hdr), 200, "")
	cv := resp.Header.Get("x-amz-version-id")
	if cv == "" || resp.Header.Get("x-amz-copy-source-version-id") != vA {
		t.Fatalf("copy into the lock bucket: headers %v", resp.Header)
	}
	resp, got := wantStatus(t, req("GET", "/lockenc/copy", url.Values{"versionId": {cv}}, nil, ssec(objSSEC, keyB)), 200, "")
	if !bytes.Equal(got, dataA) {
		t.Fatalf("the copy read back %d bytes", len(got))
	}
	until, err := time.Parse(time.RFC3339, resp.Header.Get("x-amz-object-lock-retain-until-date"))
	if resp.Header.Get("x-amz-object-lock-mode") != "GOVERNANCE" || err != nil ||
		until.Before(before.Add(24*time.Hour-time.Minute)) || until.After(time.Now().Add(24*time.Hour+time.Minute)) {
		t.Fatalf("the re-encrypted copy's lock: mode %q, until %q (%v)", resp.Header.Get("x-amz-object-lock-mode"), resp.Header.Get("x-amz-object-lock-retain-until-date"), err)
	}
	wantStatus(t, req("DELETE", "/lockenc/copy", url.Values{"versionId": {cv}}, nil, nil), 403, "AccessDenied")
	wantStatus(t, req("GET", "/lockenc/copy", url.Values{"versionId": {cv}}, nil, nil), 400, "InvalidRequest")
}
