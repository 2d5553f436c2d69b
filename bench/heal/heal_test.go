package heal

import (
	"strings"
	"testing"
	"time"
)

// scrapeText is the healing part of a meta node's /metrics as storaged
// writes it: a pass found 32 stripes missing shards (30 one, 2 two).
const scrapeText = `# HELP cairn_heal_bytes_total Bytes of shards rebuilt (repair) or moved (rebalance) and recorded.
# TYPE cairn_heal_bytes_total counter
cairn_heal_bytes_total{kind="rebalance"} 1024
cairn_heal_bytes_total{kind="repair"} 9.437184e+06
# HELP cairn_heal_draining_shards Shards still on draining nodes at the latest pass.
# TYPE cairn_heal_draining_shards gauge
cairn_heal_draining_shards 0
# HELP cairn_heal_passes_total Passes over the chunk table.
# TYPE cairn_heal_passes_total counter
cairn_heal_passes_total 7
# HELP cairn_heal_rate_bytes_per_second Bytes per second written by repair and rebalance over the last 10 s.
# TYPE cairn_heal_rate_bytes_per_second gauge
cairn_heal_rate_bytes_per_second 943718.4
# HELP cairn_heal_rate_limit_bytes_per_second The configured bound on repair and rebalance writes (--repair-rate); 0: none.
# TYPE cairn_heal_rate_limit_bytes_per_second gauge
cairn_heal_rate_limit_bytes_per_second 6.7108864e+07
# HELP cairn_heal_rebalance_waiting_bytes Bytes to move (rebalance, drain) found by the latest pass.
# TYPE cairn_heal_rebalance_waiting_bytes gauge
cairn_heal_rebalance_waiting_bytes 0
# HELP cairn_heal_shards_total Shards rebuilt (kind repair) or moved (kind rebalance), by result.
# TYPE cairn_heal_shards_total counter
cairn_heal_shards_total{kind="rebalance",result="failed"} 1
cairn_heal_shards_total{kind="rebalance",result="ok"} 0
cairn_heal_shards_total{kind="repair",result="failed"} 2
cairn_heal_shards_total{kind="repair",result="ok"} 36
# HELP cairn_heal_stripes Live stripes by health at the latest pass: healthy, missing_1 ... missing_m (shards unavailable), unreadable (fewer than k).
# TYPE cairn_heal_stripes gauge
cairn_heal_stripes{health="healthy"} 200
cairn_heal_stripes{health="missing_1"} 30
cairn_heal_stripes{health="missing_2"} 2
cairn_heal_stripes{health="unreadable"} 0
# HELP cairn_heal_waiting_bytes Bytes to rebuild (repair) found by the latest pass.
# TYPE cairn_heal_waiting_bytes gauge
cairn_heal_waiting_bytes 8.650752e+06
# HELP cairn_heal_waiting_shards Shards whose repair cannot start yet (node down within its grace, or too few shards left).
# TYPE cairn_heal_waiting_shards gauge
cairn_heal_waiting_shards 0
# HELP cairn_node_info Always 1.
# TYPE cairn_node_info gauge
cairn_node_info{node="abc",roles="gateway,meta,storage",zone="zone-a"} 1
`

func TestParseHeal(t *testing.T) {
	h, err := parseHeal(strings.NewReader(scrapeText))
	if err != nil {
		t.Fatal(err)
	}
	want := healState{
		Passes: 7, Healthy: 200, Missing: 32, WaitingBytes: 8650752,
		RepairedBytes: 9437184, MovedBytes: 1024, FailedShards: 3, RateLimit: 64 << 20,
	}
	if h != want {
		t.Fatalf("parsed\n%+v\nwant\n%+v", h, want)
	}
	if h.idle() {
		t.Fatal("32 stripes missing shards, and idle")
	}
	h.Missing, h.WaitingBytes = 0, 0
	if !h.idle() {
		t.Fatalf("idle: %s", h)
	}
	for _, v := range []func(*healState){
		func(h *healState) { h.Passes = 0 },
		func(h *healState) { h.Unreadable = 1 },
		func(h *healState) { h.RebalanceBytes = 1 },
		func(h *healState) { h.WaitingShards = 1 },
		func(h *healState) { h.DrainingShards = 1 },
	} {
		x := h
		v(&x)
		if x.idle() {
			t.Errorf("idle: %s", x)
		}
	}

	// A node without the healer (not a meta node) has none of them.
	if _, err := parseHeal(strings.NewReader("# TYPE cairn_node_info gauge\ncairn_node_info{node=\"x\"} 1\n")); err == nil ||
		!strings.Contains(err.Error(), "cairn_heal_passes_total") {
		t.Fatalf("a scrape without healing metrics: %v", err)
	}
	if _, err := parseHeal(strings.NewReader("cairn_heal_passes_total{{ 1\n")); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestRepairWatch(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const mib = 1 << 20
	// Before the removal: the node is down, its shards wait; nothing to
	// rebuild yet.
	before := healState{Passes: 10, Healthy: 100, WaitingShards: 40, RepairedBytes: 5 * mib}
	w := &repairWatch{t0: t0, before: before}
	steps := []struct {
		ms                          int
		h                           healState
		started, planDone, finished bool
	}{
		// The pass before the removal's, still idle-looking: no plan.
		{100, healState{Passes: 10, Healthy: 100, WaitingShards: 40, RepairedBytes: 5 * mib}, false, false, false},
		// The removal's pass has scanned: 10 MiB to rebuild.
		{1500, healState{Passes: 11, Healthy: 60, Missing: 40, WaitingBytes: 10 * mib, RepairedBytes: 5 * mib}, false, false, false},
		{1600, healState{Passes: 11, Healthy: 60, Missing: 40, WaitingBytes: 10 * mib, RepairedBytes: 6 * mib}, true, false, false},
		{2600, healState{Passes: 11, Healthy: 60, Missing: 40, WaitingBytes: 10 * mib, RepairedBytes: 11 * mib}, true, false, false},
		{3600, healState{Passes: 11, Healthy: 60, Missing: 40, WaitingBytes: 10 * mib, RepairedBytes: 15 * mib}, true, true, false},
		// Stale tally: the pass that repaired still says 40 missing.
		{5000, healState{Passes: 11, Healthy: 60, Missing: 40, WaitingBytes: 10 * mib, RepairedBytes: 15 * mib}, true, true, false},
		// The next pass finds every stripe whole.
		{9000, healState{Passes: 12, Healthy: 100, RepairedBytes: 15 * mib}, true, true, true},
		{9100, healState{Passes: 13, Healthy: 100, RepairedBytes: 15 * mib}, true, true, true},
	}
	for _, s := range steps {
		w.observe(at(s.ms), s.h)
		if w.started() != s.started || w.planDone() != s.planDone || w.done() != s.finished {
			t.Fatalf("at %d ms: started %v planDone %v done %v, want %v %v %v",
				s.ms, w.started(), w.planDone(), w.done(), s.started, s.planDone, s.finished)
		}
	}
	if w.planned != 10*mib || w.rebuilt != 10*mib {
		t.Errorf("planned %v rebuilt %v, want 10 MiB each", w.planned, w.rebuilt)
	}
	if w.since(w.first) != 1.6 || w.since(w.last) != 3.6 || w.since(w.healthy) != 9 {
		t.Errorf("first %v last %v healthy %v s, want 1.6, 3.6, 9", w.since(w.first), w.since(w.last), w.since(w.healthy))
	}

	// An idle tally from a pass before any byte was rebuilt is not the end.
	w = &repairWatch{t0: t0, before: before}
	w.observe(at(100), healState{Passes: 11, Healthy: 100, RepairedBytes: 5 * mib})
	if w.done() || w.started() {
		t.Fatalf("done %v started %v with nothing rebuilt", w.done(), w.started())
	}
}

func testReport() *Report {
	return &Report{
		Date:    time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Command: "./bin/healbench --data 256MiB --load 5s",
		Machine: Machine{CPUs: 2, CPUModel: "AMD EPYC", MemTotal: 24 << 30, GoVersion: "go1.26.8", OSArch: "linux/amd64",
			LoadAvgStart: "1.00 2.00 3.00", LoadAvgEnd: "4.00 5.00 6.00"},
		Limits:   Limits{Reconstruct: 5000, DiskWrite: 400, Loopback: 2000, SHA256: 1400},
		Storaged: "abc1234", Objects: 64, ObjectSize: 4 << 20, Data: 256 << 20,
		Concurrency: 4, Load: 5, HealInterval: 5,
		Rounds: []Round{{
			Rate: RateDefault, RateLimit: 64, Leader: "n1 (zone-a)", Victim: "n6 (zone-c)", Gateway: "n1",
			WriteSeconds: 2, WriteMiBps: 128, IdleSeconds: 10,
			Planned: 64 << 20, Rebuilt: 64 << 20, FirstByte: 1.5, LastByte: 3.5, Healthy: 8,
			RepairMiBps: 64 / 3.5, ActiveMiBps: 32, OfMinLimit: 64 / 3.5 / 400,
			GetHealthy:   GetPhase{Seconds: 5, Count: 500, MiBps: 400, P50: 8, P99: 20},
			GetDown:      GetPhase{Seconds: 5, Count: 400, MiBps: 320, P50: 10, P99: 30},
			GetRepairing: GetPhase{Seconds: 2, Count: 100, Errors: 1, MiBps: 200, P50: 15, P99: 50, FirstError: "GET data/000001: boom\n"},
		}, {
			Rate: RateUnlimited, RateLimit: 1 << 30, Rebuilt: 64 << 20, LastByte: 2,
			GetRepairing: GetPhase{},
		}},
	}
}

func TestReportWrite(t *testing.T) {
	r := testReport()
	var md strings.Builder
	r.Write(&md, true)
	got := md.String()
	for _, want := range []string{
		"`./bin/healbench --data 256MiB --load 5s`",
		"load average 1.00 2.00 3.00 at the start, 4.00 5.00 6.00 at the end",
		"RS reconstruct 5000 MiB/s", "disk write 400 MiB/s", "loopback TCP 2000 MiB/s", "SHA-256 1400 MiB/s",
		"storaged at abc1234", "64 objects of 4MiB (256MiB)", "--heal-interval 5s", "concurrency 4, up to 5s a phase",
		"|---|---:|",
		"| default (64 MiB/s) | 64MiB | 1.5 s | 3.5 s | 8.0 s | 18.3 | 32.0 | 4.6% of disk write 400 |",
		"| default (64 MiB/s) | 8.00 | 20.0 | 10.0 | 30.0 | 15.0 | 50.0 | 2.50× | 500/400/100 |",
		// A phase with no GETs has no latency.
		"| unlimited | - | - | - | - | - | - | - | 0/0/0 |",
		"repairing GETs: 1 errors, first: GET data/000001: boom",
		"leader n1 (zone-a), GETs through n1, killed n6 (zone-c)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown report lacks %q:\n%s", want, got)
		}
	}
	var txt strings.Builder
	r.Write(&txt, false)
	if strings.Contains(txt.String(), "|") || !strings.Contains(txt.String(), "default (64 MiB/s)  64MiB    1.5 s") {
		t.Errorf("text report:\n%s", txt.String())
	}
}

func TestLimitsMin(t *testing.T) {
	for _, c := range []struct {
		l    Limits
		v    float64
		name string
	}{
		{Limits{Reconstruct: 100, DiskWrite: 200, Loopback: 300, SHA256: 1}, 100, "RS reconstruct"},
		{Limits{Reconstruct: 300, DiskWrite: 200, Loopback: 300}, 200, "disk write"},
		{Limits{Reconstruct: 300, DiskWrite: 200, Loopback: 100}, 100, "loopback"},
	} {
		if v, name := c.l.Min(); v != c.v || name != c.name {
			t.Errorf("%+v: Min %v %q, want %v %q", c.l, v, name, c.v, c.name)
		}
	}
}

func TestConfig(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.objects() != 512 {
		t.Fatalf("default data set: %d objects, want 512", d.objects())
	}
	c := d
	c.Data = 10<<20 + 1
	if c.objects() != 3 {
		t.Fatalf("10 MiB + 1 B in 4 MiB objects: %d, want 3", c.objects())
	}
	for name, mut := range map[string]func(*Config){
		"inline objects": func(c *Config) { c.ObjectSize = 64 << 10 },
		"no data":        func(c *Config) { c.Data = 0 },
		"no load":        func(c *Config) { c.Load = 0 },
		"concurrency":    func(c *Config) { c.Concurrency = 0 },
		"no rates":       func(c *Config) { c.Rates = nil },
		"bad rate":       func(c *Config) { c.Rates = []string{"fast"} },
		"zero rate":      func(c *Config) { c.Rates = []string{"0"} },
		"huge rate":      func(c *Config) { c.Rates = []string{"2PiB"} },
	} {
		c := d
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
	for rate, flag := range map[string]string{RateDefault: "", RateUnlimited: "1PiB", "128MiB": "128MiB", "1000000": "1000000"} {
		if got, err := rateFlag(rate); err != nil || got != flag {
			t.Errorf("rateFlag(%q) = %q, %v; want %q", rate, got, err, flag)
		}
	}
}
