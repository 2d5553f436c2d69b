//go:build integration

package itest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// backupTree writes a directory tree as a backup tool meets it: n files of
// random content in nested directories, some empty, a few of several MiB,
// with varied permissions, and an empty directory.
func backupTree(t *testing.T, root string, n int) {
	t.Helper()
	modes := []fs.FileMode{0o644, 0o600, 0o755, 0o640, 0o444}
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("d%d", i%7), fmt.Sprintf("e%d", i%5))
		if i%3 == 0 {
			dir = filepath.Join(dir, fmt.Sprintf("f%d", i%4))
		}
		var size int64
		switch {
		case i%50 == 0:
			size = int64(2+i%5)*MiB + int64(i) // several MiB
		case i%11 == 0:
			size = 0
		default:
			size = int64((i * 7919) % (96 << 10))
		}
		path := filepath.Join(dir, fmt.Sprintf("file-%03d.bin", i))
		writeFile(t, path, uint64(1400+i), size)
		if err := os.Chmod(path, modes[i%len(modes)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "empty", "dir"), 0o750); err != nil {
		t.Fatal(err)
	}
}

// treeEntries lists a tree as relative path → "mode size sha256".
func treeEntries(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := info.Mode().String()
		if info.Mode().IsRegular() {
			e += fmt.Sprintf(" %d %x", info.Size(), fileDigest(t, path))
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails unless got lists exactly what want does.
func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, "missing "+k)
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: %s, want %s", k, g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "extra "+k)
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("%d differences after the round trip:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

// TestRestic (issue 14, real clients): Debian's restic initializes a
// repository in a bucket of the dev cluster, backs up a tree of a few
// hundred files (nested, some empty, some of several MiB, varied modes),
// checks every pack's data (check --read-data), and restores the tree
// byte for byte with its file modes.
func TestRestic(t *testing.T) {
	p := startDev(t, "")
	work := t.TempDir()
	src := filepath.Join(work, "src")
	backupTree(t, src, 320)
	want := treeEntries(t, src)
	env := []string{
		"RESTIC_REPOSITORY=s3:" + p.url() + "/restic",
		"RESTIC_PASSWORD=correct horse battery staple",
		"RESTIC_CACHE_DIR=" + filepath.Join(work, "cache"),
		"AWS_ACCESS_KEY_ID=" + p.access,
		"AWS_SECRET_ACCESS_KEY=" + p.secret,
		"AWS_DEFAULT_REGION=" + region,
		"HOME=" + work,
	}
	tool(t, env, "restic", "init")
	out := tool(t, env, "restic", "backup", "--host", "itest", src)
	if !strings.Contains(out, "snapshot ") || !strings.Contains(out, " saved") {
		t.Fatalf("restic backup:\n%s", out)
	}
	out = tool(t, env, "restic", "check", "--read-data")
	if !strings.Contains(out, "no errors were found") {
		t.Fatalf("restic check --read-data:\n%s", out)
	}
	dst := filepath.Join(work, "restore")
	tool(t, env, "restic", "restore", "latest", "--target", dst)
	// restic keeps the absolute path of what it backed up.
	sameTree(t, treeEntries(t, filepath.Join(dst, src)), want)

	// The repository is really in the bucket.
	n := 0
	for o := range p.client().ListObjects(ctxT(t), "restic", minio.ListObjectsOptions{Prefix: "data/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no pack files under data/ in the bucket")
	}
}

// rcloneEnv configures the remote "cairn:" for p through the environment.
func rcloneEnv(p *proc) []string {
	return []string{
		"RCLONE_CONFIG=/dev/null",
		"RCLONE_CONFIG_CAIRN_TYPE=s3",
		"RCLONE_CONFIG_CAIRN_PROVIDER=Other",
		"RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID=" + p.access,
		"RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY=" + p.secret,
		"RCLONE_CONFIG_CAIRN_ENDPOINT=" + p.url(),
		"RCLONE_CONFIG_CAIRN_REGION=" + region,
	}
}

// TestRcloneVersions (issue 14, real clients): on a versioned bucket, a
// file uploaded, overwritten twice and deleted shows its three versions in
// `rclone ls --s3-versions` under rclone's -v<timestamp> names, and
// `rclone copy --s3-versions` and `rclone copy --s3-version-at` restore
// old versions byte-identically.
func TestRcloneVersions(t *testing.T) {
	p := startDev(t, "")
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "rversions")
	if err := c.EnableVersioning(ctx, "rversions"); err != nil {
		t.Fatal(err)
	}
	env := rcloneEnv(p)
	dir := t.TempDir()
	sizes := []int64{1234, 3*MiB + 17, 4096}
	var contents [][]byte
	var written []time.Time // after each upload
	for i, size := range sizes {
		if i > 0 {
			// rclone names versions by their time to the millisecond and
			// --s3-version-at picks by time: keep the versions a second
			// apart so each has a time of its own at S3's resolution.
			time.Sleep(1100 * time.Millisecond)
		}
		b := payloadBytes(uint64(1500+i), size)
		contents = append(contents, b)
		f := filepath.Join(dir, fmt.Sprintf("up%d", i))
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		tool(t, env, "rclone", "copyto", f, "cairn:rversions/docs/report.bin")
		written = append(written, time.Now())
	}
	time.Sleep(1100 * time.Millisecond)
	tool(t, env, "rclone", "deletefile", "cairn:rversions/docs/report.bin")

	if ls := tool(t, env, "rclone", "ls", "cairn:rversions"); strings.TrimSpace(ls) != "" {
		t.Fatalf("rclone ls of the deleted file's bucket:\n%s", ls)
	}
	ls := tool(t, env, "rclone", "ls", "--s3-versions", "cairn:rversions")
	line := regexp.MustCompile(`^\s*(\d+) (docs/report-v(\d{4}-\d\d-\d\d-\d{6}-\d{3})\.bin)$`)
	type version struct {
		name string
		size int64
		at   time.Time
	}
	var versions []version
	for _, l := range strings.Split(strings.TrimSpace(ls), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("rclone ls --s3-versions line %q is not a version of docs/report.bin:\n%s", l, ls)
		}
		size, _ := strconv.ParseInt(m[1], 10, 64)
		at, err := time.Parse("2006-01-02-150405.000", m[3][:17]+"."+m[3][18:])
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, version{m[2], size, at})
	}
	if len(versions) != len(sizes) {
		t.Fatalf("rclone ls --s3-versions lists %d versions, want %d:\n%s", len(versions), len(sizes), ls)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].at.Before(versions[j].at) })
	for i, v := range versions {
		if v.size != sizes[i] {
			t.Fatalf("version %d (%s) is %d bytes, want %d:\n%s", i, v.name, v.size, sizes[i], ls)
		}
	}

	// Every old version restores under its versioned name. (A copyto of
	// one versioned name finds nothing in Debian's rclone 1.60: its
	// versioned lookup compares the full key with the name relative to
	// the root, fixed upstream in "s3: fix --s3-versions on individual
	// objects"; so the directory is copied.)
	all := filepath.Join(dir, "all")
	tool(t, env, "rclone", "copy", "--s3-versions", "cairn:rversions/docs", all)
	for i, v := range versions {
		b, err := os.ReadFile(filepath.Join(all, strings.TrimPrefix(v.name, "docs/")))
		if err != nil || !bytes.Equal(b, contents[i]) {
			t.Fatalf("version %d (%s) restored %d bytes that differ from its %d (%v)", i, v.name, len(b), len(contents[i]), err)
		}
	}
	// And the bucket as it was after the second upload.
	at := filepath.Join(dir, "at")
	tool(t, env, "rclone", "copy", "--s3-version-at", written[1].UTC().Format(time.RFC3339Nano), "cairn:rversions", at)
	if b, err := os.ReadFile(filepath.Join(at, "docs", "report.bin")); err != nil || !bytes.Equal(b, contents[1]) {
		t.Fatalf("--s3-version-at after the second upload restored %d bytes that differ from it (%v)", len(b), err)
	}
}
