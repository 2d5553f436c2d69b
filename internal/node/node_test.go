package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/metrics"
	"cairn/internal/metrics/metricstest"
	"cairn/internal/nodeapi"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

var testSecret = []byte("cluster secret for node tests!!")

// TestClusterInProcess starts a meta+gateway node and five storage nodes
// in three zones, over real HTTP, gossip and Raft on loopback, and stores
// and reads an object through the gateway. The storage nodes are
// contributors': they hold no cluster secret, and enroll with join
// invites that the first node's admin API makes.
func TestClusterInProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var nodes []Config
	var firstGossip string
	// Listeners are handed over; the ports gossip and Raft bind themselves
	// stay reserved until the nodes start, so that no other test of the
	// run takes one in between.
	var reserved []net.Listener
	reserve := func() string {
		l := listen(t)
		reserved = append(reserved, l)
		return l.Addr().String()
	}
	for i := range 6 {
		c := DefaultConfig()
		dir := t.TempDir()
		c.DataDir, c.StorageDir = filepath.Join(dir, "data"), filepath.Join(dir, "shards")
		c.Zone = fmt.Sprintf("zone-%d", i%3)
		c.Weight = 1
		c.APIListener, c.AdminListener = listen(t), listen(t)
		c.APIAddr, c.GossipAddr = c.APIListener.Addr().String(), reserve()
		c.AdminAddr = c.AdminListener.Addr().String()
		c.GossipProfile = cluster.ProfileTest
		c.Out = io.Discard
		if i == 0 {
			c.Secret = testSecret
			c.Meta, c.RaftAddr = true, reserve()
			c.S3Listener = listen(t)
			c.S3Addr = c.S3Listener.Addr().String()
			firstGossip = c.GossipAddr
		} else {
			c.Join = []string{firstGossip}
		}
		nodes = append(nodes, c)
	}
	for _, l := range reserved {
		l.Close()
	}
	done := make(chan error, len(nodes))
	started := 0
	defer func() {
		cancel()
		for range started {
			if err := <-done; err != nil {
				t.Errorf("node stopped with: %v", err)
			}
		}
	}()
	s3Ready := make(chan struct{})
	nodes[0].S3Ready = func() { close(s3Ready) }
	go func() { done <- Run(ctx, nodes[0]) }()
	started++
	// The gateway serves once the layout has a storage node (its own).
	select {
	case <-s3Ready:
	case <-time.After(60 * time.Second):
		t.Fatal("the first node's gateway did not start")
	}
	token, err := os.ReadFile(filepath.Join(nodes[0].DataDir, adminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	ac, err := adminapi.NewClient("http://"+nodes[0].AdminAddr, strings.TrimSpace(string(token)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(nodes); i++ {
		inv, err := ac.NewInvite(ctx, nodes[i].Zone, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// The contributor asks for another zone; the one its invite and
		// certificate name is the one it gets.
		nodes[i].JoinToken, nodes[i].Zone = inv.Token, "a-zone-of-its-choosing"
		go func() { done <- Run(ctx, nodes[i]) }()
		started++
	}

	// An access key, written straight through the metadata API by a
	// tenant.
	mc, err := metarpc.NewClient(metarpc.ClientConfig{Leader: func() string { return "https://" + nodes[0].APIAddr }, HTTP: tenantClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		l, err := mc.Layout(ctx)
		if err != nil {
			return err
		}
		if l == nil || len(l.Nodes) != 6 {
			return fmt.Errorf("layout %+v", l)
		}
		zones := map[string]int{}
		for _, n := range l.Nodes {
			zones[n.Zone]++
		}
		if zones["zone-0"] != 2 || zones["zone-1"] != 2 || zones["zone-2"] != 2 {
			t.Fatalf("the layout's zones are %v, want the invites' (2 nodes in each of zone-0, zone-1, zone-2)", zones)
		}
		return mc.PutKey(ctx, &meta.Key{V: 1, ID: "AKIATEST", Secret: "secretsecret", Created: time.Now()})
	})

	// The gateway started with a layout of its own node only, and takes
	// new layout versions every 2 s (refreshLoop).
	time.Sleep(3 * time.Second)
	s3, err := minio.New(nodes[0].S3Addr, &minio.Options{Creds: credentials.NewStaticV4("AKIATEST", "secretsecret", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error { return s3.MakeBucket(ctx, "cluster", minio.MakeBucketOptions{}) })
	data := make([]byte, 3<<20+5)
	rand.NewChaCha8([32]byte{1}).Read(data)
	if _, err := s3.PutObject(ctx, "cluster", "k", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := s3.GetObject(ctx, "cluster", "k", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, err %v", len(got), err)
	}
	checkMetrics(ctx, t, nodes, len(data))
	// The gateway may have placed the object before it saw every
	// contributor in the layout: scrub one that holds shards.
	for _, n := range nodes[1:] {
		c, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + n.APIAddr, HTTP: anyNode(t)})
		if err != nil {
			t.Fatal(err)
		}
		if u, err := c.Usage(ctx); err == nil && u.Shards > 0 {
			checkScrub(ctx, t, n)
			return
		}
	}
	t.Fatal("no contributor holds a shard")
}

// tenantClient is an HTTP client with a tenant certificate from the test
// cluster's CA, for calling tenant nodes; anyNode is one for calling any
// node the CA certified.
func tenantClient(t *testing.T) *http.Client { return clientOf(t, true) }

func anyNode(t *testing.T) *http.Client { return clientOf(t, false) }

func clientOf(t *testing.T, tenantOnly bool) *http.Client {
	t.Helper()
	tr, err := newTrust(context.Background(), Config{Secret: testSecret}, "test-tenant", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !tenantOnly {
		return &http.Client{Transport: tr.nodeTransport("")}
	}
	return &http.Client{Transport: tr.tenantTransport()}
}

// checkScrub asks a storage node for a scrub pass over its node API, as
// the admin API does, and waits for it to check every shard the node
// holds.
func checkScrub(ctx context.Context, t *testing.T, n Config) {
	t.Helper()
	c, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + n.APIAddr, HTTP: anyNode(t)})
	if err != nil {
		t.Fatal(err)
	}
	held, err := c.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if started, _, err := c.StartScrub(ctx); err != nil || !started {
		t.Fatalf("start a scrub: %v, %v", started, err)
	}
	eventually(t, func() error {
		st, err := c.ScrubStatus(ctx)
		if err != nil {
			return err
		}
		if st.Last == nil || !st.Last.Requested {
			return fmt.Errorf("no requested pass done yet: %+v", st)
		}
		if st.Last.Shards != held.Shards || st.Last.Bytes != held.Bytes || st.Last.Corrupt != 0 {
			t.Fatalf("the pass checked %d shards (%d bytes), found %d corrupt; the node holds %d (%d bytes)",
				st.Last.Shards, st.Last.Bytes, st.Last.Corrupt, held.Shards, held.Bytes)
		}
		return nil
	})
	if held.Shards == 0 {
		t.Fatal("the node holds no shard: the scrub checked nothing")
	}
}

// checkMetrics scrapes every node's /metrics after one PUT and one GET of
// size bytes through the gateway of nodes[0], which is storage too: its
// own shards go to its store directly (transport local), the others' over
// their node API (http).
func checkMetrics(ctx context.Context, t *testing.T, nodes []Config, size int) {
	t.Helper()
	scrape := func(c Config) metricstest.Metrics {
		m, err := metricstest.Scrape(ctx, nil, "http://"+c.AdminAddr+metrics.Path)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	val := func(m metricstest.Metrics, name string, labels ...string) float64 {
		v, _ := m.Value(name, labels...)
		return v
	}
	// The gateway counts a request once its handler returns, which can
	// be after the client has the response.
	eventually(t, func() error {
		m := scrape(nodes[0])
		for _, op := range []string{"PutObject", "GetObject"} {
			if v := val(m, "cairn_s3_requests_total", "op", op, "code", "200"); v != 1 {
				return fmt.Errorf("%s 200: %v, want 1", op, v)
			}
		}
		return nil
	})
	m := scrape(nodes[0])
	if v := val(m, "cairn_s3_received_bytes_total", "op", "PutObject"); v < float64(size) {
		t.Errorf("S3 bytes received %v, want >= %d", v, size)
	}
	if v := val(m, "cairn_s3_sent_bytes_total", "op", "GetObject"); v != float64(size) {
		t.Errorf("S3 bytes sent %v, want %d", v, size)
	}
	if v := val(m, "cairn_node_info", "roles", "gateway,meta,storage"); v != 1 {
		t.Errorf("cairn_node_info of the gateway: %v, want 1 with its roles", v)
	}
	if v := val(m, "cairn_shard_requests_total", "transport", "local", "op", "put", "result", "ok"); v < 1 {
		t.Errorf("the gateway's own store counted %v local shard PUTs, want >= 1", v)
	}
	// Every chunk has at least k+1 shards written and k read; a storage
	// node without a gateway serves only over HTTP, and has no S3 metrics.
	chunks := (size + 1<<20 - 1) >> 20
	var puts, gets float64
	for i, c := range nodes {
		m := scrape(c)
		puts += val(m, "cairn_shard_requests_total", "op", "put", "result", "ok")
		gets += val(m, "cairn_shard_requests_total", "op", "get", "result", "ok")
		if i > 0 {
			if v := val(m, "cairn_shard_requests_total", "transport", "local"); v != 0 {
				t.Errorf("node %d: %v local shard operations, want 0", i, v)
			}
			if n := m.Series("cairn_s3_requests_total") + m.Series("cairn_s3_request_duration_seconds"); n != 0 {
				t.Errorf("node %d, not a gateway, has %d S3 series", i, n)
			}
		}
	}
	if want := float64(chunks * (nodes[0].K + 1)); puts < want {
		t.Errorf("%v shard PUTs counted, want >= %v", puts, want)
	}
	if want := float64(chunks * nodes[0].K); gets < want {
		t.Errorf("%v shard GETs counted, want >= %v", gets, want)
	}
}

func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 60s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
