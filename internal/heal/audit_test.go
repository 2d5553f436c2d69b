package heal

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/meta"
)

// hostileNodes are a cluster's nodes, some of which do not answer, and a
// hook that runs before each Get.
type hostileNodes struct {
	fakeNodes
	unreachable map[string]bool
	beforeGet   func(node string, id cid.Cid)
}

func (n *hostileNodes) Shards(id string) (ShardStore, error) {
	if n.unreachable[id] {
		return nil, fmt.Errorf("storage node %s is unreachable", id)
	}
	st, err := n.fakeNodes.Shards(id)
	if err != nil || n.beforeGet == nil {
		return st, err
	}
	return hookedStore{st, func(c cid.Cid) { n.beforeGet(id, c) }}, nil
}

type hookedStore struct {
	ShardStore
	before func(cid.Cid)
}

func (s hookedStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	s.before(id)
	return s.ShardStore.Get(ctx, id, dst)
}

// auditHealer returns a healer of c whose auditor audits as fast as it is
// asked, and reaches the nodes through nodes.
func (c *cluster) auditHealer(nodes *hostileNodes, mod func(*Config)) *Healer {
	c.t.Helper()
	cfg := Default()
	cfg.Meta, cfg.Nodes = c.meta, nodes
	cfg.Alive = func(id string) bool { return c.alive[id] }
	cfg.Rate, cfg.AuditRate = 0, math.MaxFloat64
	cfg.Sealer = c.sealer
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	must(c.t, err)
	return h
}

// task is the audit of shard i of a chunk record.
func (c *cluster) task(ci *meta.ChunkInfo, i int) auditTask {
	return auditTask{c: *ci, shard: i, node: ci.Stripe.Nodes[i], sum: ci.Stripe.Sums[i]}
}

// TestAuditFindsMissingAndCorrupt audits every shard once: those a node
// dropped are missing, those it altered (same size, other bytes) corrupt,
// both counted against it and marked stored nowhere; a node that does not
// answer is unreachable and not counted; the rest pass.
func TestAuditFindsMissingAndCorrupt(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 40 {
		c.putSealed(uint64(i), 3000+i)
	}
	type key struct {
		chunk string
		shard int
	}
	dropped, altered := map[key]bool{}, map[key]bool{}
	unreachable := 0
	for k, ci := range c.meta.chunks {
		for i, node := range ci.Stripe.Nodes {
			id, _ := cid.Cast(ci.Stripe.Shards[i])
			st := c.nodes[node]
			switch {
			case node == "n1" && len(dropped) < 7:
				delete(st.shards, id.KeyString())
				dropped[key{k, i}] = true
			case node == "n2" && len(altered) < 5:
				st.shards[id.KeyString()][10] ^= 0x01
				altered[key{k, i}] = true
			case node == "n3":
				unreachable++
			}
		}
	}
	nodes := &hostileNodes{fakeNodes: c.nodes, unreachable: map[string]bool{"n3": true}}
	h := c.auditHealer(nodes, nil)
	a := h.audit
	for k, ci := range c.meta.chunks {
		for i := range ci.Stripe.Nodes {
			task := c.task(ci, i)
			res := a.audit(bg, task)
			a.record(bg, task, res)
			want := auditPassed
			switch {
			case dropped[key{k, i}]:
				want = auditMissing
			case altered[key{k, i}]:
				want = auditCorrupt
			case task.node == "n3":
				want = auditUnreachable
			}
			if res != want {
				t.Errorf("shard %d of %x on %s: %v, want %v", i, k, task.node, res, want)
			}
		}
	}
	for k := range dropped {
		if n := c.meta.chunks[k.chunk].Stripe.Nodes[k.shard]; n != "" {
			t.Errorf("a missing shard's record still names %s", n)
		}
	}
	for k := range altered {
		if n := c.meta.chunks[k.chunk].Stripe.Nodes[k.shard]; n != "" {
			t.Errorf("a corrupt shard's record still names %s", n)
		}
	}
	s := h.Status().Audit
	total := 6 * len(c.meta.chunks)
	if s.Missing != int64(len(dropped)) || s.Corrupt != int64(len(altered)) || s.Unreachable != int64(unreachable) ||
		s.Passed != int64(total-len(dropped)-len(altered)-unreachable) || s.Stale != 0 {
		t.Fatalf("status %+v, want %d missing, %d corrupt, %d unreachable of %d", s, len(dropped), len(altered), unreachable, total)
	}

	a.flush(bg)
	if c.meta.repCalls != 1 {
		t.Fatalf("%d AddReputation calls for one flush, want 1", c.meta.repCalls)
	}
	if r := c.meta.rep("n1"); r.Missing != int64(len(dropped)) || r.Corrupt != 0 || r.LastFailure.IsZero() || r.Passed == 0 {
		t.Errorf("n1's reputation %+v, want %d missing", r, len(dropped))
	}
	if r := c.meta.rep("n2"); r.Corrupt != int64(len(altered)) || r.Missing != 0 {
		t.Errorf("n2's reputation %+v, want %d corrupt", r, len(altered))
	}
	if r := c.meta.rep("n3"); r.Passed != 0 || r.Failed() != 0 || !r.LastAudit.IsZero() {
		t.Errorf("n3, unreachable, has a reputation: %+v", r)
	}
	if r := c.meta.rep("n0"); r.Failed() != 0 || r.Passed == 0 || r.LastAudit.IsZero() {
		t.Errorf("n0's reputation %+v, want passed audits only", r)
	}

	// The next pass rebuilds what the audits marked (n3 answers again:
	// some stripes lack a shard on n1 and one on n2).
	clear(nodes.unreachable)
	must(t, h.Pass(bg))
	if got := h.Status().RepairedShards; got != int64(len(dropped)+len(altered)) {
		t.Errorf("repaired %d shards, the audits marked %d", got, len(dropped)+len(altered))
	}
}

// TestAuditBLAKE3Sums: stripes sealed before keyed sums record BLAKE3
// sums, which audits still check: a shard its node altered is corrupt,
// the others pass. A healer without the sealing key, which cannot check
// keyed sums, audits only the shards with BLAKE3 sums.
func TestAuditBLAKE3Sums(t *testing.T) {
	c := newCluster(t, 6)
	old := map[string]bool{} // chunk names with BLAKE3 sums
	for i := range 40 {
		ci := c.putSealed(uint64(i), 3000)
		if i%2 == 1 {
			continue
		}
		for j, node := range ci.Stripe.Nodes {
			id, _ := cid.Cast(ci.Stripe.Shards[j])
			ci.Stripe.Sums[j] = erasure.ShardSumBLAKE3(c.nodes[node].shards[id.KeyString()])
		}
		name, _ := cid.Cast(ci.Stripe.Name)
		old[name.KeyString()] = true
	}
	var altered *meta.ChunkInfo
	for _, ci := range c.meta.chunks {
		if name, _ := cid.Cast(ci.Stripe.Name); old[name.KeyString()] {
			altered = ci
			break
		}
	}
	id, _ := cid.Cast(altered.Stripe.Shards[2])
	c.nodes[altered.Stripe.Nodes[2]].shards[id.KeyString()][10] ^= 0x01
	h := c.auditHealer(&hostileNodes{fakeNodes: c.nodes}, nil)
	for _, ci := range c.meta.chunks {
		for i := range ci.Stripe.Nodes {
			want := auditPassed
			if ci == altered && i == 2 {
				want = auditCorrupt
			}
			if res := h.audit.audit(bg, c.task(ci, i)); res != want {
				t.Errorf("shard %d of a stripe with %d-byte sums: %v, want %v", i, len(ci.Stripe.Sums[i]), res, want)
			}
		}
	}

	var mu sync.Mutex
	audited := map[string]bool{}
	nodes := &hostileNodes{fakeNodes: c.nodes, beforeGet: func(_ string, id cid.Cid) {
		chunk, _, _, _, _ := erasure.ParseShardName(id)
		mu.Lock()
		audited[chunk.KeyString()] = true
		mu.Unlock()
	}}
	keyless := c.auditHealer(nodes, func(cfg *Config) { cfg.Sealer = nil })
	for range 10 {
		if _, err := keyless.audit.round(bg); err != nil {
			t.Fatal(err)
		}
	}
	if len(audited) == 0 {
		t.Fatal("a healer without the key audited nothing, not even the BLAKE3 sums")
	}
	for k := range audited {
		if !old[k] {
			t.Fatal("a healer without the key audited a shard with a keyed sum")
		}
	}
	if s := keyless.Status().Audit; s.Corrupt > 1 || s.Passed == 0 {
		t.Fatalf("keyless audits: %+v", s)
	}
}

// TestAuditStale: a shard moved away between the record's read and the
// audit's read (a rebalance deleted the old copy after it recorded the
// new one) is not a failure of its old node, and the record is left
// alone.
func TestAuditStale(t *testing.T) {
	c := newCluster(t, 7)
	c.putSealed(1, 5000)
	var ci *meta.ChunkInfo
	for _, x := range c.meta.chunks {
		ci = x
	}
	task := c.task(ci, 0)
	old := slices.Clone(ci.Stripe.Nodes)
	moved := slices.Clone(old)
	for _, n := range []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6"} {
		if !slices.Contains(old, n) {
			moved[0] = n
		}
	}
	nodes := &hostileNodes{fakeNodes: c.nodes, beforeGet: func(node string, id cid.Cid) {
		if node == task.node {
			b, _ := c.nodes[node].Get(bg, id, nil)
			must(t, c.nodes[moved[0]].Put(bg, id, b))
			must(t, c.meta.SetStripeNodes(bg, ci.CID, old, moved, ci.Stripe.Layout))
			must(t, c.nodes[node].Delete(bg, id))
		}
	}}
	h := c.auditHealer(nodes, nil)
	if res := h.audit.audit(bg, task); res != auditStale {
		t.Fatalf("audit of a shard moved meanwhile: %v, want stale", res)
	}
	if got := c.meta.chunks[string(ci.CID)].Stripe.Nodes; !slices.Equal(got, moved) {
		t.Fatalf("the record changed to %q, want %q", got, moved)
	}
}

// TestAuditSampling: rounds audit one shard per chunk record read from a
// random key, spread evenly over the nodes that are up, never on a down
// node, and skip stripes without recorded sums.
func TestAuditSampling(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 450 {
		c.putSealed(uint64(i), 1000)
	}
	for i := range 50 {
		c.put(uint64(1000+i), 1000) // unsealed: written without sums
	}
	c.alive["n3"] = false
	var mu sync.Mutex
	audited := map[string]bool{}
	nodes := &hostileNodes{fakeNodes: c.nodes, beforeGet: func(_ string, id cid.Cid) {
		chunk, _, _, _, _ := erasure.ParseShardName(id)
		mu.Lock()
		audited[chunk.KeyString()] = true
		mu.Unlock()
	}}
	h := c.auditHealer(nodes, nil)
	a := h.audit
	total := 0
	for range 20 {
		n, err := a.round(bg)
		must(t, err)
		if n == 0 || n > auditPage {
			t.Fatalf("a round made %d audits", n)
		}
		total += n
	}
	s := h.Status().Audit
	if s.Passed != int64(total) || s.NoSum == 0 {
		t.Fatalf("%d audits: %+v", total, s)
	}
	if a.selected["n3"] != 0 {
		t.Errorf("%d audits on n3, which is down", a.selected["n3"])
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, n := range []string{"n0", "n1", "n2", "n4", "n5"} {
		lo, hi = min(lo, a.selected[n]), max(hi, a.selected[n])
	}
	if hi-lo > 1 {
		t.Errorf("audits per node %v: not spread evenly", a.selected)
	}
	// Twenty rounds of 64 records from random keys cover most of the 400
	// audited chunks; from a fixed key they would cover 64.
	if len(audited) < 200 {
		t.Errorf("%d audits covered %d chunks: the starting keys are not random", total, len(audited))
	}
	t.Logf("%d audits over %d chunks, per node %v", total, len(audited), a.selected)
}

// TestAuditRate: a round makes its audits no faster than AuditRate.
func TestAuditRate(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 40 {
		c.putSealed(uint64(i), 1000)
	}
	h := c.auditHealer(&hostileNodes{fakeNodes: c.nodes}, func(cfg *Config) { cfg.AuditRate = 200 })
	start := time.Now()
	n, err := h.audit.round(bg)
	must(t, err)
	if took, least := time.Since(start), time.Duration(n-1)*time.Second/200; n < 20 || took < least {
		t.Fatalf("%d audits in %v, at 200/s they take at least %v", n, took, least)
	}
}

// TestEjectable: the ejection rule, at least N failures in the window
// and more than R of its checks.
func TestEjectable(t *testing.T) {
	for _, tc := range []struct {
		failures, checks int64
		n                int
		r                float64
		want             bool
	}{
		{10, 100, 10, 0.05, true},
		{9, 10, 10, 0.05, false},     // too few failures, however high the ratio
		{10, 200, 10, 0.05, false},   // exactly R is not over it
		{11, 200, 10, 0.05, true},    // over R
		{50, 1000, 10, 0.05, false},  // a large window at R
		{500, 1000, 0, 0.05, false},  // N 0: never
		{500, 1000, -1, 0.05, false}, // negative: never
		{1, 1, 1, 0, true},
	} {
		r := meta.Reputation{WindowFailures: tc.failures, WindowChecks: tc.checks}
		if got := ejectable(&r, tc.n, tc.r); got != tc.want {
			t.Errorf("%d of %d failed, N %d, R %v: ejectable %v, want %v", tc.failures, tc.checks, tc.n, tc.r, got, tc.want)
		}
	}
}

// TestReputationBatching: what many audits found goes to the metadata in
// one AddReputation per flush, none when nothing was found; counts of a
// failed flush are dropped, ejections kept for the next.
func TestReputationBatching(t *testing.T) {
	c := newCluster(t, 6)
	for i := range 30 {
		c.putSealed(uint64(i), 2000)
	}
	h := c.auditHealer(&hostileNodes{fakeNodes: c.nodes}, nil)
	a := h.audit
	audits := 0
	for _, ci := range c.meta.chunks {
		for i := range ci.Stripe.Nodes {
			task := c.task(ci, i)
			a.record(bg, task, a.audit(bg, task))
			audits++
		}
	}
	a.flush(bg)
	a.flush(bg) // nothing new: no call
	if c.meta.repCalls != 1 {
		t.Fatalf("%d AddReputation calls, want 1", c.meta.repCalls)
	}
	var sum int64
	for _, n := range []string{"n0", "n1", "n2", "n3", "n4", "n5"} {
		sum += c.meta.rep(n).Passed
	}
	if sum != int64(audits) {
		t.Fatalf("reputations count %d passed audits, %d were made", sum, audits)
	}

	// A flush that fails drops its counts, but keeps its ejections.
	var task auditTask
	for _, ci := range c.meta.chunks {
		task = c.task(ci, 0)
		break
	}
	before := c.meta.rep(task.node).Passed
	a.record(bg, task, auditPassed)
	a.mu.Lock()
	a.marks["n5"] = "caught"
	a.mu.Unlock()
	c.meta.repErr = errors.New("no leader")
	a.flush(bg)
	c.meta.repErr = nil
	a.flush(bg)
	if got := c.meta.rep(task.node).Passed; got != before {
		t.Errorf("%s: %d passed audits after a failed flush, %d before: counts must be dropped, not sent again", task.node, got, before)
	}
	if r := c.meta.rep("n5"); !r.Ejected || r.EjectReason != "caught" {
		t.Fatalf("an ejection whose flush failed was not recorded by the next: %+v", r)
	}
	if c.meta.repCalls != 3 {
		t.Fatalf("%d AddReputation calls, want 3", c.meta.repCalls)
	}
}

// TestEject: a node past the rule leaves the layout, its ejection is
// recorded with the evidence and healing is kicked; the ejection is
// refused while another node is down, while stripes need the node to keep
// K shards, and when it would leave fewer than K+1 nodes; a node taken
// back by an operator is pardoned.
func TestEject(t *testing.T) {
	c := newCluster(t, 7)
	for i := range 30 {
		c.putSealed(uint64(i), 2000)
	}
	h := c.auditHealer(&hostileNodes{fakeNodes: c.nodes}, nil)
	a := h.audit
	must(t, c.meta.AddReputation(bg, []meta.ReputationDelta{
		{Node: "n1", Passed: 90, Missing: 8, Corrupt: 4, LastFailure: time.Now()},
		{Node: "n2", Passed: 600, Missing: 10}, // 10 failures, but only 1.6%
	}))
	removed := func(id string) bool {
		l, _ := c.meta.Layout(bg)
		for _, n := range l.Nodes {
			if n.ID == id {
				return n.Removed
			}
		}
		return false
	}

	// No pass yet: nobody knows which stripes need n1.
	a.judge(bg)
	if removed("n1") || !strings.Contains(h.Status().Audit.Refusal, "no heal pass") {
		t.Fatalf("ejected before any pass, or no refusal: %q", h.Status().Audit.Refusal)
	}
	must(t, h.Pass(bg))

	// Another node down.
	c.alive["n4"] = false
	a.judge(bg)
	if removed("n1") || !strings.Contains(h.Status().Audit.Refusal, "n4 of the layout is down") {
		t.Fatalf("ejected while n4 is down, or no refusal: %q", h.Status().Audit.Refusal)
	}
	c.alive["n4"] = true

	// A stripe that needs n1 to keep K shards.
	var needy *meta.ChunkInfo
	for _, ci := range c.meta.chunks {
		if slices.Contains(ci.Stripe.Nodes, "n1") {
			needy = ci
			break
		}
	}
	saved := slices.Clone(needy.Stripe.Nodes)
	blanked := 0
	for i, n := range needy.Stripe.Nodes {
		if n != "n1" && blanked < 2 {
			needy.Stripe.Nodes[i] = ""
			blanked++
		}
	}
	must(t, h.Pass(bg))
	if h.Status().Tally.Critical["n1"] == 0 {
		t.Fatalf("the pass did not count the stripe that needs n1: %+v", h.Status().Tally.Critical)
	}
	a.judge(bg)
	if removed("n1") || !strings.Contains(h.Status().Audit.Refusal, "fewer than k shards") {
		t.Fatalf("ejected while a stripe needs it, or no refusal: %q", h.Status().Audit.Refusal)
	}
	// The pass rebuilt the stripe; the next one counts none.
	must(t, h.Pass(bg))
	if n := h.Status().Tally.Critical["n1"]; n != 0 {
		t.Fatalf("%d stripes still need n1 after repair (record %q, was %q)", n, needy.Stripe.Nodes, saved)
	}

	select {
	case <-h.kick:
	default:
	}
	a.judge(bg)
	if !removed("n1") {
		t.Fatalf("n1 not ejected: %q", h.Status().Audit.Refusal)
	}
	if removed("n2") {
		t.Fatal("n2, at 1.6% failures, was ejected")
	}
	select {
	case <-h.kick:
	default:
		t.Error("no heal pass asked for after the ejection")
	}
	a.flush(bg)
	r := c.meta.rep("n1")
	if !r.Ejected || !strings.Contains(r.EjectReason, "12 of its 102 recent checks failed") {
		t.Fatalf("ejection not recorded with its evidence: %+v", r)
	}
	if s := h.Status().Audit; s.Ejected != 1 {
		t.Fatalf("status counts %d ejections", s.Ejected)
	}
	// The pass rebuilds n1's shards elsewhere.
	must(t, h.Pass(bg))
	must(t, h.Pass(bg))
	if per := c.check(); per["n1"] != 0 {
		t.Fatalf("%d shards still on the ejected node", per["n1"])
	}

	// An operator takes n1 back: pardoned, and not ejected again at once.
	l, _ := c.meta.Layout(bg)
	back := *l
	back.Version++
	back.Nodes = slices.Clone(l.Nodes)
	for i := range back.Nodes {
		if back.Nodes[i].ID == "n1" {
			back.Nodes[i].Removed, back.Nodes[i].Weight = false, 1
		}
	}
	must(t, c.meta.SetLayout(bg, &back))
	a.judge(bg)
	a.flush(bg)
	a.judge(bg)
	if r := c.meta.rep("n1"); r.Ejected || r.WindowChecks != 0 || removed("n1") {
		t.Fatalf("after an operator took n1 back: %+v, removed %v", r, removed("n1"))
	}
}

// TestEjectLeavesKPlusOne: ejecting from a cluster of K+1 nodes is
// refused.
func TestEjectLeavesKPlusOne(t *testing.T) {
	c := newCluster(t, 5)
	for i := range 10 {
		c.putSealed(uint64(i), 2000)
	}
	h := c.auditHealer(&hostileNodes{fakeNodes: c.nodes}, nil)
	must(t, h.Pass(bg))
	must(t, c.meta.AddReputation(bg, []meta.ReputationDelta{{Node: "n1", Passed: 10, Missing: 40}}))
	h.audit.judge(bg)
	l, _ := c.meta.Layout(bg)
	if l.Version != 1 || !strings.Contains(h.Status().Audit.Refusal, "fewer than k+1 = 5") {
		t.Fatalf("layout version %d, refusal %q", l.Version, h.Status().Audit.Refusal)
	}
}

// TestAuditorRun: Run audits only while it leads; leading, it finds a node
// that dropped half its shards (while its inventory lists them), records
// it and ejects it, and healing
// rebuilds its shards elsewhere; Run returns once everything it started
// has stopped.
func TestAuditorRun(t *testing.T) {
	c := newCluster(t, 7)
	for i := range 60 {
		c.putSealed(uint64(i), 2000)
	}
	liar := c.nodes["n2"]
	liar.dropped = map[string]bool{}
	i := 0
	for k := range liar.shards {
		if i%2 == 0 {
			liar.dropped[k] = true // listed, not served, and not served either once rebuilt there
		}
		i++
	}
	var lead sync.Mutex
	leading := false
	isLeader := func() bool { lead.Lock(); defer lead.Unlock(); return leading }
	alive := func(string) bool { return true }
	h := c.auditHealer(&hostileNodes{fakeNodes: c.nodes}, func(cfg *Config) {
		cfg.AuditRate, cfg.ReputationFlush, cfg.Interval, cfg.EjectThreshold = 500, 20*time.Millisecond, 50*time.Millisecond, 5
		cfg.Leader, cfg.Alive = isLeader, alive
	})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	if s := h.Status(); s.Audit.Passed+s.Audit.Missing != 0 || c.meta.repCalls != 0 {
		t.Fatalf("audits while not leading: %+v, %d reputation calls", s.Audit, c.meta.repCalls)
	}
	lead.Lock()
	leading = true
	lead.Unlock()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if r := c.meta.rep("n2"); r.Ejected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n2 not ejected: %+v, reputation %+v", h.Status().Audit, c.meta.rep("n2"))
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if s := h.Status(); s.Passes > 0 && s.Healthy() && s.LayoutVersion > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy after the ejection: %+v", h.Status().Tally)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if per := c.check(); per["n2"] != 0 {
		t.Fatalf("%d shards still on the ejected node", per["n2"])
	}
	for _, n := range []string{"n0", "n1", "n3", "n4", "n5", "n6"} {
		if r := c.meta.rep(n); r.Ejected || r.Failed() != 0 || r.Passed == 0 {
			t.Errorf("%s: %+v", n, r)
		}
	}
	t.Logf("n2: %+v", c.meta.rep("n2"))
}
