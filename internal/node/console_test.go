package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
)

// TestConsoleWiring starts one node with every role and --console, and
// calls the console as its page does: the admin token logs in, the
// cluster view is the node's status, and a bucket listing reaches the
// gateway once it has a layout.
func TestConsoleWiring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	c := DefaultConfig()
	c.DataDir, c.StorageDir = filepath.Join(dir, "data"), filepath.Join(dir, "shards")
	c.Weight, c.K, c.M = 1, 1, 0
	c.Secret, c.Meta = testSecret, true
	c.APIListener, c.S3Listener, c.ConsoleListener = listen(t), listen(t), listen(t)
	c.APIAddr, c.S3Addr, c.ConsoleAddr = c.APIListener.Addr().String(), c.S3Listener.Addr().String(), c.ConsoleListener.Addr().String()
	// Gossip and Raft bind their own ports: reserved, then freed.
	gossip, raft := listen(t), listen(t)
	c.AdminAddr, c.GossipAddr, c.RaftAddr = "", gossip.Addr().String(), raft.Addr().String()
	gossip.Close()
	raft.Close()
	c.GossipProfile = cluster.ProfileTest
	c.Out = io.Discard
	ready := make(chan struct{})
	c.S3Ready = func() { close(ready) }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, c) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node stopped with: %v", err)
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("node stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the gateway did not start")
	}

	token, err := os.ReadFile(filepath.Join(c.DataDir, adminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, "http://"+c.ConsoleAddr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Cairn-Console", "1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := call("GET", "/api/cluster", ""); code != http.StatusUnauthorized {
		t.Errorf("cluster before login: %d, want 401", code)
	}
	if code, b := call("POST", "/api/login", `{"token":"`+strings.TrimSpace(string(token))+`"}`); code != http.StatusOK {
		t.Fatalf("login with the admin token: %d %s", code, b)
	}
	code, b := call("GET", "/api/cluster", "")
	var st adminapi.Status
	if err := json.Unmarshal(b, &st); err != nil || code != http.StatusOK {
		t.Fatalf("cluster: %d %s", code, b)
	}
	if len(st.Nodes) != 1 || st.Leader != st.Nodes[0].ID {
		t.Errorf("cluster: %d nodes, leader %q, want the node itself: %s", len(st.Nodes), st.Leader, b)
	}
	if code, b := call("GET", "/api/buckets", ""); code != http.StatusOK || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("buckets: %d %s, want 200 []", code, b)
	}
}

func TestConsoleNeedsAGateway(t *testing.T) {
	c := DefaultConfig()
	c.StorageDir, c.Secret, c.ConsoleAddr = t.TempDir(), testSecret, "127.0.0.1:0"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--s3") {
		t.Errorf("--console without --s3: %v, want an error that names --s3", err)
	}
}
