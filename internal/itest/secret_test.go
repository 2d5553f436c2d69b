//go:build integration

package itest

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn/erasure"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
)

// TestClusterSecret: a process without the cluster secret, or with
// another one, cannot join, and the node API refuses its requests.
func TestClusterSecret(t *testing.T) {
	c := newTestCluster(t, nil)
	c.nodes = c.nodes[:2] // a meta+s3 node and a storage node are enough
	c.startAll(false)
	ctx := ctxT(t)
	first := c.nodes[0]

	t.Run("no-secret", func(t *testing.T) {
		cmd := exec.Command(storagedBin, "--storage", t.TempDir(), "--data", t.TempDir(),
			"--api", "127.0.0.1:"+freePort(t), "--gossip", "127.0.0.1:"+freePort(t), "--join", first.gossip)
		cmd.Env = withoutCairnEnv(os.Environ())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(string(out), "no cluster secret") {
			t.Fatalf("storaged without a secret: %v: %s", err, out)
		}
	})

	t.Run("wrong-secret-cannot-join", func(t *testing.T) {
		defer c.as(t)()
		dir := t.TempDir()
		secret := filepath.Join(dir, "secret")
		os.WriteFile(secret, []byte("not-the-cluster-secret-at-all"), 0o600)
		cmd := exec.Command(storagedBin, "--storage", filepath.Join(dir, "shards"), "--data", filepath.Join(dir, "data"),
			"--api", "127.0.0.1:"+freePort(t), "--gossip", "127.0.0.1:"+freePort(t),
			"--join", first.gossip, "--secret-file", secret)
		cmd.Env = withoutCairnEnv(os.Environ())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(out.String(), "secret") {
				t.Fatalf("storaged with a wrong secret: %v: %s", err, out.String())
			}
		case <-time.After(90 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("storaged with a wrong secret still runs after 90s: %s", out.String())
		}
		// Gossip is encrypted: the members never learnt of the stranger.
		nodes, err := c.admin(first).Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 2 {
			t.Fatalf("the cluster lists %d nodes after a stranger tried to join, want 2: %+v", len(nodes), nodes)
		}
	})

	t.Run("node-api-refuses-strangers", func(t *testing.T) {
		defer c.as(t)()
		wrong, _ := nodeauth.NewSigner([]byte("not-the-cluster-secret-at-all"), nil)
		nc, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "http://" + c.nodes[1].api, Signer: wrong})
		if err != nil {
			t.Fatal(err)
		}
		shard := []byte("a shard from a stranger")
		id := erasure.ShardCID(shard)
		if err := nc.Put(ctx, id, shard); !errors.Is(err, nodeauth.ErrUnauthorized) {
			t.Errorf("put with a wrong secret: %v, want refused", err)
		}
		if _, err := nc.Status(ctx); !errors.Is(err, nodeauth.ErrUnauthorized) {
			t.Errorf("status with a wrong secret: %v, want refused", err)
		}
		// Unsigned requests, to every API of the node.
		for _, path := range []string{"/v1/status", "/v1/shards", "/v1/shards/" + id.String(), "/v1/meta/ListBuckets", "/v1/admin/status"} {
			resp, err := rawClient.Get("http://" + first.api + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("unsigned GET %s: %d, want 401", path, resp.StatusCode)
			}
		}
		mc, err := metarpc.NewClient(metarpc.ClientConfig{Leader: func() string { return "http://" + first.api }, Signer: wrong})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mc.ListBuckets(ctx); !errors.Is(err, nodeauth.ErrUnauthorized) {
			t.Errorf("metadata call with a wrong secret: %v, want unauthorized", err)
		}
		// The shard was not stored.
		signer, _ := nodeauth.NewSigner([]byte(clusterSecret), nil)
		good, _ := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "http://" + c.nodes[1].api, Signer: signer})
		if has, err := good.Has(ctx, id); err != nil || has {
			t.Errorf("the stranger's shard: has=%v err=%v, want not stored", has, err)
		}
	})
}
