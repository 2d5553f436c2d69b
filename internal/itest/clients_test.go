//go:build integration

package itest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tool runs an external client with a deadline and returns its output,
// failing the test with that output when it fails.
func tool(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := toolErr(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func toolErr(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (.ci/run installs it): %v", name, err)
	}
	cmd := exec.CommandContext(ctxT(t), name, args...)
	cmd.Env = append(withoutCairnEnv(os.Environ()), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// writeFile writes a deterministic file of size bytes and returns its SHA-256.
func writeFile(t *testing.T, path string, seed uint64, size int64) [32]byte {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), newPayload(seed, size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func fileDigest(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, _ := digest(t, f)
	return d
}

func awsEnv(t *testing.T, p *proc) []string {
	cfg := filepath.Join(t.TempDir(), "aws-config")
	os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\n"), 0o600)
	return []string{
		"AWS_ACCESS_KEY_ID=" + p.access,
		"AWS_SECRET_ACCESS_KEY=" + p.secret,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_CONFIG_FILE=" + cfg,
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
}

// TestAWSCLI does what the README promises: make a bucket, copy a 200 MiB
// file up (multipart) and down byte-identical, list, presign a GET that a
// plain HTTP client downloads, delete.
func TestAWSCLI(t *testing.T) {
	p := startDev(t, "")
	env := awsEnv(t, p)
	ep := "--endpoint-url=" + p.url()
	dir := t.TempDir()
	src := filepath.Join(dir, "up.bin")
	want := writeFile(t, src, 200, 200*MiB)

	tool(t, env, "aws", ep, "s3", "mb", "s3://clibucket")
	tool(t, env, "aws", ep, "s3", "cp", src, "s3://clibucket/dir/big.bin")
	dst := filepath.Join(dir, "down.bin")
	tool(t, env, "aws", ep, "s3", "cp", "s3://clibucket/dir/big.bin", dst)
	if fileDigest(t, dst) != want {
		t.Fatal("200 MiB file downloaded with the AWS CLI differs from the upload")
	}
	head := tool(t, env, "aws", ep, "s3api", "head-object", "--bucket", "clibucket", "--key", "dir/big.bin")
	if !strings.Contains(head, `-`) || !strings.Contains(head, "209715200") {
		t.Errorf("head-object of a multipart upload: %s", head)
	}
	ls := tool(t, env, "aws", ep, "s3", "ls", "s3://clibucket/dir/")
	if !strings.Contains(ls, "209715200 big.bin") {
		t.Errorf("aws s3 ls: %q", ls)
	}
	lsb := tool(t, env, "aws", ep, "s3", "ls")
	if !strings.Contains(lsb, "clibucket") {
		t.Errorf("aws s3 ls (buckets): %q", lsb)
	}

	url := strings.TrimSpace(tool(t, env, "aws", ep, "s3", "presign", "s3://clibucket/dir/big.bin", "--expires-in", "300"))
	resp, err := rawClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, n := digest(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got != want {
		t.Fatalf("presigned GET: status %d, %d bytes, equal=%v", resp.StatusCode, n, got == want)
	}
	if curl, err := exec.LookPath("curl"); err == nil {
		out := filepath.Join(dir, "curl.bin")
		tool(t, nil, curl, "-sSf", "-o", out, url)
		if fileDigest(t, out) != want {
			t.Fatal("curl of the presigned URL got other bytes")
		}
	}

	// s3api error surface: a missing key is NoSuchKey / 404.
	if out, err := toolErr(t, env, "aws", ep, "s3api", "get-object", "--bucket", "clibucket", "--key", "nope", filepath.Join(dir, "x")); err == nil || !strings.Contains(out, "NoSuchKey") {
		t.Errorf("get-object of a missing key: err %v, output %s", err, out)
	}
	tool(t, env, "aws", ep, "s3", "rm", "s3://clibucket/dir/big.bin")
	if out, err := toolErr(t, env, "aws", ep, "s3api", "head-object", "--bucket", "clibucket", "--key", "dir/big.bin"); err == nil {
		t.Fatalf("object still there after aws s3 rm: %s", out)
	}
	tool(t, env, "aws", ep, "s3", "rb", "s3://clibucket")
}

// makeTree writes a small directory tree and returns relative path → digest.
func makeTree(t *testing.T, root string) map[string][32]byte {
	t.Helper()
	files := map[string][32]byte{}
	for i, f := range []struct {
		path string
		size int64
	}{
		{"a.txt", 10}, {"empty", 0}, {"sub/b.bin", 1536 << 10}, {"sub/deeper/c.bin", 3*MiB + 5},
		{"sub/deeper/d.txt", 4096}, {"other/e with space.txt", 77},
	} {
		files[f.path] = writeFile(t, filepath.Join(root, f.path), uint64(300+i), f.size)
	}
	return files
}

func checkTree(t *testing.T, root string, want map[string][32]byte) {
	t.Helper()
	got := map[string][32]byte{}
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			got[rel] = fileDigest(t, path)
		}
		return nil
	})
	if len(got) != len(want) {
		t.Fatalf("tree has %d files, want %d: %v", len(got), len(want), got)
	}
	for k, d := range want {
		if got[k] != d {
			t.Fatalf("%s differs after the round trip", k)
		}
	}
}

// TestRclone copies, syncs and checks a directory tree.
func TestRclone(t *testing.T) {
	p := startDev(t, "")
	env := []string{
		"RCLONE_CONFIG=/dev/null",
		"RCLONE_CONFIG_CAIRN_TYPE=s3",
		"RCLONE_CONFIG_CAIRN_PROVIDER=Other",
		"RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID=" + p.access,
		"RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY=" + p.secret,
		"RCLONE_CONFIG_CAIRN_ENDPOINT=" + p.url(),
		"RCLONE_CONFIG_CAIRN_REGION=" + region,
	}
	src := filepath.Join(t.TempDir(), "src")
	files := makeTree(t, src)
	tool(t, env, "rclone", "mkdir", "cairn:rbucket")
	tool(t, env, "rclone", "copy", src, "cairn:rbucket/tree")
	tool(t, env, "rclone", "check", src, "cairn:rbucket/tree")

	// Change the source and sync: an added, a changed and a removed file.
	delete(files, "a.txt")
	os.Remove(filepath.Join(src, "a.txt"))
	files["sub/b.bin"] = writeFile(t, filepath.Join(src, "sub/b.bin"), 999, 2*MiB)
	files["new/f.bin"] = writeFile(t, filepath.Join(src, "new/f.bin"), 998, 12345)
	tool(t, env, "rclone", "sync", src, "cairn:rbucket/tree")
	tool(t, env, "rclone", "check", src, "cairn:rbucket/tree")

	dst := filepath.Join(t.TempDir(), "dst")
	tool(t, env, "rclone", "copy", "cairn:rbucket/tree", dst)
	checkTree(t, dst, files)
	ls := tool(t, env, "rclone", "ls", "cairn:rbucket/tree")
	if strings.Contains(ls, "a.txt") || !strings.Contains(ls, "new/f.bin") {
		t.Fatalf("rclone ls after sync:\n%s", ls)
	}
}

// TestS3cmd puts, gets, lists and deletes with s3cmd.
func TestS3cmd(t *testing.T) {
	p := startDev(t, "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "s3cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
use_https = False
signature_v2 = False
bucket_location = us-east-1
`, p.access, p.secret, p.endpoint, p.endpoint)), 0o600)
	run := func(args ...string) string { return tool(t, nil, "s3cmd", append([]string{"-c", cfg}, args...)...) }

	src := filepath.Join(dir, "up.bin")
	want := writeFile(t, src, 400, 20*MiB+3) // multipart at s3cmd's 15 MiB default
	small := filepath.Join(dir, "small.txt")
	wantSmall := writeFile(t, small, 401, 100)
	run("mb", "s3://s3cmdbucket")
	run("put", src, "s3://s3cmdbucket/up.bin")
	run("put", small, "s3://s3cmdbucket/d/small.txt")
	ls := run("ls", "-r", "s3://s3cmdbucket")
	if !strings.Contains(ls, "s3://s3cmdbucket/up.bin") || !strings.Contains(ls, "s3://s3cmdbucket/d/small.txt") {
		t.Fatalf("s3cmd ls:\n%s", ls)
	}
	run("get", "s3://s3cmdbucket/up.bin", filepath.Join(dir, "down.bin"))
	run("get", "s3://s3cmdbucket/d/small.txt", filepath.Join(dir, "small-down.txt"))
	if fileDigest(t, filepath.Join(dir, "down.bin")) != want || fileDigest(t, filepath.Join(dir, "small-down.txt")) != wantSmall {
		t.Fatal("s3cmd get returned other bytes")
	}
	run("del", "s3://s3cmdbucket/up.bin")
	run("del", "s3://s3cmdbucket/d/small.txt")
	if ls := run("ls", "-r", "s3://s3cmdbucket"); strings.TrimSpace(ls) != "" {
		t.Fatalf("objects left after s3cmd del:\n%s", ls)
	}
	run("rb", "s3://s3cmdbucket")
}
