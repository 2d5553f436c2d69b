//go:build integration

package itest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn/erasure"
	"cairn/internal/nodeapi"
	"cairn/internal/pki"
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
		shard := []byte("a shard from a stranger")
		id := erasure.ShardCID(shard)
		// Plain HTTP gets the TLS server's canned 400, and nothing else.
		for _, path := range []string{"/v1/status", "/v1/shards", "/v1/shards/" + id.String(), "/v1/meta/ListBuckets", "/v1/admin/status"} {
			resp, err := rawClient.Get("http://" + first.api + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("plain HTTP GET %s: %d, want 400 (a TLS port)", path, resp.StatusCode)
			}
		}
		// TLS without a certificate, or with one from another CA: no
		// handshake, with a storage node or a metadata node.
		other, err := pki.DeriveCA([]byte("not-the-cluster-secret-at-all"))
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := pki.NewTenantIdentity(other, c.nodes[1].id)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []*clusterNode{first, c.nodes[1]} {
			for name, cfg := range map[string]*tls.Config{
				"no certificate":   {InsecureSkipVerify: true, MinVersion: tls.VersionTLS13},
				"another CA's":     pki.ClientTLS(stranger, nil),
				"another CA's (2)": {InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{stranger.TLSCertificate()}},
			} {
				if err := handshake(n.api, cfg); err == nil {
					t.Errorf("%s: a TLS client with %s certificate completed a handshake", n.name, name)
				}
			}
		}
		nc, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + c.nodes[1].api, HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(stranger, nil)}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Put(ctx, id, shard); err == nil {
			t.Error("a stranger stored a shard")
		}
		// The shard was not stored.
		good, _ := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + c.nodes[1].api, HTTP: tenantHTTP(t)})
		if has, err := good.Has(ctx, id); err != nil || has {
			t.Errorf("the stranger's shard: has=%v err=%v, want not stored", has, err)
		}
	})
}

// handshake dials addr and completes a TLS handshake with cfg, reading a
// byte so that a server's refusal of the client's certificate (sent after
// the client's Finished in TLS 1.3) is seen.
func handshake(addr string, cfg *tls.Config) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return err
	}
	_, err = conn.Read(make([]byte, 1))
	return err
}
