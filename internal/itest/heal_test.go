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
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/internal/admin/adminapi"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metrics/metricstest"
)

// healState is what the metadata leader's healing metrics say.
type healState struct {
	passes                      float64
	healthy, unreadable, broken float64 // broken: stripes missing at least one shard
	repairBytes, moveBytes      float64
	waiting, draining           float64
	repairedBytes, movedBytes   float64
}

func (h healState) String() string {
	return fmt.Sprintf("passes %v, healthy %v, missing shards %v, unreadable %v, to repair %v B, to move %v B, waiting %v, draining %v",
		h.passes, h.healthy, h.broken, h.unreadable, h.repairBytes, h.moveBytes, h.waiting, h.draining)
}

// allHealthy: every stripe whole and where the layout wants it.
func (h healState) allHealthy() bool {
	return h.passes > 0 && h.broken == 0 && h.unreadable == 0 && h.repairBytes == 0 && h.moveBytes == 0 && h.waiting == 0 && h.draining == 0
}

// heal scrapes the healing metrics of the metadata leader.
func (c *testCluster) heal(ctx context.Context) (healState, error) {
	lead := c.leader(ctx)
	m, err := metricstest.Scrape(ctx, http.DefaultClient, "http://"+lead.admin+"/metrics")
	if err != nil {
		return healState{}, err
	}
	v := func(name string, labels ...string) float64 { x, _ := m.Value(name, labels...); return x }
	h := healState{
		passes:        v("cairn_heal_passes_total"),
		healthy:       v("cairn_heal_stripes", "health", "healthy"),
		unreadable:    v("cairn_heal_stripes", "health", "unreadable"),
		repairBytes:   v("cairn_heal_waiting_bytes"),
		moveBytes:     v("cairn_heal_rebalance_waiting_bytes"),
		waiting:       v("cairn_heal_waiting_shards"),
		draining:      v("cairn_heal_draining_shards"),
		repairedBytes: v("cairn_heal_bytes_total", "kind", "repair"),
		movedBytes:    v("cairn_heal_bytes_total", "kind", "rebalance"),
	}
	for j := 1; j <= 8; j++ {
		h.broken += v("cairn_heal_stripes", "health", fmt.Sprintf("missing_%d", j))
	}
	return h, nil
}

// waitHealthy waits until a healing pass that began after since found
// every stripe healthy.
func (c *testCluster) waitHealthy(ctx context.Context, limit time.Duration, what string) healState {
	c.t.Helper()
	var last healState
	start := c.passes(ctx)
	waitFor(c.t, limit, what, func() error {
		h, err := c.heal(ctx)
		if err != nil {
			return err
		}
		last = h
		// Two passes since: the first may have started before the change.
		if h.passes < start+2 || !h.allHealthy() {
			return fmt.Errorf("not yet: %s", h)
		}
		return nil
	})
	return last
}

// healNow kicks healing until two passes that began after the call have
// run and the last found every stripe healthy, within limit: for clusters
// whose heal interval is the default.
func (c *testCluster) healNow(ctx context.Context, limit time.Duration, what string) healState {
	c.t.Helper()
	var last healState
	start := c.passes(ctx)
	waitFor(c.t, limit, what, func() error {
		h, err := c.heal(ctx)
		if err != nil {
			return err
		}
		last = h
		if h.passes >= start+2 && h.allHealthy() {
			return nil
		}
		return errors.Join(fmt.Errorf("not yet: %s", h), c.admin(c.leader(ctx)).Kick(ctx))
	})
	return last
}

func (c *testCluster) passes(ctx context.Context) float64 {
	h, err := c.heal(ctx)
	if err != nil {
		return 0
	}
	return h.passes
}

// TestHealRepair: a storage node dies for good, once dropped by its grace
// period running out and once by storectl node remove; each time healing
// rebuilds its shards elsewhere, every object's shards are on live nodes,
// and then two more storage nodes die and every object still reads back.
// Without repair the last step fails: three of a 4+2 stripe's shards
// would be gone.
func TestHealRepair(t *testing.T) {
	c := newTestCluster(t, nil)
	// A short grace, so that the test sees it run out; healing passes
	// every few seconds.
	c.healEvery("2s", "--grace", "6s")
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	objs := c.putObjects(ctx, c.nodes[0], "heal", seed, clusterSizes(rng))
	c.waitHealthy(ctx, 2*time.Minute, "healthy after the writes")

	byName := map[string]*clusterNode{}
	for _, n := range c.nodes {
		byName[n.name] = n
	}
	// n2, n4, n6 are storage only, in zones a, b, c.
	t.Run("grace-runs-out", func(t *testing.T) {
		defer c.as(t)()
		dead := byName["n6"]
		dead.kill()
		c.waitRemoved(ctx, dead)
		h := c.waitHealthy(ctx, 3*time.Minute, "healthy after n6's grace ran out")
		t.Logf("repaired %v bytes: %s", h.repairedBytes, h)
		if h.repairedBytes == 0 {
			t.Fatal("nothing was repaired")
		}
		c.checkStatusHealthy()
		c.checkLiveShards(ctx, objs, dead)
	})
	t.Run("storectl-node-remove", func(t *testing.T) {
		defer c.as(t)()
		dead := byName["n2"]
		before, _ := c.heal(ctx)
		dead.kill()
		if out, err := c.storectl(c.nodes[0], "node", "remove", dead.id); err != nil {
			t.Fatalf("storectl node remove: %v\n%s", err, out)
		}
		c.waitRemoved(ctx, dead)
		h := c.waitHealthy(ctx, 3*time.Minute, "healthy after storectl node remove n2")
		if h.repairedBytes <= before.repairedBytes {
			t.Fatalf("nothing was repaired: %s", h)
		}
		c.checkStatusHealthy()
		c.checkLiveShards(ctx, objs, dead, byName["n6"])
	})
	t.Run("two-more-die", func(t *testing.T) {
		defer c.as(t)()
		// Two of the four storage nodes left that hold together at most m
		// shards of every stripe (with zone-safe placement, two nodes of
		// one zone): found from the records, which repair changed. Without
		// repair every stripe would also lack the removed nodes' shards.
		pair := c.survivablePair(ctx, byName["n2"], byName["n6"])
		t.Logf("killing %s and %s", pair[0].name, pair[1].name)
		for _, n := range pair {
			n.kill()
		}
		c.checkEverywhere(ctx, objs)
	})
}

// survivablePair returns two live storage nodes, other than those given,
// that hold together at most M shards of every stripe, as the records
// say; it fails the test if there is none.
func (c *testCluster) survivablePair(ctx context.Context, except ...*clusterNode) [2]*clusterNode {
	c.t.Helper()
	recs := c.chunkRecords(ctx)
	var live []*clusterNode
	for _, n := range c.nodes {
		if n.reachable() && !slices.Contains(except, n) {
			live = append(live, n)
		}
	}
	for i := range live {
		for j := i + 1; j < len(live); j++ {
			ok := true
			for _, ci := range recs {
				lost := 0
				for _, node := range ci.Stripe.Nodes {
					if node == live[i].id || node == live[j].id || node == "" {
						lost++
					}
				}
				if lost > ci.Stripe.M {
					ok = false
					break
				}
			}
			if ok {
				return [2]*clusterNode{live[i], live[j]}
			}
		}
	}
	c.t.Fatalf("no two of the %d live storage nodes can be lost: placement is not zone-safe", len(live))
	return [2]*clusterNode{}
}

// checkStatusHealthy checks that storectl status --json says every
// stripe is healthy.
func (c *testCluster) checkStatusHealthy() {
	c.t.Helper()
	out, err := c.storectl(c.nodes[0], "status", "--json")
	if err != nil {
		c.t.Fatalf("storectl status: %v\n%s", err, out)
	}
	var st adminapi.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		c.t.Fatalf("storectl status --json: %v", err)
	}
	if st.Heal == nil {
		c.t.Fatalf("storectl status has no healing status:\n%s", out)
	}
	tl := st.Heal.Tally
	if tl.Stripes == 0 || tl.Healthy != tl.Stripes || tl.Unreadable != 0 || tl.RepairBytes != 0 || tl.RebalanceBytes != 0 {
		c.t.Fatalf("storectl status: %+v, want every stripe healthy", tl)
	}
}

// waitRemoved waits until the layout has taken n out.
func (c *testCluster) waitRemoved(ctx context.Context, n *clusterNode) {
	c.t.Helper()
	waitFor(c.t, time.Minute, n.name+" out of the layout", func() error {
		l, err := c.layout(ctx)
		if err != nil {
			return err
		}
		for _, ln := range l.Nodes {
			if ln.ID == n.id && !ln.Removed {
				return fmt.Errorf("layout %d still has %s", l.Version, n.name)
			}
		}
		return nil
	})
}

// checkLiveShards checks with the admin API's object stat that every shard
// of every object is on a node other than the dead ones, and present.
func (c *testCluster) checkLiveShards(ctx context.Context, objs []clusterObject, dead ...*clusterNode) {
	c.t.Helper()
	isDead := map[string]bool{}
	for _, d := range dead {
		isDead[d.id] = true
	}
	adm := c.admin(c.nodes[0])
	bad := 0
	for _, o := range objs {
		st, err := adm.ObjectStat(ctx, clusterBucket, o.key)
		if err != nil {
			c.t.Fatalf("object stat %s: %v", o.key, err)
		}
		for _, ch := range st.Chunks {
			if ch.Inline {
				continue
			}
			for _, s := range ch.Shards {
				if isDead[s.Node] || s.Node == "" || s.Present == nil || !*s.Present {
					bad++
					if bad <= 5 {
						c.t.Errorf("%s chunk %d shard %d: node %q present %v %s", o.key, ch.Index, s.Index, s.Node, s.Present, s.Error)
					}
				}
			}
			if len(ch.Shards) != ch.K+ch.M {
				c.t.Errorf("%s chunk %d: %d shards", o.key, ch.Index, len(ch.Shards))
			}
		}
	}
	if bad > 0 {
		c.t.Fatalf("%d shards not present on live nodes", bad)
	}
}

// chunkRecords reads every live chunk record.
func (c *testCluster) chunkRecords(ctx context.Context) []meta.ChunkInfo {
	c.t.Helper()
	mc := c.metaClient(c.metaNodes()...)
	var all []meta.ChunkInfo
	var after []byte
	for {
		page, next, err := mc.Chunks(ctx, after, 1000)
		if err != nil {
			c.t.Fatal(err)
		}
		for _, ci := range page {
			if ci.State == meta.ChunkLive {
				all = append(all, ci)
			}
		}
		if next == nil {
			return all
		}
		after = next
	}
}

// addNode starts one more storage-only node in zone, joining the others.
func (c *testCluster) addNode(zone string) *clusterNode {
	c.t.Helper()
	return c.addStorage(zone, "")
}

// addContributor starts one more storage-only node in zone, run by a
// contributor: it holds no cluster secret, and enrolls with an invite
// that storectl node invite makes.
func (c *testCluster) addContributor(zone string, prep ...func(*clusterNode)) *clusterNode {
	c.t.Helper()
	var inv struct{ Token string }
	out, err := c.storectl(c.nodes[0], "--json", "node", "invite", "--zone", zone, "--expires", "10m")
	if err != nil {
		c.t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil || inv.Token == "" {
		c.t.Fatalf("storectl node invite: %q, %v", out, err)
	}
	return c.addStorage(zone, inv.Token, prep...)
}

// addStorage starts a storage-only node in zone (a contributor's, with a
// join token), after prep has seen it with its addresses.
func (c *testCluster) addStorage(zone, joinToken string, prep ...func(*clusterNode)) *clusterNode {
	c.t.Helper()
	i := len(c.nodes) + 1
	root := filepath.Dir(c.nodes[0].dir)
	n := &clusterNode{
		name: fmt.Sprintf("n%d", i), zone: zone,
		dir:       filepath.Join(root, fmt.Sprintf("n%d", i)),
		host:      netHost{ip: "127.0.0.1"},
		joinToken: joinToken,
	}
	n.api, n.gossip, n.raft, n.s3addr = n.hostPort(freePort(c.t)), n.hostPort(freePort(c.t)), n.hostPort(freePort(c.t)), n.hostPort(freePort(c.t))
	n.admin = n.hostPort(freePort(c.t))
	for _, f := range prep {
		f(n)
	}
	c.nodes = append(c.nodes, n)
	c.start(n, []string{c.nodes[0].gossip, c.nodes[2].gossip})
	return n
}

// TestHealRebalance: a seventh storage node joins; shards move to it,
// no more than 1.1 times the fewest the new layout needs, every object
// reads back all the while, and afterwards every shard is where its
// record says.
func TestHealRebalance(t *testing.T) {
	c := newTestCluster(t, nil)
	c.healEvery("2s")
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	objs := c.putObjects(ctx, c.nodes[0], "rebalance", seed, clusterSizes(rng)[:120])
	c.waitHealthy(ctx, 2*time.Minute, "healthy after the writes")
	before := c.chunkRecords(ctx)
	h0, err := c.heal(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Reads go on all the while.
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	gws := []*clusterNode{c.nodes[0], c.nodes[2], c.nodes[4]}
	go func() {
		defer close(readErr)
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.tryObjects(ctx, gws[round%3], objs); err != nil {
				readErr <- err
				return
			}
		}
	}()

	n7 := c.addNode("zone-a")
	var l *meta.Layout
	waitFor(t, time.Minute, "the layout takes n7", func() error {
		var err error
		if l, err = c.layout(ctx); err != nil {
			return err
		}
		for _, ln := range l.Nodes {
			if ln.ID == n7.id {
				return nil
			}
		}
		return fmt.Errorf("layout %d lacks n7", l.Version)
	})
	ring, err := layout.Ring(l)
	if err != nil {
		t.Fatal(err)
	}
	minimum := 0
	for _, ci := range before {
		want, err := ring.Place(layout.StripeID(&ci.Stripe, ci.CID), ci.Stripe.K+ci.Stripe.M)
		if err != nil {
			t.Fatal(err)
		}
		free := map[string]int{}
		for _, w := range want {
			free[w]++
		}
		for _, n := range ci.Stripe.Nodes {
			if free[n] > 0 {
				free[n]--
			} else {
				minimum++
			}
		}
	}
	h := c.waitHealthy(ctx, 3*time.Minute, "healthy after n7 joined")
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatalf("a read failed while shards moved: %v", err)
	}
	m, err := metricstest.Scrape(ctx, http.DefaultClient, "http://"+c.leader(ctx).admin+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	moved, _ := m.Value("cairn_heal_shards_total", "kind", "rebalance", "result", "ok")
	t.Logf("moved %v shards (%v bytes), the minimum is %d", moved, h.movedBytes-h0.movedBytes, minimum)
	if minimum == 0 || moved == 0 {
		t.Fatalf("nothing moved (minimum %d, moved %v)", minimum, moved)
	}
	if moved > 1.1*float64(minimum) {
		t.Errorf("moved %v shards, more than 1.1 x the minimum %d", moved, minimum)
	}
	onN7 := 0
	for _, ci := range c.chunkRecords(ctx) {
		for _, n := range ci.Stripe.Nodes {
			if n == n7.id {
				onN7++
			}
		}
	}
	if onN7 == 0 {
		t.Error("no record names n7")
	}
	c.checkLiveShards(ctx, objs)
	c.checkEverywhere(ctx, objs)
}

// tryObjects is checkObjects returning the first error instead of failing
// the test (for use off the test's goroutine).
func (c *testCluster) tryObjects(ctx context.Context, gw *clusterNode, objs []clusterObject) error {
	s3 := c.s3(gw)
	for _, o := range objs {
		r, err := s3.GetObject(ctx, clusterBucket, o.key, minio.GetObjectOptions{})
		if err != nil {
			return fmt.Errorf("get %s through %s: %w", o.key, gw.name, err)
		}
		hs := sha256.New()
		n, err := io.Copy(hs, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("read %s through %s after %d bytes: %w", o.key, gw.name, n, err)
		}
		if n != o.size || !bytes.Equal(hs.Sum(nil), o.sum[:]) {
			return fmt.Errorf("%s through %s: read %d of %d bytes, wrong content", o.key, gw.name, n, o.size)
		}
	}
	return nil
}

// TestHealDrain: storectl node drain moves every shard off a live storage
// node while it serves reads, and says when it can be stopped; then no
// stripe names it, and SIGKILLing it loses nothing.
func TestHealDrain(t *testing.T) {
	c := newTestCluster(t, nil)
	c.healEvery("2s")
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	objs := c.putObjects(ctx, c.nodes[0], "drain", seed, clusterSizes(rng)[:80])
	c.waitHealthy(ctx, 2*time.Minute, "healthy after the writes")

	victim := c.nodes[3] // n4, storage only, zone b
	held := 0
	for _, ci := range c.chunkRecords(ctx) {
		held += countOf(ci.Stripe.Nodes, victim.id)
	}
	if held == 0 {
		t.Fatalf("%s holds no shard before the drain: the test proves nothing", victim.name)
	}
	out, err := c.storectl(c.nodes[0], "node", "drain", victim.id)
	if err != nil {
		t.Fatalf("storectl node drain: %v\n%s", err, out)
	}
	if !strings.Contains(out, "can be stopped") {
		t.Fatalf("storectl node drain did not say the node can be stopped:\n%s", out)
	}
	for _, ci := range c.chunkRecords(ctx) {
		if n := countOf(ci.Stripe.Nodes, victim.id); n > 0 {
			t.Fatalf("chunk %x still names %s for %d shards after the drain", ci.CID, victim.name, n)
		}
	}
	t.Logf("%s held %d shards; drained", victim.name, held)
	victim.kill()
	c.checkLiveShards(ctx, objs, victim)
	c.checkEverywhere(ctx, objs)
}

func countOf(nodes []string, id string) int {
	n := 0
	for _, x := range nodes {
		if x == id {
			n++
		}
	}
	return n
}
