//go:build integration

package itest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ssec returns the SSE-C headers of key, with prefix (the object's or a
// copy source's).
func ssec(prefix string, key []byte, more ...string) map[string]string {
	sum := md5.Sum(key)
	h := map[string]string{
		prefix + "Algorithm": "AES256",
		prefix + "Key":       base64.StdEncoding.EncodeToString(key),
		prefix + "Key-Md5":   base64.StdEncoding.EncodeToString(sum[:]),
	}
	for i := 0; i+1 < len(more); i += 2 {
		h[more[i]] = more[i+1]
	}
	return h
}

const (
	objSSEC  = "X-Amz-Server-Side-Encryption-Customer-"
	copySSEC = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
)

// grepTree counts the files under root that hold needle, and the files.
func grepTree(t *testing.T, root string, needle []byte) (hits, files int) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, needle) {
			t.Logf("%s holds the canary", path)
			hits++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, files
}

// TestSSE drives server-side encryption against storaged --dev: an SSE-C
// object's bytes are nowhere on disk in the clear (shards, metadata, raft
// log), GET and HEAD without its key or with another are refused as S3
// refuses them, copies and the AWS CLI's multipart uploads carry keys;
// SSE-S3 is answered; SSE-KMS refused.
func TestSSE(t *testing.T) {
	p := startDev(t, "")
	mkBucket(t, p.client(), "enc")
	req := func(method, path string, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, nil, body, hdr, time.Now(), p.secret)
	}
	keyA, keyB := bytes.Repeat([]byte{0xA1}, 32), bytes.Repeat([]byte{0xB2}, 32)
	canary := fmt.Sprintf("SSE-C-CANARY-%x", time.Now().UnixNano())
	var b bytes.Buffer
	for b.Len() < 2*MiB+777 {
		fmt.Fprintf(&b, "%s: a line the customer's key alone may read, %d.\n", canary, b.Len())
	}
	data := b.Bytes()
	small := []byte(canary + " in a small object, which would otherwise be inline")

	do(t, req("PUT", "/enc/big", data, ssec(objSSEC, keyA)))
	resp, _ := send(t, req("PUT", "/enc/small", small, ssec(objSSEC, keyA)))
	if resp.StatusCode != 200 || resp.Header.Get(objSSEC+"Algorithm") != "AES256" || resp.Header.Get(objSSEC+"Key-Md5") != ssec(objSSEC, keyA)[objSSEC+"Key-Md5"] {
		t.Fatalf("PUT SSE-C: %d %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("X-Cairn-Cid") != "" {
		t.Errorf("an SSE-C object has a CID: %s", resp.Header.Get("X-Cairn-Cid"))
	}
	do(t, req("PUT", "/enc/copy", nil, ssec(copySSEC, keyA, "X-Amz-Copy-Source", "/enc/big", objSSEC+"Algorithm", "AES256",
		objSSEC+"Key", base64.StdEncoding.EncodeToString(keyB), objSSEC+"Key-Md5", ssec(objSSEC, keyB)[objSSEC+"Key-Md5"])))

	for _, o := range []struct {
		key  string
		data []byte
		k    []byte
	}{{"big", data, keyA}, {"small", small, keyA}, {"copy", data, keyB}} {
		resp, got := send(t, req("GET", "/enc/"+o.key, nil, ssec(objSSEC, o.k)))
		if resp.StatusCode != 200 || !bytes.Equal(got, o.data) {
			t.Fatalf("GET %s with its key: %d, %d bytes", o.key, resp.StatusCode, len(got))
		}
		resp, got = send(t, req("GET", "/enc/"+o.key, nil, ssec(objSSEC, o.k, "Range", "bytes=10-59")))
		if resp.StatusCode != 206 || !bytes.Equal(got, o.data[10:60]) {
			t.Fatalf("range of %s with its key: %d", o.key, resp.StatusCode)
		}
		other := keyB
		if bytes.Equal(o.k, keyB) {
			other = keyA
		}
		expectError(t, req("GET", "/enc/"+o.key, nil, nil), 400, "InvalidRequest")
		expectError(t, req("HEAD", "/enc/"+o.key, nil, nil), 400, "")
		expectError(t, req("GET", "/enc/"+o.key, nil, ssec(objSSEC, other)), 403, "AccessDenied")
		expectError(t, req("HEAD", "/enc/"+o.key, nil, ssec(objSSEC, other)), 403, "")
	}

	// The premise of the grep: the objects are stored, and the data dir
	// has files. Then: the canary is in none of them (storage nodes'
	// shards, the metadata store, the raft log).
	p.stop()
	hits, files := grepTree(t, p.data, []byte(canary))
	if files == 0 {
		t.Fatal("no file in the data directory")
	}
	if hits != 0 {
		t.Fatalf("the canary is in %d of the %d files under the data directory: an SSE-C object is stored in the clear", hits, files)
	}
	p = startDev(t, p.data)
	if _, got := send(t, req("GET", "/enc/small", nil, ssec(objSSEC, keyA))); !bytes.Equal(got, small) {
		t.Fatal("after a restart, the small SSE-C object does not read back")
	}

	// SSE-S3 and SSE-KMS, and SSE-C multipart, through the AWS CLI.
	env := awsEnv(t, p)
	ep := []string{"--endpoint-url", p.url(), "--output", "json"}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFile(t, src, 61, 17*MiB)
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, keyA, 0o600)
	aws := func(args ...string) string { return tool(t, env, "aws", append(ep, args...)...) }
	var put struct{ ServerSideEncryption string }
	if err := json.Unmarshal([]byte(aws("s3api", "put-object", "--bucket", "enc", "--key", "s3", "--body", src, "--server-side-encryption", "AES256")), &put); err != nil || put.ServerSideEncryption != "AES256" {
		t.Fatalf("put-object SSE-S3: %+v %v", put, err)
	}
	put.ServerSideEncryption = ""
	if err := json.Unmarshal([]byte(aws("s3api", "head-object", "--bucket", "enc", "--key", "s3")), &put); err != nil || put.ServerSideEncryption != "AES256" {
		t.Fatalf("head-object SSE-S3: %+v %v", put, err)
	}
	out, err := toolErr(t, env, "aws", append(ep, "s3api", "put-object", "--bucket", "enc", "--key", "kms", "--body", src, "--server-side-encryption", "aws:kms")...)
	if err == nil || !strings.Contains(out, "NotImplemented") {
		t.Fatalf("put-object aws:kms: %v %s", err, out)
	}
	aws("s3", "cp", src, "s3://enc/mp", "--sse-c", "AES256", "--sse-c-key", "fileb://"+keyFile)
	back := filepath.Join(dir, "back")
	aws("s3", "cp", "s3://enc/mp", back, "--sse-c", "AES256", "--sse-c-key", "fileb://"+keyFile)
	if fileDigest(t, back) != fileDigest(t, src) {
		t.Fatal("SSE-C multipart upload read back differs")
	}
	var attrs struct{ ObjectParts struct{ TotalPartsCount int } }
	if err := json.Unmarshal([]byte(aws("s3api", "get-object-attributes", "--bucket", "enc", "--key", "mp", "--object-attributes", "ObjectParts",
		// botocore does not encode the key for GetObjectAttributes: it
		// is sent as given, so give it base64, with its MD5.
		"--sse-customer-algorithm", "AES256", "--sse-customer-key", base64.StdEncoding.EncodeToString(keyA),
		"--sse-customer-key-md5", ssec(objSSEC, keyA)[objSSEC+"Key-Md5"])), &attrs); err != nil || attrs.ObjectParts.TotalPartsCount != 3 {
		t.Fatalf("attributes of the SSE-C multipart object: %+v %v", attrs, err)
	}
	// copy-object from one customer key to another.
	keyFileB := filepath.Join(dir, "keyB")
	os.WriteFile(keyFileB, keyB, 0o600)
	aws("s3api", "copy-object", "--bucket", "enc", "--key", "mp-b", "--copy-source", "enc/mp",
		"--copy-source-sse-customer-algorithm", "AES256", "--copy-source-sse-customer-key", "fileb://"+keyFile,
		"--sse-customer-algorithm", "AES256", "--sse-customer-key", "fileb://"+keyFileB)
	aws("s3", "cp", "s3://enc/mp-b", back+"-b", "--sse-c", "AES256", "--sse-c-key", "fileb://"+keyFileB)
	if fileDigest(t, back+"-b") != fileDigest(t, src) {
		t.Fatal("SSE-C copy under another key read back differs")
	}
	out, err = toolErr(t, env, "aws", append(ep, "s3", "cp", "s3://enc/mp-b", back+"-a", "--sse-c", "AES256", "--sse-c-key", "fileb://"+keyFile)...)
	if err == nil || !strings.Contains(out, "403") {
		t.Fatalf("aws s3 cp of the copy with the source's key: %v %s", err, out)
	}
	out, err = toolErr(t, env, "aws", append(ep, "s3", "cp", "s3://enc/mp", back+"2")...)
	if err == nil || !strings.Contains(out, "400") {
		t.Fatalf("aws s3 cp of an SSE-C object without its key: %v %s", err, out)
	}
}

// TestSSES3Unsealed: a gateway that does not seal refuses SSE-S3 rather
// than store the object in the clear.
func TestSSES3Unsealed(t *testing.T) {
	p := startDevArgs(t, "", []string{"--seal=false"}, "CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	mkBucket(t, p.client(), "plain")
	req := func(method, path string, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, nil, body, hdr, time.Now(), p.secret)
	}
	expectError(t, req("PUT", "/plain/x", []byte("x"), map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}), 501, "NotImplemented")
	expectError(t, req("HEAD", "/plain/x", nil, nil), 404, "")
	do(t, req("PUT", "/plain/y", []byte("y"), nil))
	if h := head(t, p, "plain", "y", nil); h.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Fatalf("an object of a gateway that does not seal says it is encrypted: %v", h)
	}
}
