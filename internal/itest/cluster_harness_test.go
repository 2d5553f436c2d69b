//go:build integration

package itest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
	"cairn/internal/pki"
	"cairn/internal/testnet"
)

// clusterSecret is the cluster secret of the test clusters.
const clusterSecret = "integration-test-cluster-secret-0123456789"

// netHost is where a cluster node runs: loopback in the root network
// namespace, or a network namespace of its own with its own address.
type netHost struct {
	ip string
	ns string // network namespace; "" for the root namespace
}

// clusterNode is one storaged process of a test cluster, with the
// addresses it keeps across restarts.
type clusterNode struct {
	name, zone string
	meta, s3   bool
	host       netHost
	dir        string // data under dir/data, shards under dir/shards
	api        string
	admin      string // the operator port: admin API and metrics
	gossip     string
	raft       string
	s3addr     string
	id         string   // the node ID, read from its data dir after start
	extra      []string // more storaged flags
	noWaitS3   bool     // start does not wait for the gateway to be ready
	// joinToken, when set, makes the node a contributor's storage node:
	// it runs without the cluster secret and enrolls with this invite.
	joinToken string
	bin       string   // the storaged binary; "" for storagedBin
	env       []string // more environment (CAIRN_FAULT...)

	mu      sync.Mutex
	cut     bool // running, but cut off by a partition
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// testCluster is a cluster of storaged processes.
type testCluster struct {
	t          *testing.T
	nodes      []*clusterNode
	secretFile string
	token      string
	access     string
	secret     string
}

// freePort returns a loopback port, free for TCP and UDP, outside the
// ephemeral range: the nodes keep their ports across restarts, and a
// port from that range can be taken by any node's outgoing connection
// before the node that owns it starts (it happened in CI).
func freePort(t *testing.T) string {
	t.Helper()
	return testnet.FreePort(t, "127.0.0.1")
}

// nodeShape is what one node of a test cluster is, besides a storage
// node (every node is --storage): its zone, and whether it is a metadata
// voter (--meta) and a gateway (--s3).
type nodeShape struct {
	zone     string
	meta, s3 bool
}

// sixNodes is the shape of newTestCluster: six nodes in three zones, in
// each zone one --meta --s3 node and one storage only.
func sixNodes() []nodeShape {
	var shape []nodeShape
	for i := range 6 {
		shape = append(shape, nodeShape{zone: fmt.Sprintf("zone-%c", 'a'+i/2), meta: i%2 == 0, s3: i%2 == 0})
	}
	return shape
}

// threeNodes is the README's cluster: three nodes, each a storage, meta
// and gateway node in a zone of its own.
func threeNodes() []nodeShape {
	return []nodeShape{{"zone-a", true, true}, {"zone-b", true, true}, {"zone-c", true, true}}
}

// newTestCluster describes six nodes in three zones (sixNodes). hosts
// gives each node's host (six entries), or nil for loopback.
func newTestCluster(t *testing.T, hosts []netHost) *testCluster {
	t.Helper()
	return newShapedCluster(t, sixNodes(), hosts)
}

// newShapedCluster describes a cluster of nodes n1, n2... of the given
// shapes. hosts gives each node's host (one per shape), or nil for
// loopback.
func newShapedCluster(t *testing.T, shape []nodeShape, hosts []netHost) *testCluster {
	t.Helper()
	root := t.TempDir()
	c := &testCluster{t: t, secretFile: filepath.Join(root, "cluster-secret")}
	if err := os.WriteFile(c.secretFile, []byte(clusterSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, sh := range shape {
		n := &clusterNode{
			name: fmt.Sprintf("n%d", i+1),
			zone: sh.zone,
			meta: sh.meta,
			s3:   sh.s3,
			dir:  filepath.Join(root, fmt.Sprintf("n%d", i+1)),
			host: netHost{ip: "127.0.0.1"},
		}
		if hosts != nil {
			n.host = hosts[i]
			n.api, n.gossip, n.raft, n.s3addr = n.hostPort("7071"), n.hostPort("7946"), n.hostPort("7947"), n.hostPort("9000")
			n.admin = n.hostPort("7070")
		} else {
			n.api, n.gossip, n.raft, n.s3addr = n.hostPort(freePort(t)), n.hostPort(freePort(t)), n.hostPort(freePort(t)), n.hostPort(freePort(t))
			n.admin = n.hostPort(freePort(t))
		}
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.kill()
		}
		if t.Failed() {
			for _, n := range c.nodes {
				if b, err := os.ReadFile(n.logPath); err == nil {
					t.Logf("%s log, warnings and errors (last 30):\n%s", n.name, notable(string(b), 30))
				}
			}
		}
	})
	return c
}

func (n *clusterNode) hostPort(port string) string { return net.JoinHostPort(n.host.ip, port) }

// args returns the storaged command line of the node.
func (c *testCluster) args(n *clusterNode, join []string) []string {
	a := []string{
		"--data", filepath.Join(n.dir, "data"),
		"--storage", filepath.Join(n.dir, "shards"),
		"--zone", n.zone, "--weight", "1",
		"--api", n.api, "--gossip", n.gossip, "--admin", n.admin,
		"--log-level", "debug",
	}
	if n.joinToken != "" {
		a = append(a, "--join-token", n.joinToken)
	} else {
		a = append(a, "--secret-file", c.secretFile)
	}
	if n.meta {
		a = append(a, "--meta", "--raft", n.raft)
	}
	if n.s3 {
		a = append(a, "--s3", n.s3addr)
	}
	if len(join) > 0 {
		a = append(a, "--join", strings.Join(join, ","))
	}
	return append(a, n.extra...)
}

// startAll starts every node. A new cluster starts one node after the
// other, the first without --join and every other joining the ones before
// it. A restart starts them all at once, each joining all the others, as
// machines coming back do.
func (c *testCluster) startAll(restart bool) {
	c.t.Helper()
	var waits []func()
	for i, n := range c.nodes {
		var join []string
		for j, o := range c.nodes {
			if j != i && (restart || j < i) {
				join = append(join, o.gossip)
			}
		}
		w := c.launch(n, join)
		if restart {
			waits = append(waits, w)
		} else {
			w()
		}
	}
	for _, w := range waits {
		w()
	}
}

// start starts the node's process and waits until it serves its node API
// (and S3, for a gateway).
func (c *testCluster) start(n *clusterNode, join []string) {
	c.t.Helper()
	c.launch(n, join)()
}

// launch starts the node's process and returns a func that waits until it
// serves its node API (and S3, for a gateway).
func (c *testCluster) launch(n *clusterNode, join []string) (wait func()) {
	c.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(n.dir, "storaged.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	n.logPath = logf.Name()
	args := c.args(n, join)
	bin := storagedBin
	if n.bin != "" {
		bin = n.bin
	}
	cmd := exec.Command(bin, args...)
	if n.host.ns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.host.ns, bin}, args...)...)
	}
	cmd.Env = append(withoutCairnEnv(os.Environ()), n.env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	exited := n.exited
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		want := "Admin:"
		if n.s3 && !n.noWaitS3 {
			want = "S3 ready:"
		}
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), want) {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	return func() {
		c.t.Helper()
		select {
		case <-ready:
		case <-exited:
			b, _ := os.ReadFile(n.logPath)
			c.t.Fatalf("%s exited before serving: %s", n.name, tail(b, 4000))
		case <-time.After(90 * time.Second):
			c.t.Fatalf("%s did not start serving within 90s", n.name)
		}
		id, err := os.ReadFile(filepath.Join(n.dir, "data", "node-id"))
		if err != nil {
			c.t.Fatal(err)
		}
		n.id = strings.TrimSpace(string(id))
		if c.token == "" && n.joinToken == "" {
			token, err := os.ReadFile(filepath.Join(n.dir, "data", "admin-token"))
			if err != nil {
				c.t.Fatal(err)
			}
			c.token = strings.TrimSpace(string(token))
		}
	}
}

// notable returns the last n warning and error lines of a log, and any
// line storaged printed without a level (its exit message).
func notable(log string, n int) string {
	var lines []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || !strings.Contains(line, "level=") ||
			strings.Contains(line, "status=5") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// kill sends SIGKILL to the node's process and waits for it to end.
func (n *clusterNode) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
}

// reachable reports whether the node runs and the test reaches it.
func (n *clusterNode) reachable() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !n.cut
}

func (n *clusterNode) setCut(cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = cut
}

// gateways returns the reachable gateway nodes.
func (c *testCluster) gateways() []*clusterNode {
	var gs []*clusterNode
	for _, n := range c.nodes {
		if n.s3 && n.reachable() {
			gs = append(gs, n)
		}
	}
	return gs
}

// s3 returns a minio-go client for a gateway node.
func (c *testCluster) s3(n *clusterNode) *minio.Client {
	c.t.Helper()
	cl, err := minio.New(n.s3addr, &minio.Options{
		Creds:  credentials.NewStaticV4(c.access, c.secret, ""),
		Region: region,
		// As any S3 SDK does, retry a 503: a gateway answers it while the
		// metadata group elects a leader.
		MaxRetries: 3,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// tenantHTTP returns an HTTP client that calls nodes as a tenant node
// would: with a tenant certificate from the cluster CA (derived from the
// cluster secret, as the test holds it).
func tenantHTTP(t testing.TB) *http.Client {
	t.Helper()
	ca, err := pki.DeriveCA([]byte(clusterSecret))
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.NewTenantIdentity(ca, "itest")
	if err != nil {
		t.Fatal(err)
	}
	tr := nodeapi.NewTransport()
	tr.TLSClientConfig = pki.ClientTLS(id, nil)
	return &http.Client{Transport: tr}
}

// meta returns a metadata client with a tenant certificate that asks
// the given meta nodes: the test's independent view of the layout.
func (c *testCluster) metaClient(nodes ...*clusterNode) *metarpc.Client {
	c.t.Helper()
	var i int
	var mu sync.Mutex
	mc, err := metarpc.NewClient(metarpc.ClientConfig{
		Leader: func() string {
			mu.Lock()
			defer mu.Unlock()
			for range nodes {
				n := nodes[i%len(nodes)]
				i++
				if n.reachable() {
					return "https://" + n.api
				}
			}
			return ""
		},
		HTTP: tenantHTTP(c.t),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return mc
}

// metaNodes returns the reachable meta nodes.
func (c *testCluster) metaNodes() []*clusterNode {
	var ms []*clusterNode
	for _, n := range c.nodes {
		if n.meta && n.reachable() {
			ms = append(ms, n)
		}
	}
	return ms
}

// layout returns the current layout, read through the metadata API.
func (c *testCluster) layout(ctx context.Context) (*meta.Layout, error) {
	return c.metaClient(c.metaNodes()...).Layout(ctx)
}

// waitFor retries f until it succeeds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, limit, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
