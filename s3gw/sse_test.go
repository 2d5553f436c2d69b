package s3gw

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// ssecHeaders are the SSE-C headers of key (prefix: the object's or a
// copy source's).
func ssecHeaders(prefix string, key []byte) []string {
	sum := md5.Sum(key)
	return []string{
		prefix + "Algorithm", "AES256",
		prefix + "Key", base64.StdEncoding.EncodeToString(key),
		prefix + "Key-Md5", base64.StdEncoding.EncodeToString(sum[:]),
	}
}

var (
	keyA = bytes.Repeat([]byte{0xA1}, 32)
	keyB = bytes.Repeat([]byte{0xB2}, 32)
)

// TestSSECMinio: SSE-C through minio-go (over TLS, which it requires):
// the key is needed to read, ranges included, and copies and multipart
// uploads carry it.
func TestSSECMinio(t *testing.T) {
	e := newTestEnv(t, true)
	ctx := context.Background()
	c := e.minio(func(o *minio.Options) { o.Secure = true })
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	sseA, err := encrypt.NewSSEC(keyA)
	if err != nil {
		t.Fatal(err)
	}
	sseB, _ := encrypt.NewSSEC(keyB)
	data := randBytes(100<<10, 41)
	if _, err := c.PutObject(ctx, "bkt", "secret", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ServerSideEncryption: sseA}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, "bkt", "secret", minio.GetObjectOptions{ServerSideEncryption: sseA}); !bytes.Equal(got, data) {
		t.Fatal("GET with the key: bytes differ")
	}
	o := minio.GetObjectOptions{ServerSideEncryption: sseA}
	if err := o.SetRange(1000, 1999); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, "bkt", "secret", o); !bytes.Equal(got, data[1000:2000]) {
		t.Fatal("range with the key: bytes differ")
	}
	if _, err := c.StatObject(ctx, "bkt", "secret", minio.StatObjectOptions{}); err == nil {
		t.Fatal("HEAD without the key succeeded")
	}
	if _, err := c.StatObject(ctx, "bkt", "secret", minio.StatObjectOptions{ServerSideEncryption: sseB}); minio.ToErrorResponse(err).StatusCode != 403 {
		t.Fatalf("HEAD with another key: %v, want 403", err)
	}
	obj, err := c.GetObject(ctx, "bkt", "secret", minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Read(make([]byte, 1))
	}
	if minioCode(err) != "InvalidRequest" {
		t.Fatalf("GET without the key: %v, want InvalidRequest", err)
	}
	// Copy to another key, then read with it only.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "bkt", Object: "rekeyed", Encryption: sseB},
		minio.CopySrcOptions{Bucket: "bkt", Object: "secret", Encryption: sseA}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, "bkt", "rekeyed", minio.GetObjectOptions{ServerSideEncryption: sseB}); !bytes.Equal(got, data) {
		t.Fatal("copy under another key: bytes differ")
	}
	if _, err := c.StatObject(ctx, "bkt", "rekeyed", minio.StatObjectOptions{ServerSideEncryption: sseA}); minio.ToErrorResponse(err).StatusCode != 403 {
		t.Fatalf("the copy with the source's key: %v, want 403", err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "bkt", Object: "x"},
		minio.CopySrcOptions{Bucket: "bkt", Object: "secret"}); minioCode(err) != "InvalidRequest" {
		t.Fatalf("copy of an SSE-C object without its key: %v", err)
	}
	// Copy out to plain.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "bkt", Object: "plain"},
		minio.CopySrcOptions{Bucket: "bkt", Object: "secret", Encryption: sseA}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, "bkt", "plain", minio.GetObjectOptions{}); !bytes.Equal(got, data) {
		t.Fatal("copy to plain: bytes differ")
	}
	// Multipart: each part carries the key.
	big := randBytes(11<<20, 42)
	if _, err := c.PutObject(ctx, "bkt", "mp", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{ServerSideEncryption: sseA, PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, "bkt", "mp", minio.GetObjectOptions{ServerSideEncryption: sseA}); !bytes.Equal(got, big) {
		t.Fatal("multipart SSE-C: bytes differ")
	}
	var po minio.GetObjectOptions
	po.ServerSideEncryption, po.PartNumber = sseA, 3
	if got := getAll(t, c, "bkt", "mp", po); !bytes.Equal(got, big[10<<20:]) {
		t.Fatal("part 3 of a multipart SSE-C object: bytes differ")
	}
}

// TestSSEWire checks SSE's headers and errors on the wire.
func TestSSEWire(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	keyMD5 := ssecHeaders(ssecPrefix, keyA)[5]

	resp, _ := e.must(200, "PUT", "/bkt/c", []byte("customer"), ssecHeaders(ssecPrefix, keyA)...)
	if resp.Header.Get(ssecPrefix+"Algorithm") != "AES256" || resp.Header.Get(ssecPrefix+"Key-Md5") != keyMD5 {
		t.Fatalf("PUT SSE-C headers %v", resp.Header)
	}
	for _, m := range []string{"GET", "HEAD"} {
		resp, body := e.must(200, m, "/bkt/c", nil, ssecHeaders(ssecPrefix, keyA)...)
		if resp.Header.Get(ssecPrefix+"Algorithm") != "AES256" || resp.Header.Get(ssecPrefix+"Key-Md5") != keyMD5 || m == "GET" && string(body) != "customer" {
			t.Fatalf("%s SSE-C: %v %q", m, resp.Header, body)
		}
	}
	resp, _ = e.must(200, "PUT", "/bkt/s3", []byte("sse-s3"), "X-Amz-Server-Side-Encryption", "AES256")
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("PUT SSE-S3 headers %v", resp.Header)
	}
	for _, m := range []string{"GET", "HEAD"} {
		if resp, _ := e.must(200, m, "/bkt/s3", nil); resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
			t.Fatalf("%s of an SSE-S3 object: %v", m, resp.Header)
		}
	}
	e.must(200, "PUT", "/bkt/plain", []byte("plain"))
	if resp, _ := e.must(200, "HEAD", "/bkt/plain", nil); resp.Header.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Fatalf("HEAD of an object written without SSE: %v", resp.Header)
	}
	// A copy takes the request's encryption, not its source's.
	resp, _ = e.must(200, "PUT", "/bkt/s3copy", nil, "X-Amz-Copy-Source", "/bkt/plain", "X-Amz-Server-Side-Encryption", "AES256")
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("copy to SSE-S3: %v", resp.Header)
	}
	if resp, _ := e.must(200, "HEAD", "/bkt/s3copy", nil); resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("HEAD of an SSE-S3 copy: %v", resp.Header)
	}
	e.must(200, "PUT", "/bkt/plaincopy", nil, "X-Amz-Copy-Source", "/bkt/s3")
	if resp, _ := e.must(200, "HEAD", "/bkt/plaincopy", nil); resp.Header.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Fatalf("HEAD of a copy without SSE: %v", resp.Header)
	}

	badMD5 := ssecHeaders(ssecPrefix, keyA)
	badMD5[5] = ssecHeaders(ssecPrefix, keyB)[5]
	shortKey := ssecHeaders(ssecPrefix, keyA[:16])
	for _, c := range []struct {
		name         string
		method, path string
		hdr          []string
		status       int
		code         string
	}{
		{"GET without the key", "GET", "/bkt/c", nil, 400, "InvalidRequest"},
		{"GET with another key", "GET", "/bkt/c", ssecHeaders(ssecPrefix, keyB), 403, "AccessDenied"},
		{"attributes without the key", "GET", "/bkt/c?attributes", []string{"X-Amz-Object-Attributes", "ETag"}, 400, "InvalidRequest"},
		{"range with another key", "GET", "/bkt/c", append(ssecHeaders(ssecPrefix, keyB), "Range", "bytes=0-1"), 403, "AccessDenied"},
		{"key on a plain object", "GET", "/bkt/plain", ssecHeaders(ssecPrefix, keyA), 400, "InvalidRequest"},
		{"SSE header on GET", "GET", "/bkt/s3", []string{"X-Amz-Server-Side-Encryption", "AES256"}, 400, "InvalidArgument"},
		{"wrong key MD5", "PUT", "/bkt/x", badMD5, 400, "InvalidArgument"},
		{"short key", "PUT", "/bkt/x", shortKey, 400, "InvalidArgument"},
		{"other algorithm", "PUT", "/bkt/x", []string{ssecPrefix + "Algorithm", "AES128", ssecPrefix + "Key", "a", ssecPrefix + "Key-Md5", "b"}, 400, "InvalidEncryptionAlgorithmError"},
		{"no key", "PUT", "/bkt/x", []string{ssecPrefix + "Algorithm", "AES256"}, 400, "InvalidArgument"},
		{"SSE-S3 and SSE-C", "PUT", "/bkt/x", append(ssecHeaders(ssecPrefix, keyA), "X-Amz-Server-Side-Encryption", "AES256"), 400, "InvalidArgument"},
		{"unknown method", "PUT", "/bkt/x", []string{"X-Amz-Server-Side-Encryption", "rot13"}, 400, "InvalidArgument"},
		{"aws:kms", "PUT", "/bkt/x", []string{"X-Amz-Server-Side-Encryption", "aws:kms"}, 501, "NotImplemented"},
		{"aws:kms:dsse", "PUT", "/bkt/x", []string{"X-Amz-Server-Side-Encryption", "aws:kms:dsse"}, 501, "NotImplemented"},
		{"KMS key without aws:kms", "PUT", "/bkt/x", []string{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "k"}, 400, "InvalidArgument"},
		{"bucket key", "PUT", "/bkt/x", []string{"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true"}, 501, "NotImplemented"},
		{"KMS multipart", "POST", "/bkt/x?uploads", []string{"X-Amz-Server-Side-Encryption", "aws:kms"}, 501, "NotImplemented"},
		{"KMS copy", "PUT", "/bkt/x", []string{"X-Amz-Copy-Source", "/bkt/plain", "X-Amz-Server-Side-Encryption", "aws:kms"}, 501, "NotImplemented"},
		{"copy source without its key", "PUT", "/bkt/x", []string{"X-Amz-Copy-Source", "/bkt/c"}, 400, "InvalidRequest"},
		{"copy source with another key", "PUT", "/bkt/x", append([]string{"X-Amz-Copy-Source", "/bkt/c"}, ssecHeaders(ssecCopyPrefix, keyB)...), 403, "AccessDenied"},
		{"bucket encryption", "GET", "/bkt?encryption", nil, 404, "ServerSideEncryptionConfigurationNotFoundError"},
		{"bucket encryption put", "PUT", "/bkt?encryption", nil, 501, "NotImplemented"},
		{"bucket encryption missing bucket", "GET", "/nobkt?encryption", nil, 404, "NoSuchBucket"},
	} {
		body := []byte("x")
		if c.method != "PUT" || strings.Contains(strings.Join(c.hdr, " "), "Copy-Source") {
			body = nil
		}
		resp, b := e.do(e.signedReq(c.method, c.path, body, c.hdr...))
		if resp.StatusCode != c.status || s3Code(t, b) != c.code {
			t.Errorf("%s: %d %s, want %d %s\n%s", c.name, resp.StatusCode, s3Code(t, b), c.status, c.code, b)
		}
	}
	resp, b := e.do(e.signedReq("HEAD", "/bkt/x", nil))
	wantError(t, resp, b, 404, "")
	e.must(204, "DELETE", "/bkt?encryption", nil)

	// Multipart: every part must carry the upload's key.
	_, body := e.must(200, "POST", "/bkt/mp?uploads", nil, ssecHeaders(ssecPrefix, keyA)...)
	id := between(string(body), "<UploadId>", "</UploadId>")
	for _, c := range []struct {
		hdr    []string
		status int
		code   string
	}{
		{nil, 400, "InvalidRequest"},
		{ssecHeaders(ssecPrefix, keyB), 403, "AccessDenied"},
	} {
		resp, b := e.do(e.signedReq("PUT", "/bkt/mp?partNumber=1&uploadId="+id, []byte("part"), c.hdr...))
		wantError(t, resp, b, c.status, c.code)
	}
	resp, _ = e.must(200, "PUT", "/bkt/mp?partNumber=1&uploadId="+id, []byte("part"), ssecHeaders(ssecPrefix, keyA)...)
	if resp.Header.Get(ssecPrefix+"Key-Md5") != keyMD5 {
		t.Fatalf("UploadPart SSE-C headers %v", resp.Header)
	}
	resp, body = e.must(200, "POST", "/bkt/s3mp?uploads", nil, "X-Amz-Server-Side-Encryption", "AES256")
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("CreateMultipartUpload SSE-S3 headers %v", resp.Header)
	}
	s3id := between(string(body), "<UploadId>", "</UploadId>")
	resp, _ = e.must(200, "PUT", "/bkt/s3mp?partNumber=1&uploadId="+s3id, []byte("part"))
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("UploadPart of an SSE-S3 upload: headers %v", resp.Header)
	}
	resp, _ = e.must(200, "POST", "/bkt/s3mp?uploadId="+s3id, completeXML("1", resp.Header.Get("ETag")))
	if resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("CompleteMultipartUpload of an SSE-S3 upload: headers %v", resp.Header)
	}
	if resp, _ := e.must(200, "HEAD", "/bkt/s3mp", nil); resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("HEAD of an SSE-S3 multipart object: %v", resp.Header)
	}
	_, body = e.must(200, "POST", "/bkt/plainmp?uploads", nil)
	id = between(string(body), "<UploadId>", "</UploadId>")
	resp, b = e.do(e.signedReq("PUT", "/bkt/plainmp?partNumber=1&uploadId="+id, []byte("part"), ssecHeaders(ssecPrefix, keyA)...))
	wantError(t, resp, b, 400, "InvalidRequest")
}

func between(s, from, to string) string {
	_, s, _ = strings.Cut(s, from)
	s, _, _ = strings.Cut(s, to)
	return s
}

// TestSSES3Unavailable: a store that does not encrypt at rest refuses
// SSE-S3 rather than pretend.
func TestSSES3Unavailable(t *testing.T) {
	e := newTestEnv(t, false)
	e.be.plainAtRest = true
	e.must(200, "PUT", "/bkt", nil)
	resp, body := e.do(e.signedReq("PUT", "/bkt/x", []byte("x"), "X-Amz-Server-Side-Encryption", "AES256"))
	wantError(t, resp, body, 501, "NotImplemented")
	resp, body = e.do(e.signedReq("HEAD", "/bkt/x", nil))
	wantError(t, resp, body, 404, "")
	// SSE-C still works: it is the customer's key that encrypts.
	e.must(200, "PUT", "/bkt/c", []byte("x"), ssecHeaders(ssecPrefix, keyA)...)
}

// TestSSECNeedsTLS: the key must not cross a network in the clear.
func TestSSECNeedsTLS(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	req := e.signedReq("PUT", "/bkt/x", []byte("x"), ssecHeaders(ssecPrefix, keyA)...)
	req.RemoteAddr = "192.0.2.7:4242"
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "secure connection") {
		t.Fatalf("SSE-C over plain HTTP from another host: %d %s", w.Code, w.Body.String())
	}
}
