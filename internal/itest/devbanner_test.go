//go:build integration

package itest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository's top directory, where make runs.
const repoRoot = "../.."

// TestDevBannerCommands: make run starts the dev cluster, and every
// command its banner prints works when pasted as it is into a shell in
// the same directory: the storectl line (./bin/storectl, built by make
// run, on the admin API's fixed port), the health probe, the AWS CLI
// with the printed keys. A second storaged --dev on the same data
// directory fails at once, naming the process that holds it.
func TestDevBannerCommands(t *testing.T) {
	for _, tool := range []string{"make", "bash", "curl", "aws"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (.ci/run installs it): %v", tool, err)
		}
	}
	data := t.TempDir()
	args := []string{"run", "DATA=" + data, "S3=127.0.0.1:0"}
	// The admin API's documented port, where storectl looks without
	// --node; a free one if something on this machine holds it.
	if ln, err := net.Listen("tcp", "127.0.0.1:7070"); err != nil {
		t.Logf("127.0.0.1:7070 is in use here (%v): make run with ADMIN=127.0.0.1:0", err)
		args = append(args, "ADMIN=127.0.0.1:0")
	} else {
		ln.Close()
	}
	home := t.TempDir() // no AWS CLI config of the user's
	env := []string{"HOME=" + home}
	for _, kv := range withoutCairnEnv(os.Environ()) {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	logPath := filepath.Join(t.TempDir(), "make-run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	mk := exec.Command("make", args...)
	mk.Dir, mk.Env, mk.Stderr = repoRoot, env, logf
	mk.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make and storaged, stopped together
	out, err := mk.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := mk.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { mk.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-mk.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-mk.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("make run's stderr (tail):\n%s", tail(b, 4000))
		}
	})

	// The banner: its Admin line, and the commands under "Try it".
	var admin string
	var try []string
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		inTry := false
		for sc.Scan() {
			line := sc.Text()
			t.Logf("make run: %s", line)
			switch {
			case strings.HasPrefix(line, "Admin:"):
				admin = strings.TrimSpace(strings.TrimPrefix(line, "Admin:"))
			case strings.HasPrefix(line, "Try it"):
				inTry = true
			case inTry && strings.HasPrefix(line, "  "):
				try = append(try, strings.TrimSpace(line))
			case inTry:
				done <- nil
				inTry = false
			}
			if inTry && len(try) > 0 && strings.HasPrefix(try[len(try)-1], "aws ") {
				done <- nil
				inTry = false
			}
		}
		io.Copy(io.Discard, out)
		done <- fmt.Errorf("make run's output ended: %v", sc.Err())
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-exited:
		t.Fatal("make run exited before its banner")
	case <-time.After(5 * time.Minute): // a build, then the cluster
		t.Fatal("no banner from make run within 5 minutes")
	}
	if !strings.HasPrefix(admin, "./bin/storectl ") {
		t.Fatalf("the banner's Admin line %q does not run ./bin/storectl, which make run built", admin)
	}
	if len(try) != 4 || !strings.Contains(try[0], " status") {
		t.Fatalf("the banner's commands: %q", try)
	}

	// Paste them, in order, into one shell in the directory make ran in.
	var script strings.Builder
	script.WriteString("set -eu\n")
	for i, c := range append([]string{admin}, try...) {
		fmt.Fprintf(&script, "echo '@@ %d'\n%s\n", i, c)
	}
	script.WriteString("echo '@@ end'\n")
	sh := exec.Command("bash", "-c", script.String())
	sh.Dir, sh.Env = repoRoot, env
	b, err := sh.CombinedOutput()
	outs := strings.Split(string(b), "@@ ")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), "@@ end") {
		t.Fatalf("the banner's commands, pasted: %v\n%s", err, b)
	}
	// outs[0] is empty; then the Admin line's output (storectl's help),
	// status, the probe, the export, the listing.
	if len(outs) != 7 {
		t.Fatalf("output of the banner's commands: %q", outs)
	}
	if !strings.Contains(outs[1], "storectl is the operator CLI") {
		t.Errorf("the Admin line, run as printed: %q", outs[1])
	}
	if status := outs[2]; !strings.Contains(status, "Layout version:") || strings.Count(status, " storage") < 6 {
		t.Errorf("storectl status, as printed:\n%s", status)
	}
	if ready := strings.TrimSpace(strings.TrimPrefix(outs[3], "2\n")); ready != `{"status":"ready"}` {
		t.Errorf("the health probe, as printed: %q", ready)
	}

	// A second dev cluster on the same data directory is refused at once,
	// naming the process that holds it.
	lock, err := os.ReadFile(filepath.Join(data, "LOCK"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(lock)))
	if err != nil || syscall.Kill(pid, 0) != nil {
		t.Fatalf("LOCK holds %q: not a running process", lock)
	}
	second := exec.Command(filepath.Join(repoRoot, "bin", "storaged"), "--dev", "--data", data, "--s3", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	second.Env = env
	res := make(chan []byte, 1)
	go func() { b, _ := second.CombinedOutput(); res <- b }()
	select {
	case b := <-res:
		want := fmt.Sprintf("data directory %s is in use by process %d", data, pid)
		if second.ProcessState.ExitCode() == 0 || !strings.Contains(string(b), want) {
			t.Fatalf("second storaged --dev on the same data: exit %d, %q; want a failure saying %q", second.ProcessState.ExitCode(), b, want)
		}
	case <-time.After(30 * time.Second): // a guard against a hang, not a speed test
		second.Process.Kill()
		t.Fatal("a second storaged --dev on the same data directory did not fail: it hangs")
	}
}
