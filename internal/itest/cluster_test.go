//go:build integration

package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"cairn/internal/admin/adminapi"
	"cairn/internal/blob"
	"cairn/internal/gateway"
	"cairn/internal/layout"
)

const clusterBucket = "cluster"

// clusterObject is an object written to a test cluster and the digest of
// its bytes.
type clusterObject struct {
	key  string
	seed uint64
	size int64
	sum  [32]byte
}

// clusterSizes returns 300 sizes from 0 B to 40 MiB: mostly small, some
// of several chunks, a few large, and the edge cases.
func clusterSizes(rng *rand.Rand) []int64 {
	sizes := []int64{0, 1, MiB - 1, MiB, MiB + 1, 40 * MiB}
	for len(sizes) < 300 {
		switch r := rng.IntN(100); {
		case r < 70:
			sizes = append(sizes, rng.Int64N(256<<10))
		case r < 95:
			sizes = append(sizes, rng.Int64N(4*MiB))
		default:
			sizes = append(sizes, rng.Int64N(40*MiB))
		}
	}
	return sizes
}

// putObjects writes objects through a gateway, eight at a time.
func (c *testCluster) putObjects(ctx context.Context, gw *clusterNode, prefix string, seed uint64, sizes []int64) []clusterObject {
	c.t.Helper()
	s3 := c.s3(gw)
	objs := make([]clusterObject, len(sizes))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(8)
	for i, size := range sizes {
		o := &objs[i]
		o.key, o.seed, o.size = fmt.Sprintf("%s/%03d-%d", prefix, i, size), seed+uint64(i), size
		eg.Go(func() error {
			h := sha256.New()
			_, err := s3.PutObject(ectx, clusterBucket, o.key, io.TeeReader(newPayload(o.seed, o.size), h), o.size, minio.PutObjectOptions{})
			if err != nil {
				return fmt.Errorf("put %s through %s: %w", o.key, gw.name, err)
			}
			copy(o.sum[:], h.Sum(nil))
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		c.t.Fatal(err)
	}
	return objs
}

// checkObjects reads every object back through the gateway and compares
// digests.
func (c *testCluster) checkObjects(ctx context.Context, gw *clusterNode, objs []clusterObject) {
	c.t.Helper()
	s3 := c.s3(gw)
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(4)
	for _, o := range objs {
		eg.Go(func() error {
			r, err := s3.GetObject(ectx, clusterBucket, o.key, minio.GetObjectOptions{})
			if err != nil {
				return fmt.Errorf("get %s through %s: %w", o.key, gw.name, err)
			}
			defer r.Close()
			h := sha256.New()
			n, err := io.Copy(h, r)
			if err != nil {
				return fmt.Errorf("read %s through %s after %d bytes: %w", o.key, gw.name, n, err)
			}
			if n != o.size || !bytes.Equal(h.Sum(nil), o.sum[:]) {
				return fmt.Errorf("%s through %s: read %d of %d bytes, wrong content", o.key, gw.name, n, o.size)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		c.t.Fatal(err)
	}
}

// checkEverywhere reads every object through every running gateway.
func (c *testCluster) checkEverywhere(ctx context.Context, objs []clusterObject) {
	c.t.Helper()
	gws := c.gateways()
	if len(gws) == 0 {
		c.t.Fatal("no gateway runs")
	}
	for _, gw := range gws {
		c.checkObjects(ctx, gw, objs)
	}
}

// admin returns an admin API client for a node.
func (c *testCluster) admin(n *clusterNode) *adminapi.Client {
	c.t.Helper()
	ac, err := adminapi.NewClient("http://"+n.admin, c.token, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return ac
}

// waitGossip waits until every running node's gossip view agrees with
// which nodes run: a node is alive where it runs, down where it does not.
func (c *testCluster) waitGossip(ctx context.Context) {
	c.t.Helper()
	waitFor(c.t, 60*time.Second, "gossip views agree with the processes", func() error {
		for _, viewer := range c.tenants() {
			if !viewer.reachable() {
				continue
			}
			nodes, err := c.admin(viewer).Nodes(ctx)
			if err != nil {
				return err
			}
			for _, n := range c.nodes {
				i := slices.IndexFunc(nodes, func(x adminapi.Node) bool { return x.ID == n.id })
				if i < 0 {
					return fmt.Errorf("%s does not list %s", viewer.name, n.name)
				}
				if nodes[i].Down == n.reachable() {
					return fmt.Errorf("%s sees %s as %s", viewer.name, n.name, nodes[i].Gossip)
				}
			}
		}
		return nil
	})
}

// storectl runs the storectl binary against a node and returns its
// standard output.
func (c *testCluster) storectl(n *clusterNode, args ...string) (string, error) {
	cmd := exec.Command(storectlBin, append([]string{"--node", "http://" + n.admin, "--token", c.token}, args...)...)
	cmd.Env = withoutCairnEnv(cmd.Environ())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("storectl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// bringUp starts a new cluster, makes an access key and the bucket with
// storectl, and waits until every gateway places new objects on all the
// nodes.
func (c *testCluster) bringUp(ctx context.Context) {
	c.t.Helper()
	c.startAll(false)
	c.settle(ctx)
}

// tenants returns the nodes that hold the cluster secret (and serve the
// admin API): all but contributors' storage nodes.
func (c *testCluster) tenants() []*clusterNode {
	var ts []*clusterNode
	for _, n := range c.nodes {
		if n.joinToken == "" {
			ts = append(ts, n)
		}
	}
	return ts
}

// settle waits for a layout with every node of the cluster, makes an
// access key and the bucket with storectl, and waits until every gateway
// places new objects on all the nodes.
func (c *testCluster) settle(ctx context.Context) {
	t := c.t
	t.Helper()
	ids := map[string]bool{}
	for _, n := range c.nodes {
		ids[n.id] = true
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("a layout with the %d nodes", len(c.nodes)), func() error {
		l, err := c.layout(ctx)
		if err != nil {
			return err
		}
		if l == nil || len(l.Nodes) != len(c.nodes) {
			return fmt.Errorf("layout %+v", l)
		}
		for _, n := range l.Nodes {
			if !ids[n.ID] {
				return fmt.Errorf("layout has unknown node %s", n.ID)
			}
		}
		return nil
	})

	tenants := c.tenants()
	out, err := c.storectl(tenants[1%len(tenants)], "key", "create", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var key adminapi.NewKey
	if err := json.Unmarshal([]byte(out), &key); err != nil || key.ID == "" || key.Secret == "" {
		t.Fatalf("storectl key create --json printed %q: %v", out, err)
	}
	c.access, c.secret = key.ID, key.Secret
	if _, err := c.storectl(tenants[len(tenants)/2], "bucket", "create", clusterBucket); err != nil {
		t.Fatal(err)
	}

	// A gateway places new stripes only on the nodes its gossip view has
	// alive, and gateways pick up a new layout within seconds; until every
	// one sees every node and has the final layout, a probe object might
	// be placed on fewer nodes.
	c.waitGossip(ctx)
	l, err := c.layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	probes := uint64(0)
	for _, gw := range c.gateways() {
		waitFor(t, 30*time.Second, gw.name+" places under layout version "+fmt.Sprint(l.Version), func() error {
			// Larger than objects kept inline, which have no placement,
			// and new bytes every time: a chunk stored before keeps the
			// stripe it was first stored with.
			probes++
			key, size := "probe-"+gw.name, int64(gateway.DefaultInlineMax+1)
			if _, err := c.s3(gw).PutObject(ctx, clusterBucket, key, newPayload(probes, size), size, minio.PutObjectOptions{}); err != nil {
				return err
			}
			st, err := c.admin(gw).ObjectStat(ctx, clusterBucket, key)
			if err != nil {
				return err
			}
			if got := st.Chunks[0].LayoutVersion; got != l.Version {
				return fmt.Errorf("placed under layout %d", got)
			}
			return nil
		})
	}
}

// checkPlacement checks with storectl object stat that every shard of the
// object is where the placement function, computed here from the layout
// version the stripe names, puts it, and that the node has it. That holds
// for objects written while every node was up: a gateway places a stripe
// on the nodes that are up, and the stripe records where.
func (c *testCluster) checkPlacement(ctx context.Context, via *clusterNode, o clusterObject) {
	t := c.t
	t.Helper()
	out, err := c.storectl(via, "object", "stat", "--json", clusterBucket, o.key)
	if err != nil {
		t.Fatal(err)
	}
	var st adminapi.Object
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("object stat --json: %v\n%s", err, out)
	}
	if st.Size != o.size || len(st.Chunks) != int((o.size+MiB-1)/MiB) {
		t.Fatalf("object stat: size %d, %d chunks, want %d bytes", st.Size, len(st.Chunks), o.size)
	}
	mc := c.metaClient(c.metaNodes()...)
	for _, ch := range st.Chunks {
		l, err := mc.LayoutVersion(ctx, ch.LayoutVersion)
		if err != nil {
			t.Fatal(err)
		}
		ring, err := layout.Ring(l)
		if err != nil {
			t.Fatal(err)
		}
		// A sealed stripe is placed by its keyed name (layout.StripeID).
		placedBy := ch.CID
		if ch.Name != "" {
			placedBy = ch.Name
		}
		id, err := cid.Decode(placedBy)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ring.Place(id.Bytes(), ch.K+ch.M)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Shards) != len(want) {
			t.Fatalf("chunk %d: %d shards, want %d", ch.Index, len(ch.Shards), len(want))
		}
		for i, s := range ch.Shards {
			if s.Node != want[i] {
				t.Errorf("chunk %d shard %d: stat says node %s, placement says %s", ch.Index, i, s.Node, want[i])
			}
			if s.Present == nil || !*s.Present {
				t.Errorf("chunk %d shard %d: node %s does not have it (%s)", ch.Index, i, s.Node, s.Error)
			}
		}
	}
	human, err := c.storectl(via, "object", "stat", clusterBucket, o.key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(human, st.CID) || !strings.Contains(human, st.Chunks[0].Shards[0].Node) {
		t.Errorf("storectl object stat does not show the CID and nodes:\n%s", human)
	}
}

// checkStatus checks storectl status (table and --json) against which
// processes run.
func (c *testCluster) checkStatus(ctx context.Context, via *clusterNode) {
	t := c.t
	t.Helper()
	out, err := c.storectl(via, "status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st adminapi.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	l, err := c.layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LayoutVersion != l.Version {
		t.Errorf("status shows layout version %d, the metadata has %d", st.LayoutVersion, l.Version)
	}
	if len(st.Zones) != 3 {
		t.Errorf("status shows %d zones, want 3", len(st.Zones))
	}
	if st.Totals.Capacity <= 0 || st.Totals.Used <= 0 {
		t.Errorf("status totals %+v: want capacity and used bytes", st.Totals)
	}
	human, err := c.storectl(via, "status")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.nodes {
		i := slices.IndexFunc(st.Nodes, func(x adminapi.Node) bool { return x.ID == n.id })
		if i < 0 {
			t.Errorf("status does not list %s (%s)", n.name, n.id)
			continue
		}
		sn := st.Nodes[i]
		if sn.Zone != n.zone || !sn.InLayout || sn.Down == n.reachable() {
			t.Errorf("status shows %s as %+v; reachable=%v", n.name, sn, n.reachable())
		}
		if n.reachable() && (sn.Usage == nil || sn.Usage.Capacity <= 0) {
			t.Errorf("status shows no capacity for %s: %+v", n.name, sn)
		}
		line := lineWith(human, n.id)
		if line == "" || !strings.Contains(line, n.zone) {
			t.Errorf("storectl status has no row for %s in %s:\n%s", n.id, n.zone, human)
		}
		if down := strings.Contains(strings.ToUpper(line), "DOWN"); down == n.reachable() {
			t.Errorf("storectl status row for %s (reachable=%v): %q", n.name, n.reachable(), line)
		}
	}
	if !strings.Contains(human, fmt.Sprint(l.Version)) {
		t.Errorf("storectl status does not show layout version %d:\n%s", l.Version, human)
	}
}

func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// leader returns the meta node that leads the Raft group, as the meta
// nodes' admin status says.
func (c *testCluster) leader(ctx context.Context) *clusterNode {
	c.t.Helper()
	var lead *clusterNode
	waitFor(c.t, 30*time.Second, "a metadata leader", func() error {
		for _, n := range c.metaNodes() {
			st, err := c.admin(n).Status(ctx)
			if err != nil {
				return err
			}
			for _, m := range c.nodes {
				if st.Leader != "" && st.Leader == m.id && m.reachable() {
					lead = m
					return nil
				}
			}
		}
		return errors.New("no meta node names a running leader")
	})
	return lead
}

// as makes t the test the cluster fails, until the returned func runs.
func (c *testCluster) as(t *testing.T) func() {
	parent := c.t
	c.t = t
	return func() { c.t = parent }
}

// runClusterScenario is the life of a cluster: objects written, storage
// nodes killed, a zone lost (by kill or by partition), the Raft leader
// killed under writes, and every process restarted.
func runClusterScenario(t *testing.T, c *testCluster, loseZone func(t *testing.T, zone []*clusterNode) (restore func())) {
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	objs := c.putObjects(ctx, c.nodes[0], "set", seed, clusterSizes(rng))
	c.checkEverywhere(ctx, objs)
	big := objs[slices.IndexFunc(objs, func(o clusterObject) bool { return o.size == 40*MiB })]
	c.checkPlacement(ctx, c.nodes[2], big)

	// Any two storage processes: the storage-only ones, so that every
	// gateway and the metadata quorum stay.
	var storageOnly []*clusterNode
	for _, n := range c.nodes {
		if !n.meta && !n.s3 {
			storageOnly = append(storageOnly, n)
		}
	}
	rng.Shuffle(len(storageOnly), func(i, j int) { storageOnly[i], storageOnly[j] = storageOnly[j], storageOnly[i] })

	// A node that lies: every shard it holds comes back with wrong bytes
	// that its own checksums vouch for. Shards are named, not hashed, so
	// no shard check can catch it; the gateways check each chunk against
	// its CID and rebuild it from the shards that agree.
	t.Run("a-node-that-lies", func(t *testing.T) {
		defer c.as(t)()
		liar := storageOnly[0]
		liar.kill()
		recs, err := blob.Records(filepath.Join(liar.dir, "shards"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s lies about its %d shards", liar.name, len(recs))
		var restore []func()
		defer func() {
			// Also when a check failed: the harness tracks one process
			// per node, so the liar must be down before it starts again.
			liar.kill()
			for _, f := range restore {
				f()
			}
			c.start(liar, []string{c.nodes[0].gossip, c.nodes[2].gossip})
			c.waitGossip(ctx)
		}()
		for _, r := range recs {
			restore = append(restore, lie(t, r))
		}
		c.start(liar, []string{c.nodes[0].gossip, c.nodes[2].gossip})
		c.waitGossip(ctx)
		c.checkEverywhere(ctx, objs)
		// The reads that caught it lying cost it its reputation: the
		// auditor ejects it from the layout. An operator takes it back
		// (its bytes are put back below), as the rest of the scenario
		// needs every node.
		waitFor(t, 90*time.Second, liar.name+" ejected for its lies", func() error {
			nodes, err := c.admin(c.nodes[0]).Nodes(ctx)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if n.ID == liar.id {
					if n.Audit == nil || !n.Audit.Ejected || !n.Removed {
						return fmt.Errorf("not ejected: removed %v, audit %+v", n.Removed, n.Audit)
					}
					t.Logf("%s ejected: %d reads caught it lying; %s", liar.name, n.Audit.Lies, n.Audit.EjectReason)
					return nil
				}
			}
			return errors.New("not listed")
		})
		if _, err := c.storectl(c.nodes[0], "node", "approve", liar.id); err != nil {
			t.Fatal(err)
		}
	})
	// The gateways reported the liar's shards as wrong: healing rebuilds
	// them (the bytes on its disk, put back meanwhile, are not trusted),
	// and until then those stripes have a shard less to lose.
	c.healNow(ctx, 3*time.Minute, "healthy after the liar was found out")
	dead := storageOnly[:2]
	t.Run("kill-two-storage-nodes", func(t *testing.T) {
		defer c.as(t)()
		t.Logf("killing %s and %s", dead[0].name, dead[1].name)
		for _, n := range dead {
			n.kill()
		}
		c.checkEverywhere(ctx, objs)
		c.waitGossip(ctx)
		c.checkStatus(ctx, c.nodes[0])
		c.checkEverywhere(ctx, objs)
	})
	for _, n := range dead {
		c.start(n, []string{c.nodes[0].gossip, c.nodes[2].gossip})
	}
	c.waitGossip(ctx)

	t.Run("lose-a-zone", func(t *testing.T) {
		defer c.as(t)()
		zone := c.nodes[2:4] // zone-b: a meta+s3 node and a storage node
		defer loseZone(t, zone)()
		c.checkEverywhere(ctx, objs)
	})
	c.waitGossip(ctx)

	t.Run("kill-the-leader", func(t *testing.T) {
		defer c.as(t)()
		lead := c.leader(ctx)
		var other *clusterNode
		for _, gw := range c.gateways() {
			if gw != lead {
				other = gw
				break
			}
		}
		t.Logf("killing the leader %s, writing through %s", lead.name, other.name)
		// Writes go on through another gateway while the leader dies; the
		// acknowledged ones must all be there afterwards.
		var (
			mu    sync.Mutex
			acked []clusterObject
			stop  = make(chan struct{})
			done  = make(chan struct{})
		)
		go func() {
			defer close(done)
			s3 := c.s3(other)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := clusterObject{key: fmt.Sprintf("during/%04d", i), seed: seed + 10_000 + uint64(i), size: int64(1000 + i*997%(2*MiB))}
				h := sha256.New()
				wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := s3.PutObject(wctx, clusterBucket, o.key, io.TeeReader(newPayload(o.seed, o.size), h), o.size, minio.PutObjectOptions{})
				cancel()
				if err == nil {
					copy(o.sum[:], h.Sum(nil))
					mu.Lock()
					acked = append(acked, o)
					mu.Unlock()
				}
			}
		}()
		time.Sleep(time.Second)
		lead.kill()
		newLead := c.leader(ctx)
		if newLead == lead {
			t.Fatal("the killed node is still the leader")
		}
		after := c.putObjects(ctx, other, "after-election", seed+20_000, []int64{0, 7, 3*MiB + 5})
		close(stop)
		<-done
		mu.Lock()
		all := append(slices.Clone(acked), after...)
		mu.Unlock()
		t.Logf("%d writes acknowledged while the leader died", len(acked))
		c.checkEverywhere(ctx, all)
		objs = append(objs, all...)
	})

	t.Run("restart-all", func(t *testing.T) {
		defer c.as(t)()
		for _, n := range c.nodes {
			n.kill()
		}
		c.startAll(true)
		c.waitGossip(ctx)
		c.checkEverywhere(ctx, objs)
	})
}

// TestClusterLoopback runs six storaged processes on loopback.
func TestClusterLoopback(t *testing.T) {
	c := newTestCluster(t, nil)
	runClusterScenario(t, c, func(t *testing.T, zone []*clusterNode) func() {
		for _, n := range zone {
			n.kill()
		}
		return func() {
			for _, n := range zone {
				c.start(n, []string{c.nodes[0].gossip, c.nodes[4].gossip})
			}
		}
	})
}

// TestClusterNetns runs the six processes in network namespaces of their
// own, and loses a zone to a partition rather than to kills.
func TestClusterNetns(t *testing.T) {
	lab := newNetLab(t, 6)
	c := newTestCluster(t, lab.hosts)
	runClusterScenario(t, c, func(t *testing.T, zone []*clusterNode) func() {
		var hosts []int
		for _, n := range zone {
			hosts = append(hosts, slices.Index(c.nodes, n))
		}
		// The cut-off nodes run but nobody reaches them: reads go through
		// the gateways on this side of the partition.
		lab.cut(hosts...)
		for _, n := range zone {
			n.setCut(true)
		}
		// A partition, not a crash: the zone's nodes reach each other,
		// and nothing crosses the cut either way.
		if !lab.canDial(hosts[0], zone[1].api) {
			t.Error("the cut-off nodes do not reach each other")
		}
		if lab.canDial(-1, zone[0].api) || lab.canDial(hosts[0], c.nodes[0].api) || lab.canDial(0, zone[1].api) {
			t.Error("the partition lets connections through")
		}
		return func() {
			lab.heal(hosts...)
			for _, n := range zone {
				n.setCut(false)
			}
		}
	})
}
