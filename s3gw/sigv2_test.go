package s3gw

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The worked examples of "Signing and authenticating REST requests" (the
// SigV2 page of the S3 user guide), with the doc's credentials (testAK,
// testSK). Those for the Authorization header check the string to sign and
// its signature, which query-string authentication shares; header SigV2
// itself stays refused.
func TestSigV2DocStringToSign(t *testing.T) {
	for _, c := range []struct {
		name, method, target, host string
		hdr                        []string
		date, bucket               string
		sts, sig                   string // sig "": the doc's was not recomputed when it renamed its hosts
	}{
		{
			"Object GET", "GET", "/photos/puppy.jpg", "awsexamplebucket1.us-west-1.s3.amazonaws.com", nil,
			"Tue, 27 Mar 2007 19:36:42 +0000", "awsexamplebucket1",
			"GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
			"qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
		},
		{
			"Object PUT", "PUT", "/photos/puppy.jpg", "awsexamplebucket1.s3.us-west-1.amazonaws.com",
			[]string{"Content-Type", "image/jpeg"},
			"Tue, 27 Mar 2007 21:15:45 +0000", "awsexamplebucket1",
			"PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
			"iqRzw+ileNPu1fhspnRs8nOjjIA=",
		},
		{
			"List: no query, trailing slash", "GET", "/?prefix=photos&max-keys=50&marker=puppy", "awsexamplebucket1.s3.us-west-1.amazonaws.com",
			[]string{"User-Agent", "Mozilla/5.0"},
			"Tue, 27 Mar 2007 19:42:41 +0000", "awsexamplebucket1",
			"GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
			"m0WP8eCtspQl5Ahe6L1SozdX9YA=",
		},
		{
			"Fetch: sub-resource", "GET", "/?acl", "awsexamplebucket1.s3.us-west-1.amazonaws.com", nil,
			"Tue, 27 Mar 2007 19:44:46 +0000", "awsexamplebucket1",
			"GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
			"82ZHiFIjc+WbcwFKGUVEQspPn+0=",
		},
		{
			"Upload: x-amz headers, CNAME", "PUT", "/db-backup.dat.gz", "static.example.com:8080",
			[]string{
				"User-Agent", "curl/7.15.5",
				"x-amz-acl", "public-read",
				"content-type", "application/x-download",
				"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw==",
				"X-Amz-Meta-ReviewedBy", "joe@example.com",
				"X-Amz-Meta-ReviewedBy", "jane@example.com",
				"X-Amz-Meta-FileChecksum", "0x02661779",
				"X-Amz-Meta-ChecksumAlgorithm", "crc32",
				"Content-Disposition", "attachment; filename=database.dat",
				"Content-Encoding", "gzip",
			},
			"Tue, 27 Mar 2007 21:06:08 +0000", "static.example.com",
			"PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
				"x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n" +
				"x-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz",
			"",
		},
		{
			"List all my buckets", "GET", "/", "s3.us-west-1.amazonaws.com", nil,
			"Wed, 28 Mar 2007 01:29:59 +0000", "",
			"GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
			"qGdzdERIC03wnaRNKh6OqZehG9s=",
		},
		{
			"Unicode keys: the path as sent", "GET", "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", "s3.us-west-1.amazonaws.com", nil,
			"Wed, 28 Mar 2007 01:49:49 +0000", "",
			"GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
			"DNEZGsoieTZ92F3bUfSPQcbGmlM=",
		},
		{
			// The query-string example as the page now prints it: its
			// signature is that of the page's earlier bucket (below).
			"Query string", "GET", "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
			"awsexamplebucket1.s3.us-west-1.amazonaws.com", nil,
			"1175139620", "awsexamplebucket1",
			"GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg",
			"",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, nil)
			r.Host = c.host
			for i := 0; i+1 < len(c.hdr); i += 2 {
				r.Header.Add(c.hdr[i], c.hdr[i+1])
			}
			sts := stringToSignV2(r, c.date, c.bucket)
			if sts != c.sts {
				t.Fatalf("string to sign\n%q\nwant\n%q", sts, c.sts)
			}
			if c.sig != "" && signV2(testSK, sts) != c.sig {
				t.Fatalf("signature %s, want %s", signV2(testSK, sts), c.sig)
			}
		})
	}
}

// docV2URL is the doc's query-string example with the bucket its signature
// was computed for: the page printed "johnsmith" (as the S3 developer guide
// still does) before it renamed the bucket without signing again.
const docV2URL = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"

const docV2Expires = 1175139620

func docV2Server(t *testing.T, now int64) *Server {
	t.Helper()
	s, err := New(Config{
		Backend:     newMemBackend(),
		Credentials: memCreds{testAK: testSK},
		Domains:     []string{"s3.amazonaws.com"},
		Now:         func() time.Time { return time.Unix(now, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSigV2DocPresigned(t *testing.T) {
	req := func(method, host, target string) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		r.Host = host
		return r
	}
	vhost := func(target string) *http.Request { return req("GET", "johnsmith.s3.amazonaws.com", target) }
	for _, c := range []struct {
		name string
		r    *http.Request
		now  int64
		want error
	}{
		{"virtual host", vhost(docV2URL), docV2Expires - 3600, nil},
		{"at Expires", vhost(docV2URL), docV2Expires, nil},
		{"path style", req("GET", "s3.amazonaws.com", "/johnsmith"+docV2URL), docV2Expires - 3600, nil},
		{"signature not percent-encoded", vhost(strings.Replace(docV2URL, "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", "NpgCjnDzrM+WFzoENXmpNDUsSn8=", 1)), docV2Expires - 3600, nil},
		{"unsigned parameter", vhost(docV2URL + "&x-id=GetObject"), docV2Expires - 3600, nil},
		{"expired", vhost(docV2URL), docV2Expires + 1, errAccessDenied},
		{"other bucket", req("GET", "awsexamplebucket1.s3.amazonaws.com", docV2URL), docV2Expires - 3600, errSignatureDoesNotMatch},
		{"other key", vhost(strings.Replace(docV2URL, "puppy", "kitten", 1)), docV2Expires - 3600, errSignatureDoesNotMatch},
		{"signed sub-resource added", vhost(docV2URL + "&response-content-type=text/html"), docV2Expires - 3600, errSignatureDoesNotMatch},
		{"HEAD with a GET signature", req("HEAD", "johnsmith.s3.amazonaws.com", docV2URL), docV2Expires - 3600, errSignatureDoesNotMatch},
		{"later Expires", vhost(strings.Replace(docV2URL, "1175139620", "1175139621", 1)), docV2Expires - 3600, errSignatureDoesNotMatch},
		{"unknown key", vhost(strings.Replace(docV2URL, testAK, "AKIDUNKNOWN", 1)), docV2Expires - 3600, ErrInvalidAccessKeyID},
		{"PUT", req("PUT", "johnsmith.s3.amazonaws.com", docV2URL), docV2Expires - 3600, errAuthMechanism},
		{"DELETE", req("DELETE", "johnsmith.s3.amazonaws.com", docV2URL), docV2Expires - 3600, errAuthMechanism},
		{"no Signature", vhost(strings.Replace(docV2URL, "Signature=", "Signatur=", 1)), docV2Expires - 3600, errAccessDenied},
		{"bad Expires", vhost(strings.Replace(docV2URL, "1175139620", "tomorrow", 1)), docV2Expires - 3600, errAccessDenied},
		{"with X-Amz-Algorithm", vhost(docV2URL + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"), docV2Expires - 3600, errInvalidArgument},
		{"undecodable query", vhost(docV2URL + "&a=%zz"), docV2Expires - 3600, errInvalidArgument},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := docV2Server(t, c.now).authenticate(c.r)
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if err == nil && (a.accessKey != testAK || !a.presigned || a.payload != unsignedPayload) {
				t.Fatalf("auth %+v", a)
			}
		})
	}
	// S3's wording for the errors a client must tell apart.
	_, err := docV2Server(t, docV2Expires+1).authenticate(vhost(docV2URL))
	if !strings.Contains(err.Error(), "Request has expired") {
		t.Errorf("expired: %v", err)
	}
	_, err = docV2Server(t, 0).authenticate(req("PUT", "johnsmith.s3.amazonaws.com", docV2URL))
	if !strings.Contains(err.Error(), "Please use AWS4-HMAC-SHA256") {
		t.Errorf("PUT: %v", err)
	}
}

// presignV2 builds a SigV2 presigned URL for e by hand: an implementation
// apart from stringToSignV2, following the doc. resource is the
// CanonicalizedResource, path the path as sent, query extra parameters
// (encoded).
func (e *testEnv) presignV2(method, host, resource, path, query, secret string, expires time.Time) *http.Request {
	e.t.Helper()
	exp := strconv.FormatInt(expires.Unix(), 10)
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(method + "\n\n\n" + exp + "\n" + resource))
	sig := base64.StdEncoding.EncodeToString(h.Sum(nil))
	u := e.ts.URL + path + "?AWSAccessKeyId=" + testAK + "&Expires=" + exp + "&Signature=" + url.QueryEscape(sig)
	if query != "" {
		u += "&" + query
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	return req
}

// TestSigV2Presigned sends hand-made SigV2 presigned URLs through net/http.
func TestSigV2Presigned(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	const key = "dir/small file+ü.txt"
	const path = "/bkt/dir/small%20file%2B%C3%BC.txt"
	data := []byte("presigned with SigV2\n")
	e.must(200, "PUT", path, data)
	soon := time.Now().Add(time.Hour)

	get := func(name string, req *http.Request, status int, code string) (*http.Response, []byte) {
		t.Helper()
		resp, body := e.do(req)
		if code != "" {
			wantError(t, resp, body, status, code)
		} else if resp.StatusCode != status {
			t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, status, body)
		}
		return resp, body
	}

	_, body := get("GET", e.presignV2("GET", "", path, path, "", testSK, soon), 200, "")
	if string(body) != string(data) {
		t.Fatalf("GET: %q", body)
	}
	resp, _ := get("HEAD", e.presignV2("HEAD", "", path, path, "", testSK, soon), 200, "")
	if resp.ContentLength != int64(len(data)) {
		t.Fatalf("HEAD: Content-Length %d", resp.ContentLength)
	}
	// Virtual-host style: the bucket comes from Host but is signed.
	_, body = get("virtual host", e.presignV2("GET", "bkt.localhost", path, path[len("/bkt"):], "", testSK, soon), 200, "")
	if string(body) != string(data) {
		t.Fatalf("virtual host GET: %q", body)
	}
	// A response override is a signed sub-resource, with its value decoded;
	// other parameters are not signed.
	resp, _ = get("override", e.presignV2("GET", "", path+"?response-content-type=text/plain; charset=utf-8", path,
		"response-content-type=text%2Fplain%3B%20charset%3Dutf-8&x-id=GetObject", testSK, soon), 200, "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("override: Content-Type %q", ct)
	}
	get("override added", e.presignV2("GET", "", path, path, "response-content-type=text%2Fhtml", testSK, soon), 403, "SignatureDoesNotMatch")
	_, body = get("list", e.presignV2("GET", "", "/bkt", "/bkt", "prefix=dir%2F", testSK, soon), 200, "")
	if !strings.Contains(string(body), "<Key>"+key+"</Key>") {
		t.Fatalf("list: %s", body)
	}

	get("expired", e.presignV2("GET", "", path, path, "", testSK, time.Now().Add(-time.Second)), 403, "AccessDenied")
	get("wrong secret", e.presignV2("GET", "", path, path, "", "wrong secret", soon), 403, "SignatureDoesNotMatch")
	get("other key", e.presignV2("GET", "", path, "/bkt/other", "", testSK, soon), 403, "SignatureDoesNotMatch")
	unknown := e.presignV2("GET", "", path, path, "", testSK, soon)
	unknown.URL.RawQuery = strings.Replace(unknown.URL.RawQuery, testAK, "AKIDUNKNOWN", 1)
	get("unknown key", unknown, 403, "InvalidAccessKeyId")
	both := e.presignV2("GET", "", path, path, "", testSK, soon)
	both.Header.Set("Authorization", e.signedReq("GET", path, nil).Header.Get("Authorization"))
	get("two auth mechanisms", both, 400, "InvalidArgument")

	// Writes are refused, however well signed, and change nothing.
	put := e.presignV2("PUT", "", path, path, "", testSK, soon)
	put.Body, put.ContentLength = http.NoBody, 0
	get("PUT", put, 400, "InvalidRequest")
	get("DELETE", e.presignV2("DELETE", "", path, path, "", testSK, soon), 400, "InvalidRequest")
	get("POST", e.presignV2("POST", "", "/bkt?delete", "/bkt", "delete", testSK, soon), 400, "InvalidRequest")
	if obj, err := e.be.GetObject(t.Context(), "bkt", key); err != nil || obj.Info().Size != int64(len(data)) {
		t.Fatalf("object after refused writes: %v", err)
	}
}
