//go:build integration

package itest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	k2, err := p.adminClient().CreateKey(ctx)
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
