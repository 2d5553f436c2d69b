//go:build integration

package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/erasure"
	"cairn/internal/admin/adminapi"
	"cairn/internal/blob"
	"cairn/internal/metrics/metricstest"
)

// scrape reads a node's metrics, failing the test if it cannot.
func scrape(ctx context.Context, t *testing.T, url string) metricstest.Metrics {
	t.Helper()
	m, err := metricstest.Scrape(ctx, http.DefaultClient, url)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sumMetric adds up a series over the storage nodes' metrics.
func sumMetric(ctx context.Context, t *testing.T, urls []string, name string, labels ...string) float64 {
	t.Helper()
	var sum float64
	for _, u := range urls {
		v, _ := scrape(ctx, t, u).Value(name, labels...)
		sum += v
	}
	return sum
}

// byChunk groups shard records by the chunk their name says they belong
// to (erasure.ParseShardName), each chunk's in shard order.
func byChunk(t *testing.T, recs []blob.ShardRecord) map[string][]blob.ShardRecord {
	t.Helper()
	out := map[string][]blob.ShardRecord{}
	for _, r := range recs {
		chunk, k, m, i, ok := erasure.ParseShardName(r.CID)
		if !ok {
			t.Fatalf("shard %s is not named after its chunk", r.CID)
		}
		s := out[chunk.KeyString()]
		if s == nil {
			s = make([]blob.ShardRecord, k+m)
		}
		s[i] = r
		out[chunk.KeyString()] = s
	}
	return out
}

// TestScrubRepairsRot (issue 12, item 5): bytes flipped on disk in about
// 1% of the shard records, with no client reading. One scrub pass, asked
// for with storectl scrub start, finds every one of them (the scrub
// metrics count exactly that many corrupt) and quarantines them; healing
// rebuilds them (the leader's repair count grows by that many, and each
// shard is back on its node in a new record). Then the proof that the
// rebuilt shards are whole: in every stripe that had one, two other
// shards, never corrupted, are corrupted in turn (m = 2: what parity
// covers), and every object still reads back byte for byte. Had repair not
// rewritten the shard, such a stripe would have k-1 = 3 good shards left,
// and its object could not be read.
func TestScrubRepairsRot(t *testing.T) {
	p := startDevArgs(t, "", []string{"--heal-interval", "1s"}, "CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	if len(p.nodeMets) != 6 {
		t.Fatalf("the banner gave %d storage node metrics URLs, want 6", len(p.nodeMets))
	}
	leader := p.nodeMets[0] // dev-1, the metadata node: it heals
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "rot")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	// Objects over 64 KiB, so stripes, of one to four chunks.
	var set []stored
	for i := range 32 {
		s := stored{key: fmt.Sprintf("obj-%d", i), seed: seed + uint64(i), size: 100<<10 + rng.Int64N(3*MiB)}
		if _, err := c.PutObject(ctx, "rot", s.key, newPayload(s.seed, s.size), s.size, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", s.key, err)
		}
		set = append(set, s)
	}

	recs := shardRecords(t, p)
	chunks := byChunk(t, recs)
	for k, shards := range chunks {
		for i, r := range shards {
			if !r.CID.Defined() {
				t.Fatalf("chunk %x: shard %d is on no node", k, i)
			}
		}
	}
	// About 1% of the records, one per chunk, in chunks picked at random.
	n := max(3, len(recs)/100)
	var keys []string
	for k := range chunks {
		keys = append(keys, k)
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	type flipped struct {
		chunk string
		index int
		rec   blob.ShardRecord
	}
	var flips []flipped
	for _, k := range keys[:n] {
		i := rng.IntN(len(chunks[k]))
		flips = append(flips, flipped{k, i, chunks[k][i]})
	}
	t.Logf("%d shard records in %d chunks; flipping a byte in %d of them", len(recs), len(chunks), n)

	repairs := func() float64 {
		v, _ := scrape(ctx, t, leader).Value("cairn_heal_shards_total", "kind", "repair", "result", "ok")
		return v
	}
	repaired0 := repairs()
	corrupt0 := sumMetric(ctx, t, p.nodeMets, "cairn_scrub_faults_total", "fault", "corrupt")
	passes0 := sumMetric(ctx, t, p.nodeMets, "cairn_scrub_passes_total", "trigger", "request")
	for _, f := range flips {
		flipByte(t, f.rec)
	}

	out, err := p.storectl(ctx, "scrub", "start")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "A pass started on 6 of 6 storage nodes") {
		t.Fatalf("storectl scrub start:\n%s", out)
	}
	started := time.Now()
	waitFor(t, 2*time.Minute, "a requested scrub pass on every storage node", func() error {
		if v := sumMetric(ctx, t, p.nodeMets, "cairn_scrub_passes_total", "trigger", "request"); v < passes0+6 {
			return fmt.Errorf("%v of 6 passes done", v-passes0)
		}
		return nil
	})
	took := time.Since(started)
	if got := sumMetric(ctx, t, p.nodeMets, "cairn_scrub_faults_total", "fault", "corrupt") - corrupt0; got != float64(n) {
		t.Fatalf("the scrub found %v corrupt shards, want the %d flipped", got, n)
	}
	out, err = p.storectl(ctx, "--json", "scrub", "status")
	if err != nil {
		t.Fatal(err)
	}
	var sc adminapi.Scrub
	if err := json.Unmarshal([]byte(out), &sc); err != nil {
		t.Fatalf("storectl --json scrub status: %v\n%s", err, out)
	}
	var checked, nbytes int64
	var slowest time.Duration
	for _, ns := range sc.Nodes {
		if ns.Scrub == nil || ns.Scrub.Last == nil || !ns.Scrub.Last.Requested {
			t.Fatalf("node %s: no requested pass done: %+v (%s)", ns.Node, ns.Scrub, ns.Error)
		}
		checked += ns.Scrub.Last.Shards
		nbytes += ns.Scrub.Last.Bytes
		slowest = max(slowest, ns.Scrub.Last.Ended.Sub(ns.Scrub.Last.Started))
	}
	if sc.Corrupt != int64(n) || sc.Running != 0 || sc.CheckedSince.Before(started) || checked != int64(len(recs)) {
		t.Fatalf("scrub status: %d corrupt, %d running, checked since %v (asked at %v), %d shards checked of %d",
			sc.Corrupt, sc.Running, sc.CheckedSince, started, checked, len(recs))
	}
	t.Logf("the requested passes checked %d shards, %.1f MiB, in %v on the slowest of 6 nodes (%.1f MiB/s per node on average); seen done after %v",
		checked, float64(nbytes)/MiB, slowest.Round(time.Millisecond), float64(nbytes)/MiB/6/slowest.Seconds(), took.Round(time.Millisecond))

	// Healing finds the quarantined shards missing from their nodes'
	// inventories and rebuilds them in place: each is held again, in a
	// record other than the one flipped.
	waitFor(t, 2*time.Minute, "healing to rebuild the corrupt shards", func() error {
		if got := repairs() - repaired0; got < float64(n) {
			return fmt.Errorf("%v of %d shards repaired", got, n)
		}
		now := shardRecords(t, p)
		for _, f := range flips {
			i := -1
			for j, r := range now {
				if r.CID.Equals(f.rec.CID) {
					i = j
				}
			}
			if i < 0 {
				return fmt.Errorf("shard %s not held yet", f.rec.CID)
			}
			if now[i].Path == f.rec.Path && now[i].Offset == f.rec.Offset {
				t.Fatalf("shard %s is held in the record that was flipped", f.rec.CID)
			}
		}
		return nil
	})
	if got := repairs() - repaired0; got != float64(n) {
		t.Fatalf("healing repaired %v shards, want the %d the scrub found", got, n)
	}

	// The proof: two never-corrupted shards of each repaired stripe go
	// bad too (flipped on disk; a reader finds them corrupt, as if they
	// were gone), so that the stripe can be read only with its rebuilt
	// shard. No client has read since the repair, and no scrub runs.
	chunks = byChunk(t, shardRecords(t, p))
	for _, f := range flips {
		shards := chunks[f.chunk]
		took := 0
		for i := range shards {
			if i == f.index || took == 2 {
				continue
			}
			flipByte(t, shards[i])
			took++
		}
	}
	checkSet(t, c, "rot", set)
}

// TestScrubRestartResumes: a dev cluster restarted keeps its scrub's
// state: the latest pass is not begun again (the schedule survives), and
// storectl scrub status says when it ended.
func TestScrubRestartResumes(t *testing.T) {
	data := t.TempDir()
	p := startDevArgs(t, data, nil, "CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "keep")
	if _, err := c.PutObject(ctx, "keep", "o", bytes.NewReader(payloadBytes(1, 2*MiB)), 2*MiB, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.storectl(ctx, "scrub", "start"); err != nil {
		t.Fatal(err)
	}
	status := func(p *proc) *adminapi.Scrub {
		out, err := p.storectl(ctx, "--json", "scrub", "status")
		if err != nil {
			t.Fatal(err)
		}
		var sc adminapi.Scrub
		if err := json.Unmarshal([]byte(out), &sc); err != nil {
			t.Fatal(err)
		}
		return &sc
	}
	var before *adminapi.Scrub
	waitFor(t, time.Minute, "the requested passes", func() error {
		before = status(p)
		if before.CheckedSince.IsZero() || before.Running > 0 {
			return fmt.Errorf("running %d", before.Running)
		}
		for _, n := range before.Nodes {
			if n.Scrub == nil || n.Scrub.Last == nil || !n.Scrub.Last.Requested {
				return fmt.Errorf("%s: no requested pass yet", n.Node)
			}
		}
		return nil
	})
	p.stop()
	p2 := startDevArgs(t, data, nil, "CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	after := status(p2)
	for i, n := range after.Nodes {
		b := before.Nodes[i]
		if n.Node != b.Node || n.Scrub == nil || n.Scrub.Current != nil || n.Scrub.Last == nil ||
			!n.Scrub.Last.Ended.Equal(b.Scrub.Last.Ended) || n.Scrub.Last.Shards != b.Scrub.Last.Shards {
			t.Fatalf("%s after a restart: %+v, before %+v", n.Node, n.Scrub, b.Scrub)
		}
		if want := b.Scrub.Last.Started.Add(168 * time.Hour); !n.Scrub.Next.Equal(want) {
			t.Fatalf("%s: next pass %v, want a week after the last began (%v)", n.Node, n.Scrub.Next, want)
		}
	}
}
