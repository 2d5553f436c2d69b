package server

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSixNodes(t *testing.T) {
	shape := SixNodes()
	zones := map[string]int{}
	meta := 0
	for _, s := range shape {
		zones[s.Zone]++
		if s.Meta != s.S3 {
			t.Errorf("%+v: meta nodes are the gateways", s)
		}
		if s.Meta {
			meta++
		}
	}
	if len(shape) != 6 || len(zones) != 3 || meta != 3 || zones["zone-a"] != 2 {
		t.Fatalf("shape %+v", shape)
	}
}

func TestClusterArgs(t *testing.T) {
	c := &Cluster{opts: ClusterOptions{LogLevel: "warn", MetaArgs: []string{"--repair-rate", "1GiB"}, Args: []string{"--x"}}, secretFile: "/s"}
	meta := &Node{Name: "n1", NodeShape: NodeShape{Zone: "z", Meta: true, S3: true}, Dir: "/d/n1", API: "a:1", Gossip: "g:1", Raft: "r:1", S3Addr: "s:1"}
	got := strings.Join(c.args(meta, nil), " ")
	for _, want := range []string{"--data /d/n1/data", "--storage /d/n1/shards", "--zone z", "--meta", "--raft r:1", "--s3 s:1", "--repair-rate 1GiB", "--secret-file /s", "--log-level warn", "--x"} {
		if !strings.Contains(got, want) {
			t.Errorf("meta node args %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "--join") {
		t.Errorf("the first node joins: %q", got)
	}
	storage := &Node{Name: "n2", NodeShape: NodeShape{Zone: "z"}, Dir: "/d/n2", API: "a:2", Gossip: "g:2"}
	args := c.args(storage, []string{"g:1", "g:3"})
	got = strings.Join(args, " ")
	if strings.Contains(got, "--meta") || strings.Contains(got, "--s3") || strings.Contains(got, "--repair-rate") {
		t.Errorf("storage node args %q", got)
	}
	if i := slices.Index(args, "--join"); i < 0 || args[i+1] != "g:1,g:3" {
		t.Errorf("storage node args %q: want --join g:1,g:3", got)
	}
	if strings.Contains(got, "--admin") || strings.Contains(got, "--debug-addr") {
		t.Errorf("storage node args %q: no operator port or profiler asked for", got)
	}
	// A storaged with --admin gets its operator port; one asked to, a
	// profiler.
	storage.AdminAddr, storage.DebugAddr = "o:2", "p:2"
	got = strings.Join(c.args(storage, nil), " ")
	for _, want := range []string{"--admin o:2", "--debug-addr p:2", "--api a:2"} {
		if !strings.Contains(got, want) {
			t.Errorf("storage node args %q lack %q", got, want)
		}
	}
	// A storaged without --admin serves the admin API on the node API.
	storage.AdminAddr = storage.API
	if got := strings.Join(c.args(storage, nil), " "); strings.Contains(got, "--admin") {
		t.Errorf("args %q: --admin for a storaged without it", got)
	}
	// With TLS the gateways, and only they, serve S3 over HTTPS.
	c.opts.TLS = &TLS{CertFile: "/t/server.crt", KeyFile: "/t/server.key"}
	if got := strings.Join(c.args(meta, nil), " "); !strings.Contains(got, "--s3 s:1 --s3-cert /t/server.crt --s3-key /t/server.key") {
		t.Errorf("gateway args with TLS %q", got)
	}
	if got := strings.Join(c.args(storage, nil), " "); strings.Contains(got, "--s3") {
		t.Errorf("storage node args with TLS %q", got)
	}
}

func TestHelpListsFlag(t *testing.T) {
	const help = `storaged — the Cairn node daemon

  --dev         run an embedded cluster; the admin token is in --data
Flags:
  -api string
    	node API listen address (shards, admin); -admin is not here
  -admin ADDR
    	the operator's port
  -approval
    	meta nodes: admit new storage nodes only after approval
`
	for name, want := range map[string]bool{"admin": true, "api": true, "approval": true, "dev": true, "adm": false, "token": false, "s3": false} {
		if got := helpListsFlag(help, name); got != want {
			t.Errorf("-%s listed: %v, want %v", name, got, want)
		}
	}
	if helpListsFlag(strings.Replace(help, "  -admin ADDR\n", "", 1), "admin") {
		t.Error("-admin found in a help text that only mentions it")
	}
}

// TestStartCluster starts a real six-node cluster from this tree, finds its
// leader, waits until its gateways place on every node, kills a node, and
// stops it.
func TestStartCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds storaged and starts six processes; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "storaged")
	if out, err := exec.Command("go", "build", "-o", bin, "cairn/cmd/storaged").CombinedOutput(); err != nil {
		t.Fatalf("build storaged: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{Bin: bin, Dir: filepath.Join(dir, "cluster"), LogLevel: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(10 * time.Second)
	if len(c.Nodes) != 6 || len(c.Gateways()) != 3 || c.AccessKey == "" || c.Token == "" {
		t.Fatalf("cluster: %d nodes, %d gateways, key %q", len(c.Nodes), len(c.Gateways()), c.AccessKey)
	}
	lead, err := c.WaitLeader(ctx)
	if err != nil || !lead.Meta {
		t.Fatalf("leader %v: %v", lead, err)
	}
	adm, err := c.Admin(c.Nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateBucket(ctx, "probe"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitPlacing(ctx, "probe"); err != nil {
		t.Fatal(err)
	}
	c.Nodes[5].Proc.Kill()
	if n := len(c.Running()); n != 5 {
		t.Fatalf("%d nodes run after a kill, want 5", n)
	}
	c.Stop(10 * time.Second)
	if n := len(c.Running()); n != 0 {
		t.Fatalf("%d nodes run after Stop", n)
	}
}
