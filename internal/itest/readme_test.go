//go:build integration

package itest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock returns the first ```sh block of README.md after the line
// holding marker, without its fences.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no %q", marker)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatalf("README.md has no ```sh block after %q", marker)
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatalf("README.md's block after %q does not end", marker)
	}
	return block
}

// TestReadmeS3cmdRecipe runs the README's s3cmd recipe as it is, in a
// shell with the keys exported as the quick start says (and a HOME of its
// own), against a dev cluster: the only change is the endpoint, the test
// cluster's port for 127.0.0.1:9000. The file read back is the one put.
func TestReadmeS3cmdRecipe(t *testing.T) {
	if _, err := exec.LookPath("s3cmd"); err != nil {
		t.Fatalf("s3cmd is not installed (.ci/run installs it): %v", err)
	}
	recipe := readmeBlock(t, "TestReadmeS3cmdRecipe runs the next block")
	if !strings.Contains(recipe, "127.0.0.1:9000") || !strings.Contains(recipe, "s3cmd -c") {
		t.Fatalf("the recipe is not the one this test knows:\n%s", recipe)
	}
	p := startDev(t, "")
	home, work := t.TempDir(), t.TempDir()
	sh := exec.CommandContext(ctxT(t), "bash", "-c", "set -euo pipefail\n"+strings.ReplaceAll(recipe, "127.0.0.1:9000", p.endpoint))
	sh.Dir = work
	sh.Env = append(withoutCairnEnv(os.Environ()), "HOME="+home,
		"AWS_ACCESS_KEY_ID="+p.access, "AWS_SECRET_ACCESS_KEY="+p.secret, "AWS_DEFAULT_REGION=us-east-1")
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's s3cmd recipe failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "s3://notes/hello.txt") {
		t.Errorf("s3cmd ls did not list the object:\n%s", out)
	}
	put, err := os.ReadFile(filepath.Join(work, "hello.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(work, "hello-copy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(put) != "hello, cairn\n" || string(got) != string(put) {
		t.Fatalf("put %q, read back %q", put, got)
	}
	// s3cmd info probes ACL, policy, CORS, lifecycle... (501 here): no
	// warnings: the dev cluster logged nothing above INFO.
	p.stop()
	log, err := os.ReadFile(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "level=INFO") {
		t.Fatal("the dev cluster's log holds no INFO line: the check reads the wrong file")
	}
	if loud := loudLines(string(log)); len(loud) > 0 {
		t.Errorf("%d lines above INFO while s3cmd ran the recipe:\n%s", len(loud), strings.Join(loud, "\n"))
	}
}
