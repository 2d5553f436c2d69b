package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/internal/admin/adminapi"
	"cairn/internal/testnet"
)

// NodeShape is what one node of a cluster is besides a storage node (every
// node is --storage): its zone, and whether it is a metadata voter (--meta)
// and a gateway (--s3).
type NodeShape struct {
	Zone     string
	Meta, S3 bool
}

// SixNodes is the integration tests' cluster (internal/itest): six nodes
// in three zones, in each zone one --meta --s3 node and one storage only,
// n1 (zone-a, meta and gateway), n2 (zone-a, storage only), n3 (zone-b) ...
func SixNodes() []NodeShape {
	var shape []NodeShape
	for i := range 6 {
		shape = append(shape, NodeShape{Zone: fmt.Sprintf("zone-%c", 'a'+i/2), Meta: i%2 == 0, S3: i%2 == 0})
	}
	return shape
}

// ClusterOptions says how to start a cluster of storaged processes on
// loopback.
type ClusterOptions struct {
	// Bin is the storaged binary.
	Bin string
	// Dir holds the cluster: the cluster secret, and per node Dir/nI with
	// its data, its shards and its log (storaged.log). The caller removes
	// it, or keeps it to read the logs.
	Dir string
	// Shape is the nodes, n1, n2, ... in order. Default SixNodes().
	Shape []NodeShape
	// MetaArgs are more flags for the meta nodes, such as
	// "--repair-rate", "1GiB" (healing runs on the metadata leader).
	MetaArgs []string
	// Args are more flags for every node.
	Args []string
	// LogLevel is every node's --log-level. Default "info".
	LogLevel string
	// Debug gives every node --debug-addr on a loopback port of its own
	// (Node.DebugAddr), where Go's profiler serves /debug/pprof/.
	Debug bool
	// TLS, when not nil, makes the gateways serve S3 over HTTPS with its
	// server certificate (--s3-cert, --s3-key), and their Proc.Client
	// trust its authority.
	TLS *TLS
}

// Node is one storaged process of a Cluster.
type Node struct {
	Name string // n1, n2, ...
	NodeShape
	// ID is the node's ID, read from its data directory once it started.
	ID string
	// Dir holds its data (Dir/data), shards (Dir/shards) and log
	// (Dir/storaged.log).
	Dir string
	// API, Gossip, Raft and S3Addr are its listen addresses, host:port on
	// 127.0.0.1 (Raft only on a meta node, S3Addr only on a gateway).
	API, Gossip, Raft, S3Addr string
	// AdminAddr is its operator port, host:port, where it serves the admin
	// API and /metrics: --admin of a storaged that has the flag, else the
	// node API's address, which serves them there.
	AdminAddr string
	// DebugAddr is its --debug-addr (ClusterOptions.Debug), or "".
	DebugAddr string
	// Proc is its process. For a gateway, Proc.Endpoint is its S3 address
	// and Proc.Client signs with the cluster's S3 key.
	Proc *Proc
}

// Cluster is a running cluster of storaged processes, each on its own
// loopback ports. Stop ends every process.
type Cluster struct {
	Nodes []*Node
	// Dir is ClusterOptions.Dir.
	Dir string
	// Token is the admin token (the first node's data dir admin-token).
	Token string
	// AccessKey and SecretKey are an S3 key made by the admin API.
	AccessKey, SecretKey string

	opts       ClusterOptions
	secretFile string
}

// clusterWait bounds each wait for the cluster to agree on something.
const clusterWait = 90 * time.Second

// StartCluster starts a new cluster: one node after the other, the first
// without --join and every other joining the ones before it, as the
// integration tests do. It returns once every node serves (a gateway, S3),
// the layout has every node, every node's gossip sees every other alive,
// and an S3 key exists. On error it stops what it started; the logs stay
// in o.Dir.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.Shape == nil {
		o.Shape = SixNodes()
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	c := &Cluster{Dir: o.Dir, opts: o, secretFile: filepath.Join(o.Dir, "cluster-secret")}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	hasAdmin, err := HasFlag(ctx, o.Bin, "admin")
	if err != nil {
		return nil, err
	}
	var secret [32]byte
	rand.Read(secret[:])
	if err := os.WriteFile(c.secretFile, []byte(hex.EncodeToString(secret[:])+"\n"), 0o600); err != nil {
		return nil, err
	}
	for i, sh := range o.Shape {
		n := &Node{Name: fmt.Sprintf("n%d", i+1), NodeShape: sh, Dir: filepath.Join(o.Dir, fmt.Sprintf("n%d", i+1))}
		for _, addr := range []*string{&n.API, &n.Gossip, &n.Raft, &n.S3Addr, &n.AdminAddr, &n.DebugAddr} {
			p, err := testnet.Port("127.0.0.1")
			if err != nil {
				return nil, err
			}
			*addr = net.JoinHostPort("127.0.0.1", p)
		}
		if !n.Meta {
			n.Raft = ""
		}
		if !n.S3 {
			n.S3Addr = ""
		}
		if !hasAdmin {
			n.AdminAddr = n.API
		}
		if !o.Debug {
			n.DebugAddr = ""
		}
		c.Nodes = append(c.Nodes, n)
	}
	if err := c.start(ctx); err != nil {
		c.Stop(5 * time.Second)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	var join []string
	for _, n := range c.Nodes {
		if err := c.launch(ctx, n, join); err != nil {
			return err
		}
		join = append(join, n.Gossip)
	}
	token, err := os.ReadFile(filepath.Join(c.Nodes[0].Dir, "data", "admin-token"))
	if err != nil {
		return err
	}
	c.Token = strings.TrimSpace(string(token))
	if err := c.wait(ctx, "a layout of every node", c.layoutHasAll); err != nil {
		return err
	}
	if err := c.wait(ctx, "every node's gossip sees every node alive", c.gossipAgrees); err != nil {
		return err
	}
	adm, err := c.Admin(c.Nodes[0])
	if err != nil {
		return err
	}
	key, err := adm.CreateKey(ctx, nil)
	if err != nil {
		return fmt.Errorf("create an S3 key: %w", err)
	}
	c.AccessKey, c.SecretKey = key.ID, key.Secret
	for _, n := range c.Nodes {
		n.Proc.AccessKey, n.Proc.SecretKey = key.ID, key.Secret
	}
	return nil
}

// args is the storaged command line of node n.
func (c *Cluster) args(n *Node, join []string) []string {
	a := []string{
		"--data", filepath.Join(n.Dir, "data"),
		"--storage", filepath.Join(n.Dir, "shards"),
		"--zone", n.Zone, "--weight", "1",
		"--api", n.API, "--gossip", n.Gossip,
		"--secret-file", c.secretFile,
		"--log-level", c.opts.LogLevel,
	}
	if n.AdminAddr != "" && n.AdminAddr != n.API {
		a = append(a, "--admin", n.AdminAddr)
	}
	if n.DebugAddr != "" {
		a = append(a, "--debug-addr", n.DebugAddr)
	}
	if n.Meta {
		a = append(a, "--raft", n.Raft, "--meta")
		a = append(a, c.opts.MetaArgs...)
	}
	if n.S3 {
		a = append(a, "--s3", n.S3Addr)
		if c.opts.TLS != nil {
			a = append(a, "--s3-cert", c.opts.TLS.CertFile, "--s3-key", c.opts.TLS.KeyFile)
		}
	}
	if len(join) > 0 {
		a = append(a, "--join", strings.Join(join, ","))
	}
	return append(a, c.opts.Args...)
}

// launch starts n's process and waits until it serves its node API, and
// S3 for a gateway, then reads its ID.
func (c *Cluster) launch(ctx context.Context, n *Node, join []string) error {
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(c.opts.Bin, c.args(n, join)...)
	cmd.Env = WithoutEnv(os.Environ(), "CAIRN_", "AWS_")
	pr, pw := io.Pipe()
	p, err := start("storaged "+n.Name, cmd, filepath.Join(n.Dir, "storaged.log"), pw)
	if err != nil {
		pw.Close()
		return err
	}
	n.Proc = p
	if n.S3 {
		p.Endpoint = n.S3Addr
		if c.opts.TLS != nil {
			p.RootCAs = c.opts.TLS.Roots
		}
	}
	go func() {
		<-p.exited
		pw.Close()
	}()
	// The banner's "Admin:" line comes once the node API serves; a
	// gateway prints "S3 ready:" once it has a layout to place under.
	want := "Admin:"
	if n.S3 {
		want = "S3 ready:"
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), want) {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-ready:
	case <-p.exited:
		return fmt.Errorf("%s exited before serving (%v); log tail:\n%s", n.Name, p.waitErr, p.LogTail(4000))
	case <-time.After(startTimeout):
		return fmt.Errorf("%s printed no %q within %v; log tail:\n%s", n.Name, want, startTimeout, p.LogTail(4000))
	case <-ctx.Done():
		return ctx.Err()
	}
	id, err := os.ReadFile(filepath.Join(n.Dir, "data", "node-id"))
	if err != nil {
		return err
	}
	n.ID = strings.TrimSpace(string(id))
	return nil
}

// wait retries f every 250 ms until it returns nil, for at most
// clusterWait.
func (c *Cluster) wait(ctx context.Context, what string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, clusterWait)
	defer cancel()
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: %s: not within %v: %w", what, clusterWait, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// layoutHasAll reports, as an error, a layout that lacks a running node.
func (c *Cluster) layoutHasAll(ctx context.Context) error {
	st, err := c.status(ctx)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, n := range st.Nodes {
		if n.InLayout {
			in[n.ID] = true
		}
	}
	for _, n := range c.Running() {
		if !in[n.ID] {
			return fmt.Errorf("layout %d lacks %s (%s)", st.LayoutVersion, n.Name, n.ID)
		}
	}
	return nil
}

// gossipAgrees reports, as an error, a running node whose gossip view has
// a running node down or missing.
func (c *Cluster) gossipAgrees(ctx context.Context) error {
	running := c.Running()
	for _, viewer := range running {
		adm, err := c.Admin(viewer)
		if err != nil {
			return err
		}
		nodes, err := adm.Nodes(ctx)
		if err != nil {
			return err
		}
		alive := map[string]bool{}
		for _, x := range nodes {
			alive[x.ID] = !x.Down
		}
		for _, n := range running {
			if !alive[n.ID] {
				return fmt.Errorf("%s does not see %s alive", viewer.Name, n.Name)
			}
		}
	}
	return nil
}

// status asks the running meta nodes in turn for the cluster's status.
func (c *Cluster) status(ctx context.Context) (*adminapi.Status, error) {
	var errs []error
	for _, n := range c.Running() {
		if !n.Meta {
			continue
		}
		adm, err := c.Admin(n)
		if err != nil {
			return nil, err
		}
		st, err := adm.Status(ctx)
		if err == nil && st.LayoutError == "" {
			return st, nil
		}
		if err == nil {
			err = errors.New(st.LayoutError)
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
	}
	return nil, fmt.Errorf("no meta node answers the status: %w", errors.Join(errs...))
}

// Admin returns an admin API client of node n.
func (c *Cluster) Admin(n *Node) (*adminapi.Client, error) {
	return adminapi.NewClient("http://"+n.AdminAddr, c.Token, nil)
}

// Running returns the nodes whose process has not exited.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.Proc != nil && !n.Proc.hasExited() {
			out = append(out, n)
		}
	}
	return out
}

// Gateways returns the running gateway nodes.
func (c *Cluster) Gateways() []*Node {
	var out []*Node
	for _, n := range c.Running() {
		if n.S3 {
			out = append(out, n)
		}
	}
	return out
}

// Leader returns the node the running meta nodes name as the metadata
// Raft leader, where healing runs.
func (c *Cluster) Leader(ctx context.Context) (*Node, error) {
	st, err := c.status(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range c.Running() {
		if st.Leader != "" && n.ID == st.Leader {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no running node is the leader %q", st.Leader)
}

// WaitLeader retries Leader until a running node leads, for at most a
// minute and a half.
func (c *Cluster) WaitLeader(ctx context.Context) (*Node, error) {
	var lead *Node
	err := c.wait(ctx, "a metadata leader", func(ctx context.Context) error {
		var err error
		lead, err = c.Leader(ctx)
		return err
	})
	return lead, err
}

// WaitPlacing waits until every gateway places new stripes under the
// current layout, on every node: a gateway learns a new layout within
// seconds, and until then it may place stripes on fewer nodes, which
// healing would later move. It writes one probe object per gateway to
// bucket, checks where its stripe went, and removes it.
func (c *Cluster) WaitPlacing(ctx context.Context, bucket string) error {
	st, err := c.status(ctx)
	if err != nil {
		return err
	}
	// Larger than objects kept inline (64 KiB), which have no stripe.
	const probeSize = 1<<20 + 1
	for _, gw := range c.Gateways() {
		s3, err := gw.Proc.Client()
		if err != nil {
			return err
		}
		adm, err := c.Admin(gw)
		if err != nil {
			return err
		}
		key := "cluster-probe/" + gw.Name
		err = c.wait(ctx, gw.Name+" places under layout "+fmt.Sprint(st.LayoutVersion), func(ctx context.Context) error {
			// New bytes every time: a chunk stored before keeps the
			// stripe it was first stored with.
			body := make([]byte, probeSize)
			rand.Read(body)
			if _, err := s3.PutObject(ctx, bucket, key, bytes.NewReader(body), probeSize, minio.PutObjectOptions{}); err != nil {
				return err
			}
			o, err := adm.ObjectStat(ctx, bucket, key)
			if err != nil {
				return err
			}
			if len(o.Chunks) == 0 || o.Chunks[0].LayoutVersion < st.LayoutVersion {
				return fmt.Errorf("placed under an older layout than %d", st.LayoutVersion)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := s3.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("remove %s: %w", key, err)
		}
	}
	return nil
}

// Stop ends every process, all at once: SIGTERM, then SIGKILL for one
// still running after grace. It returns when they are gone.
func (c *Cluster) Stop(grace time.Duration) {
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		if n.Proc != nil {
			wg.Go(func() { n.Proc.Stop(grace) })
		}
	}
	wg.Wait()
}

// HasFlag reports whether the storaged binary bin lists the flag name
// (without dashes) in its --help: binaries of other commits than this
// package's may lack a flag it passes when they have it (--admin).
func HasFlag(ctx context.Context, bin, name string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// --help exits with status 0 or 2 depending on the flag package; the
	// text is what counts.
	out, err := exec.CommandContext(ctx, bin, "--help").CombinedOutput()
	if len(out) == 0 && err != nil {
		return false, fmt.Errorf("%s --help: %w", bin, err)
	}
	return helpListsFlag(string(out), name), nil
}

// helpListsFlag reports whether a flag package's usage text lists -name:
// a line "  -name" or "  -name TYPE".
func helpListsFlag(help, name string) bool {
	for line := range strings.Lines(help) {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "-"+name || f[0] == "--"+name) {
			return true
		}
	}
	return false
}
