//go:build integration

package itest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// signed builds a SigV4-signed request (header auth) at time at. It is a
// deliberately independent implementation of the AWS signing rules.
func signed(t *testing.T, p *proc, method, path string, query url.Values, body []byte, hdr map[string]string, at time.Time, secret string) *http.Request {
	t.Helper()
	u := p.url() + path
	if len(query) > 0 {
		u += "?" + strings.ReplaceAll(query.Encode(), "+", "%20")
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	payload := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(payload[:]))
	req.Header.Set("X-Amz-Date", at.UTC().Format("20060102T150405Z"))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if v, ok := hdr["X-Amz-Content-Sha256"]; ok {
		req.Header.Set("X-Amz-Content-Sha256", v)
	}
	names := []string{"host"}
	for k := range req.Header {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	var canonHdr strings.Builder
	for _, n := range names {
		v := req.Header.Get(n)
		if n == "host" {
			v = req.URL.Host
		}
		fmt.Fprintf(&canonHdr, "%s:%s\n", n, strings.TrimSpace(v))
	}
	signedHdrs := strings.Join(names, ";")
	canonQuery := strings.ReplaceAll(query.Encode(), "+", "%20")
	canon := strings.Join([]string{method, req.URL.EscapedPath(), canonQuery, canonHdr.String(), signedHdrs, req.Header.Get("X-Amz-Content-Sha256")}, "\n")
	day := at.UTC().Format("20060102")
	scope := day + "/" + region + "/s3/aws4_request"
	ch := sha256.Sum256([]byte(canon))
	sts := "AWS4-HMAC-SHA256\n" + at.UTC().Format("20060102T150405Z") + "\n" + scope + "\n" + hex.EncodeToString(ch[:])
	mac := func(k []byte, s string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(s)); return h.Sum(nil) }
	key := mac(mac(mac(mac([]byte("AWS4"+secret), day), region), "s3"), "aws4_request")
	sig := hex.EncodeToString(mac(key, sts))
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", p.access, scope, signedHdrs, sig))
	return req
}

type s3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// expectError sends req and checks the S3 error code and HTTP status.
func expectError(t *testing.T, req *http.Request, status int, code string) {
	t.Helper()
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e s3Error
	xml.Unmarshal(body, &e)
	if resp.StatusCode != status || (req.Method != http.MethodHead && e.Code != code) {
		t.Errorf("%s %s: got %d %q, want %d %s\n%s", req.Method, req.URL.Path, resp.StatusCode, e.Code, status, code, body)
	}
}

// do sends a request that must succeed and returns its body.
func do(t *testing.T, req *http.Request) []byte {
	t.Helper()
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d\n%s", req.Method, req.URL, resp.StatusCode, body)
	}
	return body
}

// TestErrorCodes produces every S3 error the gateway promises with a real
// request against a real process, and checks the exact code and status.
func TestErrorCodes(t *testing.T) {
	p := startDev(t, "")
	now := time.Now()
	req := func(method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, q, body, hdr, now, p.secret)
	}
	do(t, req("PUT", "/errs", nil, nil, nil))
	do(t, req("PUT", "/errs/k", nil, []byte("0123456789"), nil))

	expectError(t, req("GET", "/errs/missing", nil, nil, nil), 404, "NoSuchKey")
	expectError(t, req("GET", "/nobucket/k", nil, nil, nil), 404, "NoSuchBucket")
	expectError(t, req("DELETE", "/errs", nil, nil, nil), 409, "BucketNotEmpty")
	do(t, req("PUT", "/errs", nil, nil, nil)) // us-east-1: 200 for the bucket's owner
	expectError(t, req("PUT", "/Bad_Bucket", nil, nil, nil), 400, "InvalidBucketName")
	expectError(t, signed(t, p, "GET", "/errs/k", nil, nil, nil, now, "wrong-secret"), 403, "SignatureDoesNotMatch")
	bad := req("GET", "/errs/k", nil, nil, nil)
	bad.Header.Set("Authorization", strings.Replace(bad.Header.Get("Authorization"), "Credential="+p.access, "Credential=NOSUCHKEY", 1))
	expectError(t, bad, 403, "InvalidAccessKeyId")
	anon, _ := http.NewRequest("GET", p.url()+"/errs/k", nil)
	expectError(t, anon, 403, "AccessDenied")
	expectError(t, signed(t, p, "GET", "/errs/k", nil, nil, nil, now.Add(-time.Hour), p.secret), 403, "RequestTimeTooSkewed")
	expectError(t, req("GET", "/errs/k", nil, nil, map[string]string{"Range": "bytes=100-200"}), 416, "InvalidRange")
	expectError(t, req("GET", "/errs/k", nil, nil, map[string]string{"If-Match": `"0000"`}), 412, "PreconditionFailed")
	expectError(t, req("GET", "/errs/k", nil, nil, map[string]string{"If-Unmodified-Since": now.Add(-24 * time.Hour).UTC().Format(http.TimeFormat)}), 412, "PreconditionFailed")
	expectError(t, req("PUT", "/errs/k2", nil, []byte("abc"), map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(make([]byte, 16))}), 400, "BadDigest")
	expectError(t, req("PUT", "/errs/k3", nil, []byte("abc"), map[string]string{"X-Amz-Content-Sha256": strings.Repeat("0", 64)}), 400, "XAmzContentSHA256Mismatch")
	expectError(t, req("PUT", "/errs/"+strings.Repeat("k", 1025), nil, []byte("abc"), nil), 400, "KeyTooLongError")
	expectError(t, req("POST", "/errs", url.Values{"delete": {""}}, []byte("<Delete><Object><Key>k"), map[string]string{
		"Content-MD5": b64md5([]byte("<Delete><Object><Key>k")),
	}), 400, "MalformedXML")
	expectError(t, req("PUT", "/errs", url.Values{"policy": {""}}, []byte("{}"), nil), 400, "MalformedPolicy")
	expectError(t, req("PUT", "/errs", url.Values{"website": {""}}, []byte("<WebsiteConfiguration/>"), nil), 501, "NotImplemented")

	// Multipart errors.
	expectError(t, req("PUT", "/errs/mp", url.Values{"partNumber": {"1"}, "uploadId": {"nope"}}, []byte("x"), nil), 404, "NoSuchUpload")
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	xml.Unmarshal(do(t, req("POST", "/errs/mp", url.Values{"uploads": {""}}, nil, nil)), &init)
	part := func(n int, body []byte) string {
		r := req("PUT", "/errs/mp", url.Values{"partNumber": {fmt.Sprint(n)}, "uploadId": {init.UploadID}}, body, nil)
		resp, err := rawClient.Do(r)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("upload part %d: %v %v", n, err, resp)
		}
		resp.Body.Close()
		return resp.Header.Get("ETag")
	}
	e1 := part(1, []byte("small part one"))
	e2 := part(2, []byte("small part two"))
	complete := func(parts ...string) []byte {
		var b strings.Builder
		b.WriteString("<CompleteMultipartUpload>")
		for i := 0; i < len(parts); i += 2 {
			fmt.Fprintf(&b, "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>", parts[i], parts[i+1])
		}
		b.WriteString("</CompleteMultipartUpload>")
		return []byte(b.String())
	}
	q := url.Values{"uploadId": {init.UploadID}}
	expectError(t, req("POST", "/errs/mp", q, complete("1", e1, "2", e2), nil), 400, "EntityTooSmall")
	expectError(t, req("POST", "/errs/mp", q, complete("2", e2, "1", e1), nil), 400, "InvalidPartOrder")
	expectError(t, req("POST", "/errs/mp", q, complete("1", e1, "3", e2), nil), 400, "InvalidPart")
	expectError(t, req("POST", "/errs/mp", q, complete("1", `"00000000000000000000000000000000"`), nil), 400, "InvalidPart")
	expectError(t, req("POST", "/errs/mp", q, []byte("<CompleteMultipartUpload><Part>"), nil), 400, "MalformedXML")
	do(t, req("DELETE", "/errs/mp", q, nil, nil))
	expectError(t, req("POST", "/errs/mp", q, complete("1", e1), nil), 404, "NoSuchUpload")
}

func b64md5(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}
