//go:build integration

package itest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// anon sends an unsigned request and checks its status and S3 error code.
func anon(t *testing.T, p *proc, method, target string, body []byte, status int, code string) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, p.url()+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	_, b := wantStatus(t, req, status, code)
	return b
}

// clientAs returns a minio-go client signing with another key.
func (p *proc) clientAs(ak, sk string) *minio.Client {
	p.t.Helper()
	c, err := minio.New(p.endpoint, &minio.Options{Creds: credentials.NewStaticV4(ak, sk, ""), Region: region, MaxRetries: 1})
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// s3Code returns the S3 error code of a minio-go error.
func minioCode(err error) string {
	var e minio.ErrorResponse
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestBucketPolicy drives bucket policies with the AWS CLI, minio-go and
// plain unsigned HTTP against storaged --dev: anonymous reads refused
// without a policy and allowed with one, a Deny beating an Allow for
// anonymous requests and for keys, a key named by its ARN denied writes,
// malformed documents refused, and the policy's removal closing the bucket
// again.
func TestBucketPolicy(t *testing.T) {
	p := startDev(t, "")
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "pol")
	put := func(c *minio.Client, key, data string) error {
		_, err := c.PutObject(ctx, "pol", key, strings.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		return err
	}
	for _, k := range []string{"pub/a.txt", "pub/secret.txt", "priv/b.txt"} {
		if err := put(c, k, "data of "+k); err != nil {
			t.Fatal(err)
		}
	}
	env := awsEnv(t, p)
	aws := func(args ...string) (string, error) {
		return toolErr(t, env, "aws", append([]string{"--endpoint-url", p.url(), "--output", "json"}, args...)...)
	}

	// No policy: anonymous requests are refused, GetBucketPolicy says so.
	anon(t, p, "GET", "/pol/pub/a.txt", nil, 403, "AccessDenied")
	anon(t, p, "HEAD", "/pol/pub/a.txt", nil, 403, "")
	anon(t, p, "GET", "/pol?prefix=pub/", nil, 403, "AccessDenied")
	anon(t, p, "GET", "/", nil, 403, "AccessDenied")
	if out, err := aws("s3api", "get-bucket-policy", "--bucket", "pol"); err == nil || !strings.Contains(out, "NoSuchBucketPolicy") {
		t.Fatalf("get-bucket-policy without a policy: %v\n%s", err, out)
	}

	// A second key, to be named by its ARN.
	k2, err := p.adminClient().CreateKey(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2 := p.clientAs(k2.ID, k2.Secret)

	// Malformed documents are refused.
	dir := t.TempDir()
	for _, bad := range []string{
		`not json`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`,
	} {
		f := filepath.Join(dir, "bad.json")
		os.WriteFile(f, []byte(bad), 0o600)
		if out, err := aws("s3api", "put-bucket-policy", "--bucket", "pol", "--policy", "file://"+f); err == nil || !strings.Contains(out, "MalformedPolicy") {
			t.Fatalf("put-bucket-policy %s: %v\n%s", bad, err, out)
		}
	}

	policy := `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol/pub/*"},
    {"Sid": "ListPub", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::pol",
     "Condition": {"StringLike": {"s3:prefix": "pub/*"}}},
    {"Sid": "NoSecrets", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol/pub/secret*"},
    {"Sid": "ReadOnlyKey", "Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam::cairn:user/` + k2.ID + `"]},
     "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::pol/*"}
  ]
}`
	f := filepath.Join(dir, "policy.json")
	os.WriteFile(f, []byte(policy), 0o600)
	if out, err := aws("s3api", "put-bucket-policy", "--bucket", "pol", "--policy", "file://"+f); err != nil {
		t.Fatalf("put-bucket-policy: %v\n%s", err, out)
	}
	out, err := aws("s3api", "get-bucket-policy", "--bucket", "pol")
	if err != nil {
		t.Fatalf("get-bucket-policy: %v\n%s", err, out)
	}
	var got struct{ Policy string }
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Policy != policy {
		t.Fatalf("get-bucket-policy answered %q (%v), want the document put", out, err)
	}
	out, err = aws("s3api", "get-bucket-policy-status", "--bucket", "pol")
	var status struct{ PolicyStatus struct{ IsPublic bool } }
	if err != nil || json.Unmarshal([]byte(out), &status) != nil || !status.PolicyStatus.IsPublic {
		t.Fatalf("get-bucket-policy-status: %v\n%s", err, out)
	}

	// Anonymous reads under pub/ work with plain HTTP; elsewhere they
	// do not, nor writes; the Deny beats the Allow.
	if b := anon(t, p, "GET", "/pol/pub/a.txt", nil, 200, ""); string(b) != "data of pub/a.txt" {
		t.Fatalf("anonymous GET read %q", b)
	}
	anon(t, p, "HEAD", "/pol/pub/a.txt", nil, 200, "")
	anon(t, p, "GET", "/pol/priv/b.txt", nil, 403, "AccessDenied")
	anon(t, p, "PUT", "/pol/pub/new.txt", []byte("x"), 403, "AccessDenied")
	anon(t, p, "DELETE", "/pol/pub/a.txt", nil, 403, "AccessDenied")
	anon(t, p, "GET", "/pol/pub/secret.txt", nil, 403, "AccessDenied")
	if b := anon(t, p, "GET", "/pol?list-type=2&prefix=pub/", nil, 200, ""); !bytes.Contains(b, []byte("<Key>pub/a.txt</Key>")) || bytes.Contains(b, []byte("priv/")) {
		t.Fatalf("anonymous listing of pub/:\n%s", b)
	}
	anon(t, p, "GET", "/pol?list-type=2&prefix=priv/", nil, 403, "AccessDenied")
	anon(t, p, "GET", "/pol?list-type=2", nil, 403, "AccessDenied")
	anon(t, p, "GET", "/pol?policy", nil, 403, "AccessDenied")

	// Keys: the Deny on secrets holds for them too; the key named by
	// its ARN reads but cannot write; the first key still writes.
	if _, err := c.StatObject(ctx, "pol", "pub/secret.txt", minio.StatObjectOptions{}); minioCode(err) != "AccessDenied" {
		t.Fatalf("a key read a denied object: %v", err)
	}
	if err := put(c2, "pub/k2.txt", "k2"); minioCode(err) != "AccessDenied" {
		t.Fatalf("PUT by the denied key: %v, want AccessDenied", err)
	}
	if err := c2.RemoveObject(ctx, "pol", "pub/a.txt", minio.RemoveObjectOptions{}); minioCode(err) != "AccessDenied" {
		t.Fatalf("DELETE by the denied key: %v, want AccessDenied", err)
	}
	r, err := c2.GetObject(ctx, "pol", "priv/b.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "data of priv/b.txt" {
		t.Fatalf("GET by the read-only key: %q %v", b, err)
	}
	if err := put(c, "pub/k1.txt", "k1"); err != nil {
		t.Fatalf("PUT by the first key: %v", err)
	}

	// The policy goes: anonymous requests are refused again.
	if out, err := aws("s3api", "delete-bucket-policy", "--bucket", "pol"); err != nil {
		t.Fatalf("delete-bucket-policy: %v\n%s", err, out)
	}
	anon(t, p, "GET", "/pol/pub/a.txt", nil, 403, "AccessDenied")
	if err := put(c2, "pub/k2.txt", "k2"); err != nil {
		t.Fatalf("PUT by the second key without a policy: %v", err)
	}
}

// TestCannedACL drives canned ACLs with the AWS CLI and minio-go: buckets
// and objects created public-read are readable by plain unsigned HTTP,
// private ones are not; Get*Acl answer AWS's AccessControlPolicy; grants no
// canned ACL expresses are refused.
func TestCannedACL(t *testing.T) {
	p := startDev(t, "")
	ctx := ctxT(t)
	c := p.client()
	env := awsEnv(t, p)
	aws := func(args ...string) (string, error) {
		return toolErr(t, env, "aws", append([]string{"--endpoint-url", p.url(), "--output", "json"}, args...)...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := aws(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	type aclOut struct {
		Owner  struct{ ID string }
		Grants []struct {
			Grantee struct {
				Type string
				ID   string
				URI  string
			}
			Permission string
		}
	}
	grants := func(out string) string {
		t.Helper()
		var a aclOut
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if a.Owner.ID != p.access {
			t.Fatalf("owner %q, want %q", a.Owner.ID, p.access)
		}
		var s []string
		for _, g := range a.Grants {
			s = append(s, g.Grantee.Type+":"+g.Grantee.ID+g.Grantee.URI+":"+g.Permission)
		}
		return strings.Join(s, " ")
	}
	owner := "CanonicalUser:" + p.access + ":FULL_CONTROL"
	allRead := "Group:http://acs.amazonaws.com/groups/global/AllUsers:READ"

	// A bucket created public-read: anonymous listings work, its objects
	// stay private unless written public-read.
	must("s3api", "create-bucket", "--bucket", "pubb", "--acl", "public-read")
	if g := grants(must("s3api", "get-bucket-acl", "--bucket", "pubb")); g != owner+" "+allRead {
		t.Fatalf("get-bucket-acl of a public-read bucket: %s", g)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("public bytes"), 0o600)
	must("s3api", "put-object", "--bucket", "pubb", "--key", "open.txt", "--body", f, "--acl", "public-read")
	must("s3api", "put-object", "--bucket", "pubb", "--key", "closed.txt", "--body", f)
	if b := anon(t, p, "GET", "/pubb?list-type=2", nil, 200, ""); !bytes.Contains(b, []byte("<Key>closed.txt</Key>")) {
		t.Fatalf("anonymous listing of a public-read bucket:\n%s", b)
	}
	if b := anon(t, p, "GET", "/pubb/open.txt", nil, 200, ""); string(b) != "public bytes" {
		t.Fatalf("anonymous GET of a public-read object: %q", b)
	}
	anon(t, p, "GET", "/pubb/closed.txt", nil, 403, "AccessDenied")
	anon(t, p, "PUT", "/pubb/new.txt", []byte("x"), 403, "AccessDenied")
	anon(t, p, "GET", "/pubb/open.txt?acl", nil, 403, "AccessDenied")
	if g := grants(must("s3api", "get-object-acl", "--bucket", "pubb", "--key", "open.txt")); g != owner+" "+allRead {
		t.Fatalf("get-object-acl of a public-read object: %s", g)
	}
	if g := grants(must("s3api", "get-object-acl", "--bucket", "pubb", "--key", "closed.txt")); g != owner {
		t.Fatalf("get-object-acl of a private object: %s", g)
	}
	// The ACL is not user metadata nor a header of the object.
	resp, _ := wantStatus(t, mustReq(t, "GET", p.url()+"/pubb/open.txt"), 200, "")
	if resp.Header.Get("X-Amz-Acl") != "" {
		t.Fatalf("GET sent the ACL back: %v", resp.Header)
	}

	// PutObjectAcl turns it around, both ways; the bytes stay.
	must("s3api", "put-object-acl", "--bucket", "pubb", "--key", "open.txt", "--acl", "private")
	anon(t, p, "GET", "/pubb/open.txt", nil, 403, "AccessDenied")
	must("s3api", "put-object-acl", "--bucket", "pubb", "--key", "closed.txt", "--acl", "public-read")
	if b := anon(t, p, "GET", "/pubb/closed.txt", nil, 200, ""); string(b) != "public bytes" {
		t.Fatalf("anonymous GET after put-object-acl public-read: %q", b)
	}
	// A copy takes the request's ACL, not its source's.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "pubb", Object: "copy.txt"}, minio.CopySrcOptions{Bucket: "pubb", Object: "closed.txt"}); err != nil {
		t.Fatal(err)
	}
	anon(t, p, "GET", "/pubb/copy.txt", nil, 403, "AccessDenied")

	// The bucket goes private: listings close.
	must("s3api", "put-bucket-acl", "--bucket", "pubb", "--acl", "private")
	if g := grants(must("s3api", "get-bucket-acl", "--bucket", "pubb")); g != owner {
		t.Fatalf("get-bucket-acl after private: %s", g)
	}
	anon(t, p, "GET", "/pubb?list-type=2", nil, 403, "AccessDenied")

	// An AccessControlPolicy document of a canned ACL is kept; grants no
	// canned ACL expresses are refused, as are the grant headers.
	doc := `{"Owner":{"ID":"` + p.access + `"},"Grants":[{"Grantee":{"Type":"CanonicalUser","ID":"` + p.access + `"},"Permission":"FULL_CONTROL"},{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}]}`
	must("s3api", "put-bucket-acl", "--bucket", "pubb", "--access-control-policy", doc)
	if g := grants(must("s3api", "get-bucket-acl", "--bucket", "pubb")); g != owner+" "+allRead {
		t.Fatalf("get-bucket-acl after a public-read document: %s", g)
	}
	bad := `{"Owner":{"ID":"` + p.access + `"},"Grants":[{"Grantee":{"Type":"AmazonCustomerByEmail","EmailAddress":"a@example.com"},"Permission":"READ"}]}`
	if out, err := aws("s3api", "put-bucket-acl", "--bucket", "pubb", "--access-control-policy", bad); err == nil || !strings.Contains(out, "NotImplemented") {
		t.Fatalf("put-bucket-acl with an e-mail grantee: %v\n%s", err, out)
	}
	if out, err := aws("s3api", "put-bucket-acl", "--bucket", "pubb", "--grant-read", "uri=http://acs.amazonaws.com/groups/global/AllUsers"); err == nil || !strings.Contains(out, "NotImplemented") {
		t.Fatalf("put-bucket-acl --grant-read: %v\n%s", err, out)
	}
	if out, err := aws("s3api", "put-object", "--bucket", "pubb", "--key", "k", "--body", f, "--acl", "log-delivery-write"); err == nil || !strings.Contains(out, "NotImplemented") {
		t.Fatalf("put-object --acl log-delivery-write: %v\n%s", err, out)
	}
	if g := grants(must("s3api", "get-bucket-acl", "--bucket", "pubb")); g != owner+" "+allRead {
		t.Fatalf("a refused put-bucket-acl changed the ACL: %s", g)
	}

	// A public-read-write bucket takes anonymous writes and deletes.
	if err := c.MakeBucket(ctx, "rwb", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	must("s3api", "put-bucket-acl", "--bucket", "rwb", "--acl", "public-read-write")
	anon(t, p, "PUT", "/rwb/dropped.txt", []byte("anonymous bytes"), 200, "")
	r, err := c.GetObject(ctx, "rwb", "dropped.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "anonymous bytes" {
		t.Fatalf("read back an anonymous write: %q %v", b, err)
	}
	anon(t, p, "DELETE", "/rwb/dropped.txt", nil, 204, "")
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestCORS drives a bucket's CORS configuration with the AWS CLI and
// answers preflights and actual requests from browsers' origins as S3
// does, errors included.
func TestCORS(t *testing.T) {
	p := startDev(t, "")
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "web")
	if _, err := c.PutObject(ctx, "web", "page.txt", strings.NewReader("hello"), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	env := awsEnv(t, p)
	aws := func(args ...string) (string, error) {
		return toolErr(t, env, "aws", append([]string{"--endpoint-url", p.url(), "--output", "json"}, args...)...)
	}
	if out, err := aws("s3api", "get-bucket-cors", "--bucket", "web"); err == nil || !strings.Contains(out, "NoSuchCORSConfiguration") {
		t.Fatalf("get-bucket-cors without rules: %v\n%s", err, out)
	}
	preflight := func(target, origin, method, headers string, status int, code string) *http.Response {
		t.Helper()
		req := mustReq(t, "OPTIONS", p.url()+target)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		resp, _ := wantStatus(t, req, status, code)
		return resp
	}
	// No rules: every preflight is refused.
	preflight("/web/page.txt", "http://app.test", "GET", "", 403, "AccessForbidden")

	bad := `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["PATCH"]}]}`
	if out, err := aws("s3api", "put-bucket-cors", "--bucket", "web", "--cors-configuration", bad); err == nil || !strings.Contains(out, "InvalidRequest") {
		t.Fatalf("put-bucket-cors with PATCH: %v\n%s", err, out)
	}
	cfg := `{"CORSRules":[
	  {"ID":"app","AllowedOrigins":["http://*.app.test"],"AllowedMethods":["GET","HEAD","PUT"],"AllowedHeaders":["x-amz-*","content-type"],"ExposeHeaders":["ETag","x-amz-request-id"],"MaxAgeSeconds":600},
	  {"ID":"any","AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`
	if out, err := aws("s3api", "put-bucket-cors", "--bucket", "web", "--cors-configuration", cfg); err != nil {
		t.Fatalf("put-bucket-cors: %v\n%s", err, out)
	}
	out, err := aws("s3api", "get-bucket-cors", "--bucket", "web")
	if err != nil {
		t.Fatalf("get-bucket-cors: %v\n%s", err, out)
	}
	var got struct {
		CORSRules []struct {
			ID             string
			AllowedOrigins []string
			AllowedMethods []string
			AllowedHeaders []string
			ExposeHeaders  []string
			MaxAgeSeconds  int
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.CORSRules) != 2 || got.CORSRules[0].ID != "app" ||
		got.CORSRules[0].MaxAgeSeconds != 600 || strings.Join(got.CORSRules[0].AllowedMethods, ",") != "GET,HEAD,PUT" ||
		strings.Join(got.CORSRules[0].ExposeHeaders, ",") != "ETag,x-amz-request-id" || got.CORSRules[1].AllowedOrigins[0] != "*" {
		t.Fatalf("get-bucket-cors answered %s", out)
	}

	// Preflights: a matching rule answers with its headers.
	resp := preflight("/web/page.txt", "http://www.app.test", "PUT", "Content-Type, X-Amz-Date", 200, "")
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      "http://www.app.test",
		"Access-Control-Allow-Methods":     "GET, HEAD, PUT",
		"Access-Control-Allow-Headers":     "content-type, x-amz-date",
		"Access-Control-Expose-Headers":    "ETag, x-amz-request-id",
		"Access-Control-Max-Age":           "600",
		"Access-Control-Allow-Credentials": "true",
	} {
		if v := resp.Header.Get(k); v != want {
			t.Errorf("preflight %s = %q, want %q", k, v, want)
		}
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("preflight Vary = %q", resp.Header.Get("Vary"))
	}
	resp = preflight("/web", "http://elsewhere.test", "GET", "", 200, "")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight under the * rule: %v", resp.Header)
	}
	// ... and no rule, a 403 AccessForbidden.
	preflight("/web/page.txt", "http://elsewhere.test", "PUT", "", 403, "AccessForbidden")
	preflight("/web/page.txt", "http://www.app.test", "PUT", "Authorization", 403, "AccessForbidden")
	preflight("/web/page.txt", "http://www.app.test", "DELETE", "", 403, "AccessForbidden")
	preflight("/web/page.txt", "", "GET", "", 400, "BadRequest")
	preflight("/nobucket/k", "http://www.app.test", "GET", "", 403, "AccessForbidden")

	// Actual requests from a matching origin carry the headers, errors
	// too (an anonymous GET without a policy is refused, and says so to
	// the page).
	req := mustReq(t, "GET", p.url()+"/web/page.txt")
	req.Header.Set("Origin", "http://www.app.test")
	resp, _ = wantStatus(t, req, 403, "AccessDenied")
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://www.app.test" || resp.Header.Get("Access-Control-Expose-Headers") != "ETag, x-amz-request-id" ||
		!strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Fatalf("CORS headers of an error: %v", resp.Header)
	}
	// A signed request through minio-go would not carry Origin; a
	// presigned URL fetched by a page does.
	u, err := c.PresignedGetObject(ctx, "web", "page.txt", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	req = mustReq(t, "GET", u.String())
	req.Header.Set("Origin", "http://www.app.test")
	resp, body := wantStatus(t, req, 200, "")
	if string(body) != "hello" || resp.Header.Get("Access-Control-Allow-Origin") != "http://www.app.test" {
		t.Fatalf("presigned GET from a page: %q %v", body, resp.Header)
	}
	req = mustReq(t, "GET", u.String())
	req.Header.Set("Origin", "http://other.test")
	resp, _ = wantStatus(t, req, 200, "")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET from another origin under the * rule: %v", resp.Header)
	}
	req = mustReq(t, "DELETE", p.url()+"/web/page.txt")
	req.Header.Set("Origin", "http://other.test")
	resp, _ = wantStatus(t, req, 403, "AccessDenied")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a DELETE no rule allows got %v", resp.Header)
	}

	if out, err := aws("s3api", "delete-bucket-cors", "--bucket", "web"); err != nil {
		t.Fatalf("delete-bucket-cors: %v\n%s", err, out)
	}
	preflight("/web/page.txt", "http://www.app.test", "GET", "", 403, "AccessForbidden")
}

// postForm posts a multipart form: the fields, then the file last.
func postForm(t *testing.T, target string, fields map[string]string, filename string, data []byte) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", target, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return send(t, req)
}

func wantPost(t *testing.T, resp *http.Response, body []byte, status int, code, msg string) {
	t.Helper()
	var e s3Error
	xml.Unmarshal(body, &e)
	if resp.StatusCode != status || e.Code != code || !strings.Contains(string(body), msg) {
		t.Fatalf("POST: %d %q, want %d %q %q\n%s", resp.StatusCode, e.Code, status, code, msg, body)
	}
}

// TestPostUpload uploads with HTML-form POSTs signed by minio-go's
// PresignedPostPolicy (SigV4 and SigV2), and checks the policy's
// conditions, its expiry, the signature and the size range, each refusal
// storing nothing.
func TestPostUpload(t *testing.T) {
	p := startDev(t, "")
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "forms")
	data := payloadBytes(7, 300<<10)

	policy := func(c *minio.Client, mod func(*minio.PostPolicy)) (string, map[string]string) {
		t.Helper()
		pp := minio.NewPostPolicy()
		pp.SetBucket("forms")
		pp.SetKeyStartsWith("uploads/")
		pp.SetExpires(time.Now().UTC().Add(10 * time.Minute))
		pp.SetContentLengthRange(1, 1<<20)
		if mod != nil {
			mod(pp)
		}
		u, fields, err := c.PresignedPostPolicy(ctx, pp)
		if err != nil {
			t.Fatal(err)
		}
		return u.String(), fields
	}
	readBack := func(key string) []byte {
		t.Helper()
		r, err := c.GetObject(ctx, "forms", key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read back %s: %v", key, err)
		}
		return b
	}
	absent := func(key string) {
		t.Helper()
		if _, err := c.StatObject(ctx, "forms", key, minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
			t.Fatalf("%s was stored: %v", key, err)
		}
	}

	// SigV4, ${filename}, metadata and content type, 201 with PostResponse.
	u, f := policy(c, func(pp *minio.PostPolicy) {
		pp.SetContentType("image/png")
		pp.SetUserMetadata("origin", "form")
		pp.SetSuccessStatusAction("201")
	})
	f["key"] = "uploads/${filename}"
	resp, body := postForm(t, u, f, "photo.png", data)
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d\n%s", resp.StatusCode, body)
	}
	var pr struct{ Bucket, Key, ETag, Location string }
	if err := xml.Unmarshal(body, &pr); err != nil || pr.Bucket != "forms" || pr.Key != "uploads/photo.png" || pr.ETag != resp.Header.Get("ETag") || !strings.HasSuffix(pr.Location, "/forms/uploads/photo.png") {
		t.Fatalf("PostResponse %+v (%v)\n%s", pr, err, body)
	}
	if !bytes.Equal(readBack("uploads/photo.png"), data) {
		t.Fatal("the bytes read back differ from the bytes posted")
	}
	st, err := c.StatObject(ctx, "forms", "uploads/photo.png", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "image/png" || st.UserMetadata["Origin"] != "form" {
		t.Fatalf("stat: %+v %v", st, err)
	}

	// SigV2 (AWSAccessKeyId, signature), default 204.
	v2, err := minio.New(p.endpoint, &minio.Options{Creds: credentials.NewStaticV2(p.access, p.secret, ""), Region: region})
	if err != nil {
		t.Fatal(err)
	}
	u, f = policy(v2, nil)
	if f["AWSAccessKeyId"] == "" || f["signature"] == "" {
		t.Fatalf("minio-go made no SigV2 form: %v", f)
	}
	f["key"] = "uploads/v2.bin"
	resp, body = postForm(t, u, f, "v2.bin", data[:1000])
	if resp.StatusCode != 204 {
		t.Fatalf("SigV2 POST: %d\n%s", resp.StatusCode, body)
	}
	if !bytes.Equal(readBack("uploads/v2.bin"), data[:1000]) {
		t.Fatal("SigV2 POST: bytes differ")
	}

	// Refusals.
	u, f = policy(c, nil)
	f["key"] = "elsewhere/x"
	resp, body = postForm(t, u, f, "x", data[:10])
	wantPost(t, resp, body, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [&#34;starts-with&#34;, &#34;$key&#34;, &#34;uploads/&#34;]")
	absent("elsewhere/x")

	f["key"] = "uploads/extra"
	f["x-amz-meta-sneaky"] = "1"
	resp, body = postForm(t, u, f, "x", data[:10])
	wantPost(t, resp, body, 403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky")
	delete(f, "x-amz-meta-sneaky")
	absent("uploads/extra")

	f["key"] = "uploads/big"
	resp, body = postForm(t, u, f, "big", payloadBytes(8, 1<<20+1))
	wantPost(t, resp, body, 400, "EntityTooLarge", "")
	absent("uploads/big")
	f["key"] = "uploads/empty"
	resp, body = postForm(t, u, f, "empty", nil)
	wantPost(t, resp, body, 400, "EntityTooSmall", "")
	absent("uploads/empty")

	f["key"] = "uploads/forged"
	sig := f["x-amz-signature"]
	f["x-amz-signature"] = strings.Repeat("0", len(sig))
	resp, body = postForm(t, u, f, "x", data[:10])
	wantPost(t, resp, body, 403, "SignatureDoesNotMatch", "")
	f["x-amz-signature"] = sig
	f["policy"] = "not base64!"
	resp, body = postForm(t, u, f, "x", data[:10])
	wantPost(t, resp, body, 403, "SignatureDoesNotMatch", "")
	absent("uploads/forged")

	u, f = policy(c, func(pp *minio.PostPolicy) { pp.SetExpires(time.Now().UTC().Add(-time.Minute)) })
	f["key"] = "uploads/late"
	resp, body = postForm(t, u, f, "x", data[:10])
	wantPost(t, resp, body, 403, "AccessDenied", "Invalid according to Policy: Policy expired.")
	absent("uploads/late")

	delete(f, "key")
	resp, body = postForm(t, u, f, "x", data[:10])
	wantPost(t, resp, body, 400, "InvalidArgument", "Bucket POST must contain a field named &#39;key&#39;")

	// An unsigned form is anonymous: refused unless the bucket lets
	// everyone write.
	resp, body = postForm(t, p.url()+"/forms", map[string]string{"key": "uploads/anon"}, "x", data[:10])
	wantPost(t, resp, body, 403, "AccessDenied", "")
	absent("uploads/anon")

	// success_action_redirect: 303 to the page with bucket, key and ETag.
	u, f = policy(c, func(pp *minio.PostPolicy) { pp.SetSuccessActionRedirect("http://127.0.0.1:1/done?x=1") })
	f["key"] = "uploads/redirected"
	noFollow := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range f {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "r")
	fw.Write(data[:10])
	mw.Close()
	req, _ := http.NewRequest("POST", u, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || loc == nil || loc.Host != "127.0.0.1:1" || loc.Query().Get("key") != "uploads/redirected" ||
		loc.Query().Get("bucket") != "forms" || loc.Query().Get("etag") == "" || loc.Query().Get("x") != "1" {
		t.Fatalf("redirect: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !bytes.Equal(readBack("uploads/redirected"), data[:10]) {
		t.Fatal("redirected POST: bytes differ")
	}
}
