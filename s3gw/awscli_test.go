package s3gw

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLI runs the AWS CLI (v1, botocore) against a test server.
type awsCLI struct {
	t   *testing.T
	e   *testEnv
	env []string
	dir string
}

func newAWSCLI(t *testing.T, e *testEnv) *awsCLI {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not on PATH")
	}
	dir := t.TempDir()
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+testAK,
		"AWS_SECRET_ACCESS_KEY="+testSK,
		"AWS_DEFAULT_REGION="+testRegion,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
	)
	if e.ts.TLS != nil {
		ca := filepath.Join(dir, "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.ts.Certificate().Raw})
		if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		env = append(env, "AWS_CA_BUNDLE="+ca)
	}
	return &awsCLI{t: t, e: e, env: env, dir: dir}
}

func (a *awsCLI) cmd(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{"--endpoint-url", a.e.ts.URL, "--output", "json"}, args...)
	c := exec.CommandContext(ctx, "aws", full...)
	c.Env = a.env
	c.Dir = a.dir
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return out, &cliError{args: args, err: err, stderr: stderr.String()}
	}
	return out, nil
}

type cliError struct {
	args   []string
	err    error
	stderr string
}

func (e *cliError) Error() string {
	return "aws " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

// run runs the CLI and requires success.
func (a *awsCLI) run(args ...string) []byte {
	a.t.Helper()
	out, err := a.cmd(args...)
	if err != nil {
		a.t.Fatal(err)
	}
	return out
}

// fail runs the CLI and requires an error mentioning code.
func (a *awsCLI) fail(code string, args ...string) {
	a.t.Helper()
	_, err := a.cmd(args...)
	if err == nil || !strings.Contains(err.Error(), code) {
		a.t.Fatalf("want %s, got %v", code, err)
	}
}

func (a *awsCLI) file(name string, data []byte) string {
	a.t.Helper()
	p := filepath.Join(a.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		a.t.Fatal(err)
	}
	return p
}

func jsonField(t *testing.T, out []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs the aws CLI")
	}
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testAWSCLI(t, tls)
		})
	}
}

func testAWSCLI(t *testing.T, tls bool) {
	e := newTestEnv(t, tls)
	a := newAWSCLI(t, e)
	a.run("s3api", "create-bucket", "--bucket", "clibkt")
	a.run("s3api", "create-bucket", "--bucket", "clibkt") // us-east-1: 200 for its owner

	small := []byte("hello from the aws cli\n")
	big := randBytes(9<<20+12345, 11) // over the 8 MiB multipart threshold
	a.run("s3", "cp", a.file("small.txt", small), "s3://clibkt/dir/small file.txt")
	a.run("s3", "cp", a.file("big.bin", big), "s3://clibkt/big.bin")

	// put-object with each checksum; CRC32C and CRC64NVME need awscrt
	// (botocore[crt]), which may not be installed.
	sums := 0
	for _, algo := range []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"} {
		out, err := a.cmd("s3api", "put-object", "--bucket", "clibkt", "--key", "sum/"+algo, "--body", a.file("sum", small),
			"--checksum-algorithm", algo, "--metadata", "origin=cli", "--content-type", "text/plain")
		if err != nil && strings.Contains(err.Error(), "Missing Dependency") {
			t.Logf("%s: botocore needs awscrt; skipped", algo)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sums++
		var put map[string]any
		jsonField(t, out, &put)
		if put["Checksum"+algo] == nil {
			t.Errorf("put-object %s: checksum not echoed: %s", algo, out)
		}
	}

	var head struct {
		ContentLength int64
		ContentType   string
		ETag          string
		Metadata      map[string]string
	}
	jsonField(t, a.run("s3api", "head-object", "--bucket", "clibkt", "--key", "sum/CRC32"), &head)
	if head.ContentLength != int64(len(small)) || head.ContentType != "text/plain" || len(head.Metadata) != 1 || head.Metadata["origin"] != "cli" ||
		head.ETag != `"`+md5Hex(small)+`"` {
		t.Fatalf("head-object: %+v", head)
	}
	a.fail("404", "s3api", "head-object", "--bucket", "clibkt", "--key", "missing")
	a.fail("NoSuchKey", "s3api", "get-object", "--bucket", "clibkt", "--key", "missing", filepath.Join(a.dir, "x"))

	// Downloads: whole (ranged GETs for a big object) and a range.
	a.run("s3", "cp", "s3://clibkt/big.bin", filepath.Join(a.dir, "big.out"))
	if got, _ := os.ReadFile(filepath.Join(a.dir, "big.out")); !bytes.Equal(got, big) {
		t.Fatalf("big download: %d bytes, differ", len(got))
	}
	var rng struct{ ContentRange string }
	jsonField(t, a.run("s3api", "get-object", "--bucket", "clibkt", "--key", "dir/small file.txt", "--range", "bytes=0-4", filepath.Join(a.dir, "r")), &rng)
	if got, _ := os.ReadFile(filepath.Join(a.dir, "r")); string(got) != "hello" || rng.ContentRange != "bytes 0-4/23" {
		t.Fatalf("range: %q %+v", got, rng)
	}

	// Listings.
	out := a.run("s3", "ls", "--recursive", "s3://clibkt/")
	for _, k := range []string{"dir/small file.txt", "big.bin", "sum/SHA256"} {
		if !strings.Contains(string(out), k) {
			t.Errorf("s3 ls lacks %s: %s", k, out)
		}
	}
	var l2 struct {
		Contents       []struct{ Key string }
		CommonPrefixes []struct{ Prefix string }
	}
	jsonField(t, a.run("s3api", "list-objects-v2", "--bucket", "clibkt", "--delimiter", "/", "--page-size", "1"), &l2)
	if len(l2.Contents) != 1 || len(l2.CommonPrefixes) != 2 {
		t.Errorf("list-objects-v2: %+v", l2)
	}
	var l1 struct{ Contents []struct{ Key string } }
	jsonField(t, a.run("s3api", "list-objects", "--bucket", "clibkt", "--prefix", "sum/", "--page-size", "2"), &l1)
	if len(l1.Contents) != sums {
		t.Errorf("list-objects: %+v", l1)
	}

	// Copy, multipart by hand, delete-objects.
	a.run("s3api", "copy-object", "--bucket", "clibkt", "--key", "copied", "--copy-source", "clibkt/dir/small file.txt")
	a.run("s3", "cp", "s3://clibkt/big.bin", "s3://clibkt/big-copy.bin") // server-side, multipart copy
	a.run("s3", "cp", "s3://clibkt/big-copy.bin", filepath.Join(a.dir, "big2.out"))
	if got, _ := os.ReadFile(filepath.Join(a.dir, "big2.out")); !bytes.Equal(got, big) {
		t.Fatalf("big copy: %d bytes, differ", len(got))
	}

	var mpu struct {
		UploadID string `json:"UploadId"`
	}
	jsonField(t, a.run("s3api", "create-multipart-upload", "--bucket", "clibkt", "--key", "manual"), &mpu)
	a.run("s3api", "upload-part", "--bucket", "clibkt", "--key", "manual", "--upload-id", mpu.UploadID,
		"--part-number", "1", "--body", a.file("p1", small))
	var parts struct{ Parts []struct{ PartNumber int } }
	jsonField(t, a.run("s3api", "list-parts", "--bucket", "clibkt", "--key", "manual", "--upload-id", mpu.UploadID), &parts)
	if len(parts.Parts) != 1 {
		t.Errorf("list-parts: %+v", parts)
	}
	var ups struct{ Uploads []struct{ Key string } }
	jsonField(t, a.run("s3api", "list-multipart-uploads", "--bucket", "clibkt"), &ups)
	if len(ups.Uploads) != 1 || ups.Uploads[0].Key != "manual" {
		t.Errorf("list-multipart-uploads: %+v", ups)
	}
	a.run("s3api", "abort-multipart-upload", "--bucket", "clibkt", "--key", "manual", "--upload-id", mpu.UploadID)
	a.fail("NoSuchUpload", "s3api", "abort-multipart-upload", "--bucket", "clibkt", "--key", "manual", "--upload-id", mpu.UploadID)

	var del struct{ Deleted []struct{ Key string } }
	jsonField(t, a.run("s3api", "delete-objects", "--bucket", "clibkt", "--delete",
		`{"Objects":[{"Key":"copied"},{"Key":"sum/SHA1"}]}`), &del)
	if len(del.Deleted) != 2 {
		t.Errorf("delete-objects: %+v", del)
	}

	// Presigned GETs with plain net/http. CLI v1 presigns with SigV2 by
	// default (AWS_CONFIG_FILE=/dev/null here), with SigV4 when
	// s3.signature_version is s3v4: both must work.
	presignedGet := func(param string) {
		t.Helper()
		u := strings.TrimSpace(string(a.run("s3", "presign", "s3://clibkt/dir/small file.txt", "--expires-in", "300")))
		if pu, err := url.Parse(u); err != nil || !pu.Query().Has(param) {
			t.Fatalf("no %s in %s (%v)", param, u, err)
		}
		resp, err := e.ts.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, small) {
			t.Fatalf("presigned GET %s: %d %q %v", u, resp.StatusCode, body, err)
		}
	}
	presignedGet("AWSAccessKeyId") // SigV2
	cfg := a.file("config", []byte("[default]\ns3 =\n    signature_version = s3v4\n"))
	a.env = append(a.env, "AWS_CONFIG_FILE="+cfg)
	presignedGet("X-Amz-Algorithm") // SigV4

	a.fail("BucketNotEmpty", "s3api", "delete-bucket", "--bucket", "clibkt")
	a.run("s3", "rm", "--recursive", "s3://clibkt/")
	a.run("s3api", "delete-bucket", "--bucket", "clibkt")

	// What botocore sent: hex payload hashes with checksum headers over
	// http; unsigned aws-chunked payloads with checksum trailers over TLS.
	want := []string{"hex", "header:x-amz-checksum-crc32", "header:x-amz-checksum-sha256"}
	if tls {
		want = []string{streamingUnsignedTrailer, "trailer:x-amz-checksum-crc32", "trailer:x-amz-checksum-sha1"}
	}
	for _, m := range want {
		if !e.seen.has(m) {
			t.Errorf("the CLI never used %s; seen %v", m, e.seen)
		}
	}
	t.Logf("payload modes: %v", e.seen)
}
