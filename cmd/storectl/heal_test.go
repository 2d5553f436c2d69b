package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/heal"
)

// midway is a healer's status in the middle of its work, under layout 1.
func midway() heal.Status {
	return heal.Status{
		Passes: 3, Healing: true, LayoutVersion: 1,
		PassStarted: admintest.Clock, Scanned: admintest.Clock.Add(time.Second),
		Tally: heal.Tally{
			Stripes: 100, Healthy: 90, Missing: map[int]int64{1: 6, 2: 3}, Unreadable: 1,
			RepairShards: 12, RepairBytes: 12 << 20, RebalanceShards: 4, RebalanceBytes: 4 << 20,
			Waiting: 2,
		},
		RateLimit: 64 << 20, Rate: 2 << 20,
		Remaining: 11 << 20, RepairRemaining: 9 << 20, RebalanceRemaining: 2 << 20, ETA: 5500 * time.Millisecond,
		Audit: heal.AuditStatus{RateLimit: 4, Passed: 1200, Missing: 12, Corrupt: 3, Unreachable: 5, Stale: 1,
			EjectThreshold: 10, EjectRatio: 0.05, Ejected: 1, Refusal: "node n4 is past the ejection rule, but stays"},
	}
}

func TestStatusStripes(t *testing.T) {
	c := sixNodes(t)
	c.Heal.Set(midway())
	x := newCLI(t, c)
	out := x.ok("status")
	if !strings.Contains(out, "Stripes (heal pass 3 under layout version 1, scanned 2025-06-07T08:09:11Z):\n") {
		t.Fatalf("no Stripes section in\n%s", out)
	}
	rows := func(out string) string {
		var got []string
		for _, first := range []string{"HEALTH", "healthy", "missing", "unreadable"} {
			for line := range strings.SplitSeq(out, "\n") {
				if f := strings.Fields(line); len(f) > 0 && f[0] == first {
					got = append(got, strings.Join(f, " "))
				}
			}
		}
		return strings.Join(got, "; ")
	}
	if got, want := rows(out), "HEALTH STRIPES; healthy 90; missing 1 6; missing 2 3; unreadable 1"; got != want {
		t.Errorf("stripes by health %q, want %q", got, want)
	}
	for _, want := range []string{
		"Waiting for repair:     12 MiB in 12 shards (9 MiB left)\n",
		"Waiting for rebalance:  4 MiB in 4 shards (2 MiB left)\n",
		"Waiting for a node:     2 shards",
		"Heal rate:              2 MiB/s (limit 64 MiB/s)\n",
		"Time to healthy:        6s\n",
		"WARNING: 1 stripes are unreadable",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}

	// Healthy: every missing count down to m shows, at 0.
	c.Heal.Set(heal.Status{Passes: 9, LayoutVersion: 1, Tally: heal.Tally{Stripes: 5, Healthy: 5}, RateLimit: 1 << 20})
	out = x.ok("status")
	for _, want := range []string{"Time to healthy:        healthy\n", "Heal rate:              0 B/s (limit 1 MiB/s)\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if got, want := rows(out), "HEALTH STRIPES; healthy 5; missing 1 0; missing 2 0; unreadable 0"; got != want {
		t.Errorf("healthy cluster: stripes by health %q, want %q", got, want)
	}

	// --json carries the same figures.
	var st adminapi.Status
	if err := json.Unmarshal([]byte(x.ok("--json", "status")), &st); err != nil || st.Heal == nil || st.Heal.Tally.Healthy != 5 || !st.Heal.Healthy {
		t.Fatalf("status --json: %+v %v", st.Heal, err)
	}

	// No healer: the rest of status still shows.
	c.Heal.SetErr(errHealer)
	out = x.ok("status")
	if !strings.Contains(out, "Stripes: unknown: ") || !strings.Contains(out, "Layout version:  1") {
		t.Fatalf("status without a healer:\n%s", out)
	}
}

var errHealer = &adminapi.Error{Status: 503, Code: adminapi.CodeServiceUnavailable, Message: "no leader"}

func TestHealStatusCommand(t *testing.T) {
	c := sixNodes(t)
	s := midway()
	s.Tally.Draining, s.Tally.DrainingByNode, s.DrainRemaining = 4, map[string]int64{"n2": 4, "n5": 0}, map[string]int64{"n2": 1, "n5": 0}
	s.FailedShards = 1
	s.GarbageChunks, s.CollectedChunks, s.StraysDeleted = 7, 30, 2
	c.Heal.Set(s)
	x := newCLI(t, c)
	out := x.ok("heal", "status")
	for _, want := range []string{
		"Healer:     node meta1, healing what the pass found; heal pass 3 under layout version 1",
		"Stripes:    100: NOT HEALTHY: 90 healthy, 6 missing 1, 3 missing 2, 1 UNREADABLE\n",
		"Repair       25% [======>.......................]  3 MiB of 12 MiB rebuilt, 12 shards\n",
		"Rebalance    50% [==============>...............]  2 MiB of 4 MiB moved, 4 shards\n",
		"Drain        75% [=====================>........]  n2: 3 of 4 shards moved off this pass\n",
		"Drain       100% [==============================]  n5 holds no shard any stripe references: it can be stopped (then storectl node remove n5)\n",
		"Scrub       idle; not every node has finished a pass yet",
		"GC          7 garbage chunks to collect; 30 collected and 2 stray shards deleted since the healer started\n",
		"Waiting:    2 shards wait for a node",
		"Failed:     1 shards since the healer started",
		"Rate:       2 MiB/s (limit 64 MiB/s)\n",
		"ETA:        6s\n",
		"Audits      4 shards/s; since the healer started 1200 passed, 12 missing, 3 corrupt; 5 unreachable and 1 stale (not counted)\n",
		"Ejection    ejects a node whose recent checks hold at least 10 failures, more than 5% of them; 1 ejected since the healer started",
		"REFUSED:    node n4 is past the ejection rule, but stays\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	var hs adminapi.HealStatus
	if err := json.Unmarshal([]byte(x.ok("heal", "status", "--json")), &hs); err != nil || hs.Tally.DrainingByNode["n2"] != 4 || hs.RepairRemaining != 9<<20 {
		t.Fatalf("heal status --json: %+v %v", hs, err)
	}
	if hs.Audit.Missing != 12 || hs.Audit.EjectThreshold != 10 || hs.Audit.Refusal == "" {
		t.Fatalf("heal status --json audit: %+v", hs.Audit)
	}
	c.Heal.Set(heal.Status{})
	if out := x.ok("heal", "status"); !strings.Contains(out, "no pass over the chunk table yet") || !strings.Contains(out, "GC          0 garbage chunks") ||
		!strings.Contains(out, "Audits      off (storaged --audit-rate 0)") {
		t.Fatalf("before a pass:\n%s", out)
	}
	if out := x.ok("heal", "kick"); !strings.Contains(out, "A heal pass starts now") {
		t.Fatalf("heal kick: %q", out)
	}
	if kicks, _ := c.Heal.Kicks(); kicks != 1 {
		t.Fatalf("%d kicks, want 1", kicks)
	}
}

func TestHealWatch(t *testing.T) {
	c := sixNodes(t)
	c.Heal.Set(midway())
	calls := 0
	c.Heal.OnStatus(func(s *heal.Status) {
		calls++
		if calls == 3 { // the third look finds all done
			*s = heal.Status{Passes: 4, LayoutVersion: 1, Tally: heal.Tally{Stripes: 100, Healthy: 100}}
		}
	})
	out := newCLI(t, c).ok("heal", "status", "--watch")
	if n := strings.Count(out, "Healer:     node meta1"); n != 3 || calls != 3 {
		t.Fatalf("watch showed %d blocks for %d calls, want 3:\n%s", n, calls, out)
	}
	if !strings.HasSuffix(strings.TrimRight(out[:strings.LastIndex(out, "Updated")], "\n"), "ETA:        healthy") {
		t.Fatalf("the last block does not say healthy:\n%s", out)
	}

	// --json: one line per refresh, the last healthy.
	calls = 0
	c.Heal.Set(midway())
	out = newCLI(t, c).ok("--json", "heal", "status", "--watch")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last adminapi.HealStatus
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); len(lines) != 3 || err != nil || !last.Healthy {
		t.Fatalf("watch --json: %d lines, last %+v (%v)", len(lines), last, err)
	}
}
