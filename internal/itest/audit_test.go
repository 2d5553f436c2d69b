//go:build integration

package itest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/internal/admin/adminapi"
	"cairn/internal/metrics/metricstest"
)

// faultBin is storaged built with -tags faultinject (internal/node
// fault.go), built once, by the first test that needs it.
var faultBin struct {
	once sync.Once
	path string
	err  error
}

// faultStoraged returns the path of a storaged whose storage node
// misbehaves as CAIRN_FAULT says.
func faultStoraged(t *testing.T) string {
	t.Helper()
	faultBin.once.Do(func() {
		faultBin.path = filepath.Join(filepath.Dir(storagedBin), "storaged-faultinject")
		out, err := exec.Command("go", "build", "-tags", "faultinject", "-o", faultBin.path, "cairn/cmd/storaged").CombinedOutput()
		if err != nil {
			faultBin.err = fmt.Errorf("build storaged -tags faultinject: %v\n%s", err, out)
		}
	})
	if faultBin.err != nil {
		t.Fatal(faultBin.err)
	}
	return faultBin.path
}

// TestAuditDrop: one storage node of six silently drops a tenth of its
// shards (not found on GET, while HEAD and its inventory list them).
// The leader's audits catch it, eject it and healing rebuilds its shards
// elsewhere; no object is lost and no read returns wrong bytes.
func TestAuditDrop(t *testing.T) { testAudit(t, "drop") }

// TestAuditAlter: the same with a node that returns a tenth of its shards
// with altered bytes, which its store's checksums do not catch.
func TestAuditAlter(t *testing.T) { testAudit(t, "alter") }

func testAudit(t *testing.T, fault string) {
	start := time.Now()
	c := newTestCluster(t, nil)
	liar := c.nodes[3] // n4: storage only, zone b
	liar.bin, liar.env = faultStoraged(t), []string{"CAIRN_FAULT=" + fault + ":0.10"}
	// Passes every 2 s, and audits fifteen times as fast as by default,
	// so that the liar is caught within seconds of the writes.
	c.healEvery("2s", "--audit-rate", "60")
	ctx := ctxT(t)
	c.bringUp(ctx)
	t.Logf("cluster up in %v", time.Since(start).Round(time.Second))

	// 240 one-chunk objects of 64 to 256 KiB: about 240 shards on each
	// node, a tenth of the liar's two dozen.
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	var sizes []int64
	for range 240 {
		sizes = append(sizes, 64<<10+1+rng.Int64N(192<<10))
	}
	objs := c.putObjects(ctx, c.nodes[0], "audit-"+fault, seed, sizes)
	held := 0
	for _, ci := range c.chunkRecords(ctx) {
		held += countOf(ci.Stripe.Nodes, liar.id)
		if ci.Stripe.Sums == nil {
			t.Fatalf("chunk %x has no shard sums: nothing to audit it against", ci.CID)
		}
	}
	if held < 120 {
		t.Fatalf("%s holds %d shards: a tenth is not a dozen", liar.name, held)
	}
	t.Logf("%d objects written in %v; %s holds %d shards", len(objs), time.Since(start).Round(time.Second), liar.name, held)

	// Readers through every gateway, all the while, comparing bytes.
	var reads, failed, wrong atomic.Int64
	rctx, stopReads := context.WithCancel(ctx)
	var readers sync.WaitGroup
	for _, gw := range c.gateways() {
		readers.Go(func() {
			s3 := c.s3(gw)
			for i := 0; rctx.Err() == nil; i++ {
				o := objs[(i*7+int(gw.name[1]))%len(objs)]
				r, err := s3.GetObject(rctx, clusterBucket, o.key, minio.GetObjectOptions{})
				if err != nil {
					failed.Add(1)
					continue
				}
				h := sha256.New()
				n, err := io.Copy(h, r)
				r.Close()
				switch {
				case rctx.Err() != nil:
				case err != nil:
					failed.Add(1)
					t.Logf("read %s through %s: %v", o.key, gw.name, err)
				case n != o.size || [32]byte(h.Sum(nil)) != o.sum:
					wrong.Add(1)
					t.Errorf("read %s through %s: %d of %d bytes, WRONG CONTENT", o.key, gw.name, n, o.size)
				default:
					reads.Add(1)
				}
				time.Sleep(10 * time.Millisecond) // the audits get their share of two cores
			}
		})
	}
	defer func() { stopReads(); readers.Wait() }()

	// The audits catch the liar and the leader ejects it.
	var victim adminapi.Node
	waitFor(t, 90*time.Second, liar.name+" ejected", func() error {
		nodes, err := c.admin(c.nodes[0]).Nodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.ID == liar.id {
				victim = n
			}
		}
		if a := victim.Audit; a == nil || !a.Ejected || !victim.Removed {
			return fmt.Errorf("not yet: removed %v, audit %+v", victim.Removed, victim.Audit)
		}
		return nil
	})
	a := victim.Audit
	t.Logf("%s ejected %v after the start: %d audits, %d missing, %d corrupt, %d lies: %s",
		liar.name, time.Since(start).Round(time.Second), a.Passed+a.Failed, a.Missing, a.Corrupt, a.Lies, a.EjectReason)
	if a.RecentFailures < 10 {
		t.Errorf("ejected with %d recent failures, fewer than the threshold 10", a.RecentFailures)
	}
	switch fault {
	case "drop":
		if a.Missing == 0 {
			t.Errorf("no audit found a shard missing on %s: %+v", liar.name, a)
		}
	case "alter":
		if a.Corrupt == 0 || a.Lies == 0 {
			t.Errorf("no audit found a corrupt shard on %s, or no read caught it lying: %+v", liar.name, a)
		}
	}

	// Healing rebuilds its shards on the others: every stripe whole, on
	// live nodes, none on the liar.
	c.waitHealthy(ctx, 90*time.Second, "healthy after the ejection")
	c.checkLiveShards(ctx, objs, liar)
	for _, ci := range c.chunkRecords(ctx) {
		if n := countOf(ci.Stripe.Nodes, liar.id); n > 0 || len(ci.Stripe.Nodes) != ci.Stripe.K+ci.Stripe.M || slices.Contains(ci.Stripe.Nodes, "") {
			t.Fatalf("chunk %x: nodes %q after the repair", ci.CID, ci.Stripe.Nodes)
		}
	}
	stopReads()
	readers.Wait()
	t.Logf("%d reads during the run, %d failed, %d wrong", reads.Load(), failed.Load(), wrong.Load())
	if reads.Load() == 0 {
		t.Fatal("no read completed: the readers proved nothing")
	}
	if wrong.Load() != 0 || failed.Load() != 0 {
		t.Fatalf("%d reads returned wrong bytes and %d failed", wrong.Load(), failed.Load())
	}

	// storectl says so: the node list and status show the liar ejected,
	// with its failures; the others are clean.
	for _, args := range [][]string{{"node", "list", "--json"}, {"status", "--json"}} {
		out, err := c.storectl(c.nodes[2], args...)
		if err != nil {
			t.Fatal(err)
		}
		var nodes []adminapi.Node
		if args[0] == "status" {
			var st adminapi.Status
			err = json.Unmarshal([]byte(out), &st)
			nodes = st.Nodes
		} else {
			err = json.Unmarshal([]byte(out), &nodes)
		}
		if err != nil {
			t.Fatalf("storectl %v: %v", args, err)
		}
		for _, n := range nodes {
			switch {
			case n.ID == liar.id && (!n.Removed || n.Audit == nil || !n.Audit.Ejected || n.Audit.Failed == 0):
				t.Errorf("storectl %v: %s %+v %+v", args, liar.name, n, n.Audit)
			case n.ID != liar.id && n.Audit != nil && (n.Audit.Failed != 0 || n.Audit.Ejected || n.Audit.Passed == 0):
				t.Errorf("storectl %v: %s, honest, has %+v", args, n.ID, n.Audit)
			}
		}
	}
	out, err := c.storectl(c.nodes[0], "node", "list")
	if err != nil || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(liar.id)+`\s.*EJECTED`).MatchString(out) {
		t.Errorf("storectl node list does not show %s ejected (%v):\n%s", liar.name, err, out)
	}
	m, err := metricstest.Scrape(ctx, http.DefaultClient, "http://"+c.leader(ctx).admin+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	ejected, _ := m.Value("cairn_audit_ejections_total", "result", "ejected")
	missing, _ := m.Value("cairn_audit_total", "result", "missing")
	corrupt, _ := m.Value("cairn_audit_total", "result", "corrupt")
	onLiar, _ := m.Value("cairn_audit_node_total", "node", liar.id, "result", map[string]string{"drop": "missing", "alter": "corrupt"}[fault])
	if ejected != 1 || missing+corrupt == 0 || onLiar == 0 {
		t.Errorf("leader's metrics: %v ejected, %v missing, %v corrupt, %v on %s", ejected, missing, corrupt, onLiar, liar.name)
	}

	// Nothing depends on the liar any more.
	liar.kill()
	c.checkEverywhere(ctx, objs)
	t.Logf("done in %v", time.Since(start).Round(time.Second))
}
