//go:build integration

package itest

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// systemdUnits are the units packaging/systemd ships, and the unit name
// each is verified as (a template as one of its instances).
var systemdUnits = map[string]string{
	"cairn-storaged.service":  "cairn-storaged.service",
	"cairn-storaged@.service": "cairn-storaged@disk1.service",
}

// needTool returns the path of a command the test needs. In CI
// (CI=true), where .ci/run installs it, its absence fails the test;
// elsewhere the test is skipped, saying so.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing in CI: .ci/run installs it (apt-get install %s)", name, pkg)
	}
	t.Skipf("%s is not installed here (apt-get install %s); CI runs this test", name, pkg)
	return ""
}

// TestSystemdUnits: systemd-analyze verify accepts the units as they are
// (but for where storaged is: the test's binary, for /usr/local/bin's,
// since verify checks that ExecStart's program exists), and their
// sandboxing keeps systemd's exposure score at 2.0 or less ("OK").
func TestSystemdUnits(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	install := func(src, name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "systemd", src))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !strings.Contains(text, "ExecStart=/usr/local/bin/storaged ") {
			t.Fatalf("%s does not run /usr/local/bin/storaged", src)
		}
		for _, want := range []string{"User=cairn", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
			"CapabilityBoundingSet=\n", "ReadWritePaths=/var/lib/cairn"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", src, strings.TrimSpace(want))
			}
		}
		path := filepath.Join(dir, name)
		text = strings.ReplaceAll(text, "/usr/local/bin/storaged", storagedBin)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	verify := func(path string) (string, error) {
		out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
		return string(out), err
	}
	for src, name := range systemdUnits {
		if src != name {
			install(src, src) // the template an instance is loaded from
		}
		path := install(src, name)
		if out, err := verify(path); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify %s: %v\n%s", src, err, out)
		}
		out, err := exec.Command(analyze, "security", "--offline=true", "--threshold=20", "--no-pager", path).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security %s: exposure above 2.0 (%v):\n%s", src, err, tail(out, 1500))
		}
	}
	// The premise: verify speaks up about a unit with a mistake in it.
	bad := filepath.Join(dir, "cairn-bad.service")
	if err := os.WriteFile(bad, []byte("[Service]\nExecStart="+storagedBin+" --version\nProtectSytem=strict\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(bad); err == nil && !strings.Contains(out, "ProtectSytem") {
		t.Fatalf("systemd-analyze verify says nothing of a misspelt setting: the check cannot fail\n%s", out)
	}
}

// TestMakeDist: make dist builds an archive per platform, named with the
// version, holding both binaries, the README, the licence, the example
// config and the systemd units, and SHA256SUMS that match; the amd64
// binaries print the version, the arm64 ones are arm64 programs.
func TestMakeDist(t *testing.T) {
	needTool(t, "tar", "tar")
	needTool(t, "make", "make")
	dist := t.TempDir()
	const version = "v0.0.0-disttest"
	mk := exec.CommandContext(ctxT(t), "make", "dist", "DIST="+dist, "VERSION="+version)
	mk.Dir = repoRoot
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, tail(out, 4000))
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"storaged", "storectl", "README.md", "LICENSE", "storaged.example.yaml",
		"systemd/cairn-storaged.service", "systemd/cairn-storaged@.service", "systemd/cairn.sysusers", "docs/architecture.md"}
	for _, arch := range []string{"amd64", "arm64"} {
		name := fmt.Sprintf("cairn-%s-linux-%s", version, arch)
		archive := filepath.Join(dist, name+".tar.gz")
		b, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if line := hex.EncodeToString(sum[:]) + "  " + name + ".tar.gz\n"; !strings.Contains(string(sums), line) {
			t.Errorf("SHA256SUMS has no %q:\n%s", line, sums)
		}
		dir := filepath.Join(t.TempDir(), arch)
		files := untar(t, archive, dir)
		for _, f := range want {
			if !slices.Contains(files, name+"/"+f) {
				t.Errorf("%s lacks %s (it holds %v)", name, f, files)
			}
		}
		for _, bin := range []string{"storaged", "storectl"} {
			path := filepath.Join(dir, name, bin)
			ef, err := elf.Open(path)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, bin, err)
			}
			machine := ef.Machine
			ef.Close()
			if wantM := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]; machine != wantM {
				t.Errorf("%s/%s is for %v, want %v", name, bin, machine, wantM)
			}
			if arch != runtime.GOARCH {
				continue
			}
			args := map[string][]string{"storaged": {"--version"}, "storectl": {"version", "--client"}}[bin]
			out, err := exec.Command(path, args...).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), bin+" "+version+" (commit ") || strings.Count(string(out), "\n") != 1 {
				t.Errorf("%s %s: %q (%v), want one line: %s %s (commit ...)", bin, strings.Join(args, " "), out, err, bin, version)
			}
		}
	}
	if runtime.GOARCH != "amd64" {
		t.Logf("the amd64 binaries were not run: this machine is %s", runtime.GOARCH)
	}
}

// untar extracts a .tar.gz into dir and returns the names of its files.
func untar(t *testing.T, archive, dir string) []string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want 0:0", h.Name, h.Uid, h.Gid)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
			t.Fatalf("archive entry %q leaves the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			names = append(names, strings.TrimSuffix(h.Name, "/"))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode)&0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			out.Close()
		}
	}
}
