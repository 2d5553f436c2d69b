//go:build integration

package itest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/gateway"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
	"cairn/internal/pki"
)

// startWithContributors starts three tenant nodes (metadata, gateway and
// storage, in zones a, b and c) and three contributors' storage nodes, one
// per zone, which hold no cluster secret and enroll with invites; then the
// access key and bucket, and waits until every gateway places on all six.
func startWithContributors(t *testing.T) (*testCluster, []*clusterNode) {
	t.Helper()
	c := newShapedCluster(t, threeNodes(), nil)
	c.startAll(false)
	var contribs []*clusterNode
	for _, z := range []string{"zone-a", "zone-b", "zone-c"} {
		contribs = append(contribs, c.addContributor(z))
	}
	c.settle(ctxT(t))
	return c, contribs
}

// stolen is what a contributor has: its node's data directory.
type stolen struct {
	id        *pki.Identity
	gossipKey []byte
	dataDir   string
}

func steal(t *testing.T, n *clusterNode) stolen {
	t.Helper()
	dir := filepath.Join(n.dir, "data")
	id, err := pki.LoadIdentity(filepath.Join(dir, "identity.pem"))
	if err != nil {
		t.Fatal(err)
	}
	gk, err := os.ReadFile(filepath.Join(dir, "gossip.key"))
	if err != nil {
		t.Fatal(err)
	}
	return stolen{id: id, gossipKey: gk, dataDir: dir}
}

// client is an HTTP client presenting the stolen certificate.
func (s stolen) client() *http.Client {
	tr := nodeapi.NewTransport()
	tr.TLSClientConfig = pki.ClientTLS(s.id, nil)
	return &http.Client{Transport: tr}
}

// refusals counts what a contributor tried and was refused.
type refusals struct {
	t     *testing.T
	tried []string
	why   map[string]string
}

// expect records an attempt; err is how it was refused (nil: it was not).
func (r *refusals) expect(what string, err error) {
	r.t.Helper()
	r.tried = append(r.tried, what)
	if err == nil {
		r.t.Errorf("NOT REFUSED: %s", what)
		return
	}
	if r.why == nil {
		r.why = map[string]string{}
	}
	r.why[what] = err.Error()
}

func (r *refusals) report() {
	r.t.Helper()
	for _, what := range r.tried {
		if why, ok := r.why[what]; ok {
			r.t.Logf("refused: %s: %.160s", what, why)
		}
	}
	r.t.Logf("%d of %d attempts refused", len(r.why), len(r.tried))
	if len(r.why) != len(r.tried) {
		r.t.Errorf("%d of %d attempts were not refused", len(r.tried)-len(r.why), len(r.tried))
	}
}

// httpRefused turns an HTTP answer into the refusal it should be: an
// error when the request failed or was refused with a 4xx, nil when it
// was served.
func httpRefused(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// TestTrustContributorRefused: with nothing but a contributor's storage
// node's data directory, every step beyond holding shards is refused:
// metadata calls, admin calls, listing keys, joining as a metadata node or
// a gateway, advertising another node's ID, fetching or deleting shards
// it was not asked to hold, replaying a captured request. The test counts
// the refusals.
func TestTrustContributorRefused(t *testing.T) {
	c, contribs := startWithContributors(t)
	ctx := ctxT(t)
	gw := c.gateways()[0]
	objs := c.putObjects(ctx, gw, "trust", 1, []int64{3<<20 + 11, 1<<20 + 7})
	thief, victim, other := contribs[0], contribs[1], contribs[2]
	s := steal(t, thief)
	first := c.nodes[0]
	r := &refusals{t: t}

	// Nothing of the tenant's is in the directory.
	entries, _ := os.ReadDir(s.dataDir)
	for _, e := range entries {
		switch e.Name() {
		case "admin-token", "cluster-secret", "credentials.json", "meta":
			t.Errorf("a contributor's data dir holds %s", e.Name())
		}
		if b, err := os.ReadFile(filepath.Join(s.dataDir, e.Name())); err == nil && bytes.Contains(b, []byte(clusterSecret)) {
			t.Errorf("%s holds the cluster secret", e.Name())
		}
	}

	// The metadata API, with the contributor's certificate.
	mc, err := metarpc.NewClient(metarpc.ClientConfig{Leader: func() string { return "https://" + first.api }, HTTP: s.client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mc.ListKeys(ctx)
	r.expect("metadata: list the S3 keys", err)
	_, err = mc.ListBuckets(ctx)
	r.expect("metadata: list buckets", err)
	_, err = mc.GetObject(ctx, clusterBucket, objs[0].key)
	r.expect("metadata: read a manifest", err)
	r.expect("metadata: make an S3 key", mc.PutKey(ctx, &meta.Key{V: meta.FormatVersion, ID: "THIEF", Secret: "thief-secret", Created: time.Now()}))
	r.expect("metadata: change the layout", mc.SetLayout(ctx, &meta.Layout{Version: 1 << 40}))

	// The admin API: on the operator port it needs the admin token, which
	// derives from the secret; on the node API, a tenant certificate.
	ac, err := adminapi.NewClient("http://"+first.admin, "cairn-guessed-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ac.Keys(ctx)
	r.expect("admin: list keys with a guessed token", err)
	r.expect("admin: list keys on the node API with its certificate", httpRefused(s.client().Get("https://"+first.api+adminapi.PathPrefix+"keys")))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+first.api+adminapi.PathPrefix+"invites?zone=zone-a", nil)
	r.expect("admin: invite another node on the node API with its certificate", httpRefused(s.client().Do(req)))

	// Joining as a metadata node or a gateway: storaged will not, without
	// the secret; Raft's TLS admits tenant certificates only; gossip's
	// word that a member has the meta role is checked against its
	// certificate before it becomes a voter.
	for _, role := range [][]string{{"--meta", "--raft", "127.0.0.1:" + freePort(t)}, {"--s3", "127.0.0.1:" + freePort(t)}} {
		dir := t.TempDir()
		for _, f := range []string{"identity.pem", "gossip.key", "node-id"} {
			b, err := os.ReadFile(filepath.Join(s.dataDir, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o600)
		}
		args := append([]string{"--storage", filepath.Join(dir, "shards"), "--data", dir, "--api", "127.0.0.1:" + freePort(t),
			"--gossip", "127.0.0.1:" + freePort(t), "--admin", "", "--join", first.gossip}, role...)
		cmd := exec.Command(storagedBin, args...)
		cmd.Env = withoutCairnEnv(os.Environ())
		out, err := cmd.CombinedOutput()
		if err == nil {
			err = errors.New("storaged ran")
		} else if strings.Contains(string(out), "no cluster secret") || strings.Contains(string(out), "holds the cluster secret") {
			err = fmt.Errorf("%s", bytes.TrimSpace(out))
		} else {
			t.Errorf("storaged %s with a contributor's identity: %v: %s", role[0], err, out)
		}
		r.expect("start as a "+map[string]string{"--meta": "metadata node", "--s3": "gateway"}[role[0]], err)
	}
	r.expect("speak Raft to a metadata node", handshake(first.raft, pki.ClientTLS(s.id, nil)))
	liar := joinGossip(t, s, "liar-meta", cluster.Member{Roles: []cluster.Role{cluster.RoleMeta}, APIAddr: thief.api, RaftAddr: thief.api}, first.gossip)
	err = waitLog(t, c.metaNodes(), "member=liar-meta", "not confirmed by its certificate", 30*time.Second)
	r.expect("claim the meta role in gossip", err)
	liar.Leave(ctx)
	liar.Close()
	for _, n := range c.metaNodes() {
		if b, _ := os.ReadFile(n.logPath); bytes.Contains(b, []byte("added metadata voter")) && bytes.Contains(b, []byte("member=liar-meta")) &&
			strings.Contains(lineWith(string(b), "added metadata voter"), "liar-meta") {
			t.Errorf("%s made the liar a voter", n.name)
		}
	}

	// Advertising another node's ID: with the victim down, the thief
	// gossips its ID at an address of its own, where it serves with its
	// own certificate. Gateways that place shards on the "victim" refuse
	// the handshake, and the thief is asked nothing.
	victim.kill()
	fake := newFakeNode(t, s.id)
	waitFor(t, 60*time.Second, "gossip to declare the victim failed", func() error {
		if c.gossipStatus(ctx, first, victim.id) == "alive" {
			return errors.New("still alive")
		}
		return nil
	})
	imp := joinGossip(t, s, victim.id, cluster.Member{Zone: victim.zone, Weight: 1, Roles: []cluster.Role{cluster.RoleStorage}, APIAddr: fake.addr()}, first.gossip)
	waitFor(t, 60*time.Second, "the impostor to be dialled", func() error {
		c.putObjects(ctx, gw, "impostor", uint64(time.Now().UnixNano()), []int64{1<<20 + 3})
		if fake.conns.Load() == 0 {
			return errors.New("no connection yet")
		}
		return nil
	})
	if n := fake.served.Load(); n != 0 {
		r.expect("advertise another node's ID", nil)
		t.Errorf("the impostor was asked %d requests", n)
	} else {
		r.expect("advertise another node's ID", fmt.Errorf("%d connections to the impostor, none completed a handshake", fake.conns.Load()))
	}
	imp.Leave(ctx)
	imp.Close()
	fake.close()
	// The victim stays down: gossip remembers the impostor's name at its
	// address until its tombstone times out (docs/security.md).

	// Fetching or deleting shards it was not asked to hold: another
	// contributor serves tenant nodes only.
	shard := someShard(ctx, t, other)
	oc, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + other.api, HTTP: s.client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = oc.Get(ctx, shard, nil)
	r.expect("fetch a shard from another node", err)
	r.expect("delete a shard on another node", oc.Delete(ctx, shard))
	tc, _ := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + other.api, HTTP: tenantHTTP(t)})
	if has, err := tc.Has(ctx, shard); err != nil || !has {
		t.Errorf("the other node's shard after the thief's attempts: has=%v, %v", has, err)
	}

	// Replaying a captured request: a tenant's shard PUT to another node,
	// recorded on the wire, then deleted; its bytes sent again on a new
	// connection store nothing.
	rec := newRecorder(t, other.api)
	payload := []byte("a shard put through a recording proxy, to be replayed")
	id := erasure.ShardCID(payload)
	pc, _ := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + rec.addr(), HTTP: tenantHTTP(t)})
	if err := pc.Put(ctx, id, payload); err != nil {
		t.Fatal(err)
	}
	if err := tc.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	r.expect("replay a captured shard PUT", rec.replay(t))
	if has, err := tc.Has(ctx, id); err != nil || has {
		t.Errorf("after the replay the node has the shard: %v, %v", has, err)
	}

	r.report()
	// Everything still reads back.
	c.checkObjects(ctx, gw, objs)
}

// TestTrustRevoked: a contributor's node completes a handshake with the
// tenant's nodes (and is refused, 403, any request) until an operator
// removes it; from then on its certificate is refused at the handshake,
// by the tenant's nodes as servers and as clients.
func TestTrustRevoked(t *testing.T) {
	c, contribs := startWithContributors(t)
	ctx := ctxT(t)
	gone := contribs[2]
	s := steal(t, gone)
	first := c.nodes[0]
	if err := handshake(first.api, pki.ClientTLS(s.id, nil)); err != nil {
		t.Fatalf("before removal, the contributor's handshake with a tenant node: %v", err)
	}
	if _, err := c.storectl(first, "node", "remove", gone.id); err != nil {
		t.Fatal(err)
	}
	// Every tenant node follows the layout within seconds.
	for _, n := range c.nodes[:3] {
		waitFor(t, 30*time.Second, n.name+" to refuse the removed node", func() error {
			if err := handshake(n.api, pki.ClientTLS(s.id, nil)); err == nil {
				return errors.New("handshake completed")
			}
			return nil
		})
	}
	// As clients: the removed node, still running, is never dialled
	// successfully; the gateways write around it.
	gw := c.gateways()[0]
	objs := c.putObjects(ctx, gw, "after-removal", 7, []int64{2<<20 + 5})
	c.checkObjects(ctx, gw, objs)
	// A removed node is not taken back by the steward on gossip's word.
	time.Sleep(3 * time.Second)
	l, err := c.layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		if n.ID == gone.id && !n.Removed {
			t.Errorf("the removed node is back in the layout: %+v", n)
		}
	}
}

// TestTrustCanaryTraffic: objects made of a distinctive text cross the
// network between nodes — to contributors' storage nodes and back, and
// through a metadata node's API — and a capture of that traffic finds the
// canary nowhere: everything between nodes is TLS, and what reaches a
// storage node is sealed. The contributors' disks hold no canary either.
func TestTrustCanaryTraffic(t *testing.T) {
	c := newShapedCluster(t, threeNodes(), nil)
	// The second tenant node's API is reached through a recorder.
	metaRec := newRecorder(t, c.nodes[1].api)
	c.nodes[1].extra = append(c.nodes[1].extra, "--advertise-api", metaRec.addr())
	c.startAll(false)
	var recs []*recorder
	for _, z := range []string{"zone-a", "zone-b", "zone-c"} {
		c.addContributor(z, func(n *clusterNode) {
			rec := newRecorder(t, n.api)
			recs = append(recs, rec)
			n.extra = append(n.extra, "--advertise-api", rec.addr())
		})
	}
	ctx := ctxT(t)
	c.settle(ctx)
	canary := fmt.Sprintf("CAIRN-WIRE-CANARY-%x", time.Now().UnixNano())
	objs := canaryObjects(t, "wire", canary, []int{gateway.DefaultInlineMax + 1, MiB + 4321, 3*MiB + 17})
	written := c.putCanaries(ctx, c.nodes[0], objs)
	// Read back through every gateway: shards travel back from the
	// contributors, manifests from the leader.
	for _, gw := range c.gateways() {
		c.checkObjects(ctx, gw, written)
	}
	recs = append(recs, metaRec)
	var total int
	for i, rec := range recs {
		rec.mu.Lock()
		sent, answered := bytes.Clone(rec.sent), bytes.Clone(rec.answered)
		rec.mu.Unlock()
		total += len(sent) + len(answered)
		if len(sent) == 0 || len(answered) == 0 {
			t.Errorf("recorder %d saw %d bytes sent and %d answered: no traffic went through it", i, len(sent), len(answered))
			continue
		}
		for name, b := range map[string][]byte{"sent": sent, "answered": answered} {
			if n := bytes.Count(b, []byte(canary)); n != 0 {
				t.Errorf("recorder %d: the canary is %d times in the %s traffic", i, n, name)
			}
			if b[0] != 0x16 {
				t.Errorf("recorder %d: the %s traffic does not begin with a TLS handshake record", i, name)
			}
		}
	}
	hits, files := c.grepStorage([]byte(canary))
	if hits != 0 {
		t.Errorf("the canary is %d times in %d files of the storage directories", hits, files)
	}
	t.Logf("%d bytes of node-to-node traffic through %d recorders, and %d storage files: no canary", total, len(recs), files)
}

// joinGossip joins the cluster's gossip as a member of the contributor's
// making, with the gossip key it was given.
func joinGossip(t *testing.T, s stolen, id string, m cluster.Member, join string) *cluster.Cluster {
	t.Helper()
	cfg := cluster.DefaultConfig()
	m.ID = id
	cfg.Self, cfg.BindAddr, cfg.Join, cfg.GossipKey = m, "127.0.0.1:"+freePort(t), []string{join}, s.gossipKey
	cfg.Profile = cluster.ProfileTest
	cl, err := cluster.Start(cfg)
	if err != nil {
		t.Fatalf("join gossip as %s: %v", id, err)
	}
	return cl
}

// waitLog waits until one of the nodes' logs has a line with both
// substrings.
func waitLog(t *testing.T, nodes []*clusterNode, a, b string, limit time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		for _, n := range nodes {
			data, _ := os.ReadFile(n.logPath)
			for line := range strings.Lines(string(data)) {
				if strings.Contains(line, a) && strings.Contains(line, b) {
					return fmt.Errorf("%s: %s", n.name, strings.TrimSpace(line))
				}
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// gossipStatus is what node n's admin API says of member id's liveness.
func (c *testCluster) gossipStatus(ctx context.Context, n *clusterNode, id string) string {
	nodes, err := c.admin(n).Nodes(ctx)
	if err != nil {
		return ""
	}
	for _, x := range nodes {
		if x.ID == id {
			return x.Gossip
		}
	}
	return ""
}

// someShard returns a shard that node n holds.
func someShard(ctx context.Context, t *testing.T, n *clusterNode) cid.Cid {
	t.Helper()
	tc, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + n.api, HTTP: tenantHTTP(t)})
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := tc.Inventory(ctx, cid.Undef, 10)
	if err != nil || len(page) == 0 {
		t.Fatalf("%s holds no shard: %v", n.name, err)
	}
	return page[0].ID
}

// fakeNode is a TLS server with a contributor's identity that counts the
// connections it gets and the requests it serves.
type fakeNode struct {
	ln            net.Listener
	srv           *http.Server
	conns, served atomic.Int64
}

func newFakeNode(t *testing.T, id *pki.Identity) *fakeNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{ln: ln}
	f.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.served.Add(1)
			w.WriteHeader(http.StatusOK)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				f.conns.Add(1)
			}
		},
		ErrorLog: nil,
	}
	cfg := pki.ServerTLS(id, nil)
	cfg.ClientAuth = tls.RequestClientCert // take anyone: it is the clients that must refuse
	go f.srv.Serve(tls.NewListener(ln, cfg))
	return f
}

func (f *fakeNode) addr() string { return f.ln.Addr().String() }
func (f *fakeNode) close()       { f.srv.Close() }

// recorder is a TCP proxy to a node that records what clients send, and
// what the node answers.
type recorder struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	sent     []byte
	answered []byte
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.proxy(c)
		}
	}()
	return r
}

func (r *recorder) addr() string { return r.ln.Addr().String() }

func (r *recorder) proxy(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				r.mu.Lock()
				r.answered = append(r.answered, buf[:n]...)
				r.mu.Unlock()
				c.Write(buf[:n])
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			r.mu.Lock()
			r.sent = append(r.sent, buf[:n]...)
			r.mu.Unlock()
			up.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// replay sends what the recorder saw clients send, on a new connection
// to the node, and returns how the node refused it (nil when the node
// answered as if serving it).
func (r *recorder) replay(t *testing.T) error {
	t.Helper()
	r.mu.Lock()
	sent := bytes.Clone(r.sent)
	r.mu.Unlock()
	if len(sent) == 0 {
		t.Fatal("nothing was recorded")
	}
	if sent[0] != 0x16 {
		t.Errorf("the recorded traffic does not start with a TLS handshake record: % x", sent[:min(8, len(sent))])
	}
	conn, err := net.Dial("tcp", r.target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write(sent)
	answer, _ := io.ReadAll(conn)
	if bytes.Contains(answer, []byte("HTTP/1.1 2")) {
		return nil
	}
	return fmt.Errorf("the node answered the replay with %d bytes of TLS alerts and records, and served nothing", len(answer))
}
