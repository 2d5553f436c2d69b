//go:build integration

package itest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
)

// startStoraged starts storaged with args, its log in dir/storaged.log,
// and waits until its stdout prints a line starting with ready. The
// process is killed when the test ends.
func startStoraged(t *testing.T, dir, ready string, args ...string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, "storaged.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(storagedBin, args...)
	cmd.Env = withoutCairnEnv(os.Environ())
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), ready) {
				close(seen)
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s:\n%s", logf.Name(), tail(b, 4000))
		}
	})
	select {
	case <-seen:
	case <-exited:
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("storaged %s exited before %q: %s", strings.Join(args, " "), ready, tail(b, 4000))
	case <-time.After(90 * time.Second):
		t.Fatalf("storaged %s: no %q within 90s", strings.Join(args, " "), ready)
	}
	return cmd
}

// TestConfigFileEqualsFlags: storaged --config with the commented example
// (packaging/storaged.example.yaml, its addresses and directories made
// local) starts the same node as the equivalent flags: storectl status
// says the same of both, but for addresses and bytes used.
func TestConfigFileEqualsFlags(t *testing.T) {
	example, err := os.ReadFile("../../packaging/storaged.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "cluster.secret")
	if err := os.WriteFile(secretFile, []byte(clusterSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// local returns the example with this machine's ports and directories,
	// and the flags that say the same, in the file's order.
	keyLine := regexp.MustCompile(`^([a-z0-9-]+): *(.*?)\s*$`)
	local := func(dir string) (string, []string) {
		repl := map[string]string{
			"data": filepath.Join(dir, "data"), "storage": filepath.Join(dir, "shards"), "secret-file": secretFile,
			"s3": "127.0.0.1:" + freePort(t), "api": "127.0.0.1:" + freePort(t), "gossip": "127.0.0.1:" + freePort(t),
			"raft": "127.0.0.1:" + freePort(t), "admin": "127.0.0.1:" + freePort(t),
		}
		var file strings.Builder
		var flags []string
		for line := range strings.Lines(string(example)) {
			if m := keyLine.FindStringSubmatch(strings.TrimSuffix(line, "\n")); m != nil {
				v, ok := repl[m[1]]
				if !ok {
					v = m[2]
				}
				delete(repl, m[1])
				line = m[1] + ": " + v + "\n"
				flags = append(flags, "--"+m[1]+"="+v)
			}
			file.WriteString(line)
		}
		if len(repl) > 0 {
			t.Fatalf("the example does not set %v; this test expects it to", repl)
		}
		return file.String(), flags
	}

	byFile, byFlags := t.TempDir(), t.TempDir()
	text, fileFlags := local(byFile) // fileFlags: what the file says, as flags
	cfgPath := filepath.Join(byFile, "storaged.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, flags := local(byFlags)
	if len(flags) < 10 {
		t.Fatalf("only %d keys set in the example: %v", len(flags), flags)
	}
	// The same node ID for both, so that their status can be compared:
	// each is a cluster of its own.
	startStoraged(t, byFile, "S3 ready:", "--config", cfgPath, "--node-id", "cfg-node", "--log-level", "debug")
	startStoraged(t, byFlags, "S3 ready:", append(flags, "--node-id", "cfg-node", "--log-level", "debug")...)

	status := func(dir, admin string) adminapi.Status {
		t.Helper()
		var st adminapi.Status
		waitFor(t, 60*time.Second, "status of "+dir, func() error {
			cmd := exec.Command(storectlBin, "--node", admin, "--token-file", filepath.Join(dir, "data", "admin-token"), "--json", "status")
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("storectl status: %w", err)
			}
			st = adminapi.Status{}
			if err := json.Unmarshal(out, &st); err != nil {
				return err
			}
			if st.LayoutVersion == 0 || len(st.Nodes) != 1 || !st.Nodes[0].InLayout || st.Nodes[0].Usage == nil {
				return fmt.Errorf("not settled: %s", out)
			}
			return nil
		})
		// What differs between two identical nodes: their addresses, the
		// bytes their disks hold, what a heal pass found so far.
		for i := range st.Nodes {
			n := &st.Nodes[i]
			n.APIAddr, n.S3Addr, n.RaftAddr = "", "", ""
			n.Usage.Used, n.Usage.Free = 0, 0
			n.Audit = nil
		}
		for i := range st.Zones {
			st.Zones[i].Used, st.Zones[i].Free = 0, 0
		}
		st.Totals.Used, st.Totals.Free = 0, 0
		st.Heal, st.HealError = nil, ""
		return st
	}
	adminOf := func(flags []string) string {
		for _, f := range flags {
			if v, ok := strings.CutPrefix(f, "--admin="); ok {
				return v
			}
		}
		t.Fatalf("no --admin in %v", flags)
		return ""
	}
	a, b := status(byFile, adminOf(fileFlags)), status(byFlags, adminOf(flags))
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.MarshalIndent(a, "", "  ")
		jb, _ := json.MarshalIndent(b, "", "  ")
		t.Fatalf("status differs:\n--config:\n%s\nflags:\n%s", ja, jb)
	}
	n := a.Nodes[0]
	if n.ID != "cfg-node" || n.Zone != "a" || strings.Join(n.Roles, ",") != "storage,meta,gateway" || a.K != 4 || a.M != 2 {
		t.Fatalf("the node is not the example's: %+v (k=%d m=%d)", n, a.K, a.M)
	}
}
