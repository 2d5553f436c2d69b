//go:build integration

package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/internal/admin/adminapi"
	"cairn/internal/metrics/metricstest"
)

// storectl runs storectl against the dev cluster's metadata node (as the
// banner says) with args, and returns its output.
func (p *proc) storectl(ctx context.Context, args ...string) (string, error) {
	p.t.Helper()
	if len(p.admin) != 4 || p.admin[0] != "--node" || p.admin[2] != "--token-file" {
		p.t.Fatalf("the banner's Admin line gave %q, want --node URL --token-file FILE", p.admin)
	}
	cmd := exec.CommandContext(ctx, storectlBin, append(append([]string{}, p.admin...), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("storectl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// TestHealMetrics writes objects to `storaged --dev`, drains a storage
// node with storectl node drain (healing moves its shards off while it
// serves them), and then checks that the metadata node's /metrics and
// storectl status say the same about healing: stripes by health, bytes
// waiting for repair and rebalance, shards draining, shards and bytes
// moved, the rate limit.
func TestHealMetrics(t *testing.T) {
	p := startDevArgs(t, "", []string{"--heal-interval", "1s", "--repair-rate", "32MiB"},
		"CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	if len(p.nodeMets) != 6 {
		t.Fatalf("the banner gave %d storage node metrics URLs, want 6", len(p.nodeMets))
	}
	metaMetrics := p.nodeMets[0] // dev-1, the metadata node
	ctx := ctxT(t)

	// Objects over 64 KiB are stripes, not inline: 1 + 2 + 4 chunks.
	c := p.client()
	mkBucket(t, c, "heal")
	chunks := 0
	for i, size := range []int64{200 << 10, 1<<20 + 5, 3<<20 + 17} {
		if _, err := c.PutObject(ctx, "heal", fmt.Sprintf("obj-%d", i), bytes.NewReader(payloadBytes(uint64(i), size)), size, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		chunks += int((size + 1<<20 - 1) >> 20)
	}

	status := func() *adminapi.Status {
		t.Helper()
		out, err := p.storectl(ctx, "--json", "status")
		if err != nil {
			t.Fatal(err)
		}
		var st adminapi.Status
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("storectl --json status: %v\n%s", err, out)
		}
		if st.Heal == nil {
			t.Fatalf("storectl status has no healing status: %s", st.HealError)
		}
		return &st
	}
	// A pass after the writes sees every stripe, healthy (writes that
	// missed a shard are completed by that pass or the next).
	waitHealthy := func(what string) *adminapi.Status {
		t.Helper()
		var st *adminapi.Status
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			st = status()
			if st.Heal.Healthy && st.Heal.Tally.Stripes == int64(chunks) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not healthy with %d stripes within 60 s: %+v", what, chunks, st.Heal)
			}
		}
	}
	waitHealthy("after the writes")

	// Drain dev-3: storectl follows it until no stripe references it.
	before := status().Heal
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	out, err := p.storectl(dctx, "node", "drain", "dev-3")
	cancel()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("storectl node drain dev-3:\n%s", out)
	if !strings.Contains(out, "Node dev-3 holds no shard any stripe references: it can be stopped (then storectl node remove dev-3).") {
		t.Fatalf("storectl node drain did not say the node can stop:\n%s", out)
	}
	list, err := p.storectl(ctx, "node", "list")
	if err != nil || !strings.Contains(list, "draining") {
		t.Fatalf("node list does not show dev-3 draining (%v):\n%s", err, list)
	}
	st := waitHealthy("after the drain")
	hs := st.Heal
	// The premise: the drain moved shards, so the counters are not all 0.
	if hs.MovedShards <= before.MovedShards || hs.Tally.DrainingByNode["dev-3"] != 0 {
		t.Fatalf("the drain moved %d shards (before: %d), dev-3 holds %d", hs.MovedShards, before.MovedShards, hs.Tally.DrainingByNode["dev-3"])
	}

	// The figures /metrics gives agree with storectl status. The healer
	// passes every second meanwhile, but with no writes and nothing to do
	// every pass finds the same: compare until one scrape lands between
	// two identical status answers.
	var why string
	for try := 0; try < 10; try++ {
		st1 := status().Heal
		m, err := metricstest.Scrape(ctx, rawClient, metaMetrics)
		if err != nil {
			t.Fatal(err)
		}
		st2 := status().Heal
		if st1.MovedShards != st2.MovedShards || st1.RepairedShards != st2.RepairedShards || !st2.Healthy {
			why = "healing changed between the answers"
			continue
		}
		val := func(name string, labels ...string) float64 {
			v, ok := m.Value(name, labels...)
			if !ok {
				t.Fatalf("%s has no %s%v", metaMetrics, name, labels)
			}
			return v
		}
		why = ""
		for _, f := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"cairn_heal_stripes", []string{"health", "healthy"}, float64(st2.Tally.Healthy)},
			{"cairn_heal_stripes", []string{"health", "unreadable"}, float64(st2.Tally.Unreadable)},
			{"cairn_heal_waiting_bytes", nil, float64(st2.Tally.RepairBytes)},
			{"cairn_heal_rebalance_waiting_bytes", nil, float64(st2.Tally.RebalanceBytes)},
			{"cairn_heal_waiting_shards", nil, float64(st2.Tally.Waiting)},
			{"cairn_heal_draining_shards", nil, float64(st2.Tally.Draining)},
			{"cairn_heal_shards_total", []string{"kind", "rebalance", "result", "ok"}, float64(st2.MovedShards)},
			{"cairn_heal_bytes_total", []string{"kind", "rebalance"}, float64(st2.MovedBytes)},
			{"cairn_heal_shards_total", []string{"kind", "repair", "result", "ok"}, float64(st2.RepairedShards)},
			{"cairn_heal_rate_limit_bytes_per_second", nil, float64(st2.RateLimit)},
		} {
			if got := val(f.name, f.labels...); got != f.want {
				why += fmt.Sprintf("%s%v = %v, storectl status says %v; ", f.name, f.labels, got, f.want)
			}
		}
		if got := val("cairn_heal_stripes", "health", "healthy"); got != float64(chunks) {
			why += fmt.Sprintf("%v healthy stripes, %d written; ", got, chunks)
		}
		if st2.RateLimit != 32<<20 {
			why += fmt.Sprintf("rate limit %d, --repair-rate 32MiB; ", st2.RateLimit)
		}
		if why == "" {
			break
		}
	}
	if why != "" {
		t.Fatal(why)
	}

	// The human output says the same, and any node answers for the
	// leader: the gateway node, which has no healer, asks dev-1's.
	human, err := p.storectl(ctx, "status")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("storectl status:\n%s", human)
	if !strings.Contains(human, fmt.Sprintf("healthy     %d\n", chunks)) || !strings.Contains(human, "Time to healthy:        healthy") {
		t.Errorf("storectl status does not show %d healthy stripes:\n%s", chunks, human)
	}
	gwAPI := strings.TrimSuffix(p.metrics, "/metrics")
	cmd := exec.CommandContext(ctx, storectlBin, "--node", gwAPI, p.admin[2], p.admin[3], "--json", "heal", "status")
	b, err := cmd.Output()
	var gw adminapi.HealStatus
	if err != nil || json.Unmarshal(b, &gw) != nil || gw.Node != "dev-1" || gw.Tally.Stripes != int64(chunks) {
		t.Fatalf("heal status through the gateway node: %+v (%v) %s", gw, err, b)
	}
}
