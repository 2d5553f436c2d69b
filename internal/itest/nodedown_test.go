//go:build integration

package itest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/meta"
)

// TestPutWhileANodeIsDown is the README's three-node cluster (each node
// storage, meta and gateway, in a zone of its own) with one node
// SIGKILLed. Before gateways knew which nodes were down, every PUT then
// failed (4 of 6 shards stored, need 5) until the node was removed by
// hand. Now PUTs succeed again as soon as gossip declares the node
// failed: seconds, not the layout's grace period (10 minutes), and the
// node is still in the layout when they do. Objects written before and
// after read back byte-identical through both surviving gateways; when
// the node is back, every stripe written meanwhile reaches full
// redundancy.
func TestPutWhileANodeIsDown(t *testing.T) {
	const limit = 30 * time.Second
	c := newShapedCluster(t, threeNodes(), nil)
	c.healEvery("2s")
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	sizes := []int64{0, 1, 100 << 10, MiB, 3*MiB + 5, 9 * MiB}
	objs := c.putObjects(ctx, c.nodes[0], "before", seed, sizes)

	// The victim is not the Raft leader, so that what is measured is how
	// soon the gateway routes around it, not an election.
	lead := c.leader(ctx)
	var victim, gw *clusterNode
	for _, n := range c.nodes {
		switch {
		case victim == nil && n != lead:
			victim = n
		case gw == nil:
			gw = n
		}
	}
	t.Logf("leader %s; killing %s, writing through %s", lead.name, victim.name, gw.name)

	// One try per PUT (the harness's clients retry 503s), so that the
	// first success is timed to the attempt.
	s3, err := minio.New(gw.s3addr, &minio.Options{
		Creds: credentials.NewStaticV4(c.access, c.secret, ""), Region: region, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	probe := clusterObject{key: "during/first", seed: seed + 1000, size: 2*MiB + 3}
	victim.kill()
	killed := time.Now()
	failures := 0
	var lastErr error
	for {
		if time.Since(killed) > limit {
			t.Fatalf("no PUT succeeded within %v of the kill (%d failed; the last: %v)", limit, failures, lastErr)
		}
		h := sha256.New()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s3.PutObject(wctx, clusterBucket, probe.key, io.TeeReader(newPayload(probe.seed, probe.size), h), probe.size, minio.PutObjectOptions{})
		cancel()
		if err == nil {
			copy(probe.sum[:], h.Sum(nil))
			break
		}
		failures++
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(killed)
	if failures == 0 {
		// Every stripe of three nodes has shards on each: a PUT right
		// after the kill must miss the write quorum.
		t.Fatalf("the first PUT after killing %s succeeded: the kill did not take", victim.name)
	}
	t.Logf("the first PUT succeeded %.1f s after %s was killed, after %d failed PUTs (the last: %v)",
		took.Seconds(), victim.name, failures, lastErr)

	// The premise: the node is still in the layout (the PUT did not
	// succeed because it was dropped), and the stripe has no shard on it.
	l, err := c.layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(l.Nodes, func(n meta.LayoutNode) bool { return n.ID == victim.id && !n.Removed }) {
		t.Fatalf("%s is no longer in layout version %d", victim.name, l.Version)
	}
	c.checkStripesAvoid(ctx, gw, probe.key, victim)

	// Writes go on, every one of them, through both surviving gateways
	// once they too see the node down.
	c.waitGossip(ctx)
	objs = append(objs, probe)
	for i, n := range c.gateways() {
		after := c.putObjects(ctx, n, fmt.Sprintf("after-%s", n.name), seed+uint64(2000+100*i), sizes)
		c.checkStripesAvoid(ctx, n, after[len(after)-1].key, victim)
		objs = append(objs, after...)
	}
	c.checkEverywhere(ctx, objs)

	// The node comes back: healing moves to it the shards that stripes
	// written meanwhile put on the others, until every stripe is whole
	// and spread as the layout wants, two shards on each node.
	c.start(victim, []string{lead.gossip})
	c.waitGossip(ctx)
	h := c.waitHealthy(ctx, 2*time.Minute, "every stripe whole after "+victim.name+" came back")
	t.Logf("after %s came back: %s; moved %v bytes", victim.name, h, h.movedBytes)
	if h.movedBytes == 0 {
		t.Error("nothing moved to the node that came back")
	}
	for _, ci := range c.chunkRecords(ctx) {
		per := map[string]int{}
		for _, n := range ci.Stripe.Nodes {
			per[n]++
		}
		if len(ci.Stripe.Nodes) != ci.Stripe.K+ci.Stripe.M || per[""] > 0 || len(per) != 3 || per[victim.id] != 2 {
			t.Fatalf("chunk %x: shards on %v, want two on each of the three nodes", ci.CID, per)
		}
	}
	c.checkLiveShards(ctx, objs)
	c.checkEverywhere(ctx, objs)
}

// checkStripesAvoid checks with the admin API of via that every shard of
// the object's stripes is on a node other than the dead one, and there.
func (c *testCluster) checkStripesAvoid(ctx context.Context, via *clusterNode, key string, dead *clusterNode) {
	c.t.Helper()
	st, err := c.admin(via).ObjectStat(ctx, clusterBucket, key)
	if err != nil {
		c.t.Fatal(err)
	}
	striped := 0
	for _, ch := range st.Chunks {
		if ch.Inline {
			continue
		}
		striped++
		if ch.Error != "" || len(ch.Shards) != ch.K+ch.M {
			c.t.Fatalf("%s chunk %d: %d shards, error %q", key, ch.Index, len(ch.Shards), ch.Error)
		}
		for _, sh := range ch.Shards {
			if sh.Node == "" || sh.Node == dead.id || sh.Present == nil || !*sh.Present {
				c.t.Fatalf("%s chunk %d shard %d: on %q (the dead node is %s), present %v, error %q",
					key, ch.Index, sh.Index, sh.Node, dead.id, sh.Present, sh.Error)
			}
		}
	}
	if striped == 0 {
		c.t.Fatalf("%s has no striped chunk to check", key)
	}
}
