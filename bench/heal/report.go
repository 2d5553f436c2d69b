package heal

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"cairn/bench/load"
)

// Report is everything Run measured; its JSON form is what `healbench
// --json` prints. Sizes are bytes, rates MiB/s (2^20 bytes), times seconds
// and latencies milliseconds.
type Report struct {
	Date    time.Time `json:"date"`
	Command string    `json:"command"`
	Machine Machine   `json:"machine"`
	Limits  Limits    `json:"limits"`
	// Storaged is the git commit storaged was built at.
	Storaged string `json:"storaged"`

	Objects     int     `json:"objects"`
	ObjectSize  int64   `json:"object_size"`
	Data        int64   `json:"data_bytes"`
	Concurrency int     `json:"get_concurrency"`
	Load        float64 `json:"get_phase_seconds"` // each GET phase, at most
	// HealInterval is the meta nodes' --heal-interval.
	HealInterval float64 `json:"heal_interval_seconds"`

	Rounds []Round `json:"rounds"`
}

// Machine is what the benchmark ran on.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  int64  `json:"mem_total_bytes"`
	GoVersion string `json:"go_version"`
	OSArch    string `json:"os_arch"`
	// LoadAvgStart and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute
	// averages at the start and the end: other work skews every figure.
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

// Limits are the raw limits of what repair does, measured in the same run
// on the same machine (package bench/machine).
type Limits struct {
	// Reconstruct is Reed-Solomon reconstruction of a 4+2 stripe of a
	// 1 MiB chunk with one shard lost, by cairn/erasure as repair calls
	// it, in rebuilt (shard) bytes per second.
	Reconstruct float64 `json:"rs_reconstruct_4p2_mib_per_s"`
	// DiskWrite is 256 MiB written in 4 MiB writes, each followed by
	// fdatasync, to the cluster's file system.
	DiskWrite float64 `json:"disk_write_fdatasync_mib_per_s"`
	// Loopback is one TCP connection over 127.0.0.1, both ends in one
	// process.
	Loopback float64 `json:"loopback_tcp_mib_per_s"`
	// SHA256 is SHA-256 on one core: repair checks every stripe it
	// rebuilds against its chunk's CID, hashing K shards' bytes for each
	// shard it rebuilds when one is missing. Not among the three of Min.
	SHA256 float64 `json:"sha256_one_core_mib_per_s"`
}

// Min returns the smallest of the reconstruction, disk and loopback
// limits, and its name.
func (l Limits) Min() (float64, string) {
	v, name := l.Reconstruct, "RS reconstruct"
	if l.DiskWrite < v {
		v, name = l.DiskWrite, "disk write"
	}
	if l.Loopback < v {
		v, name = l.Loopback, "loopback"
	}
	return v, name
}

// Round is one repair rate, on a cluster of its own.
type Round struct {
	// Rate is as given (default, unlimited, 128MiB); RateLimit what the
	// leader reported (cairn_heal_rate_limit_bytes_per_second), MiB/s.
	Rate      string  `json:"rate"`
	RateLimit float64 `json:"rate_limit_mib_per_s"`
	// Leader is the metadata leader, where healing ran; Victim the
	// storage-only node killed and removed. "n6 (zone-c)".
	Leader string `json:"leader"`
	Victim string `json:"victim"`
	// Gateway is the node the GETs went through.
	Gateway string `json:"gateway"`

	// Write is the data set's upload: seconds and MiB/s.
	WriteSeconds float64 `json:"write_seconds"`
	WriteMiBps   float64 `json:"write_mib_per_s"`
	// IdleSeconds is the wait for healing to be idle after the writes.
	IdleSeconds float64 `json:"idle_wait_seconds"`

	// Planned is the bytes to rebuild the removal's pass found; Rebuilt
	// what repair recorded (cairn_heal_bytes_total{kind="repair"}) from
	// the removal to the end.
	Planned int64 `json:"planned_bytes"`
	Rebuilt int64 `json:"rebuilt_bytes"`
	// FirstByte and LastByte are the times from the removal to the first
	// and the last scrape (every 100 ms) that saw rebuilt bytes grow;
	// Healthy, to the scrape that saw a later pass find every stripe
	// whole (which waits for HealInterval).
	FirstByte float64 `json:"first_byte_seconds"`
	LastByte  float64 `json:"last_byte_seconds"`
	Healthy   float64 `json:"healthy_seconds"`
	// RepairMiBps is Rebuilt over LastByte: from the removal to the last
	// rebuilt byte. ActiveMiBps is Rebuilt over LastByte-FirstByte, while
	// shards were being rebuilt.
	RepairMiBps float64 `json:"repair_mib_per_s"`
	ActiveMiBps float64 `json:"active_mib_per_s"`
	// OfMinLimit is RepairMiBps over Limits.Min.
	OfMinLimit float64 `json:"of_min_limit"`
	// FailedShards is the shards repair failed to rebuild and retried.
	FailedShards int64 `json:"failed_shards"`
	// DownRebuilt is the bytes rebuilt while the node was down but still
	// in the layout, during the down phase's GETs: 0, as its shards wait
	// for it within its grace period.
	DownRebuilt int64 `json:"down_rebuilt_bytes"`

	// The GET phases: the cluster healthy, the node down (reads decode
	// around it, nothing repairs), and repair running (from its first
	// rebuilt byte until it rebuilt what it planned, or Load).
	GetHealthy   GetPhase `json:"get_healthy"`
	GetDown      GetPhase `json:"get_node_down"`
	GetRepairing GetPhase `json:"get_repairing"`
}

// GetPhase is one GET phase, from s3load's result.
type GetPhase struct {
	Seconds    float64 `json:"seconds"`
	Count      int64   `json:"count"`
	Errors     int64   `json:"errors"`
	MiBps      float64 `json:"mib_per_s"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	P999       float64 `json:"p99_9_ms"`
	Max        float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

func getPhase(r *load.Result) GetPhase {
	t := r.Total
	g := GetPhase{Seconds: r.Seconds, Count: t.Count, Errors: t.Errors, MiBps: t.MiBPerSec,
		P50: t.Latency.P50, P99: t.Latency.P99, P999: t.Latency.P999, Max: t.Latency.Max}
	if len(r.FirstErrors) > 0 {
		g.FirstError = r.FirstErrors[0]
	}
	return g
}

// table is rows of cells, the first the header.
type table [][]string

// write renders t aligned with spaces, or as a Markdown table.
func (t table) write(w io.Writer, markdown bool) {
	if markdown {
		fmt.Fprintln(w)
		for i, row := range t {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
			if i == 0 {
				seps := make([]string, len(row))
				for j := range seps {
					seps[j] = "---:"
				}
				seps[0] = "---"
				fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
			}
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range t {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// Write prints the report: what ran where, the limits, a table of the
// repair and one of the GET latencies; as Markdown for bench/RESULTS.md.
func (r *Report) Write(w io.Writer, markdown bool) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	m, l := r.Machine, r.Limits
	if r.Command != "" {
		if markdown {
			p("`%s`", r.Command)
		} else {
			p("%s", r.Command)
		}
		p("")
	}
	p("Machine: %d CPUs (%s), %s RAM, %s, %s; load average %s at the start, %s at the end.",
		m.CPUs, m.CPUModel, load.FormatSize(m.MemTotal), m.GoVersion, m.OSArch, m.LoadAvgStart, m.LoadAvgEnd)
	p("Raw limits, this run: RS reconstruct %s MiB/s (4+2, 1 MiB chunks, one shard lost, rebuilt bytes); "+
		"disk write %s MiB/s (256 MiB in 4 MiB writes, fdatasync after each); loopback TCP %s MiB/s (one connection); "+
		"besides, SHA-256 %s MiB/s on one core (repair checks each rebuilt chunk).",
		num(l.Reconstruct), num(l.DiskWrite), num(l.Loopback), num(l.SHA256))
	p("Cluster: 6 storaged at %s, 3 zones of 2 nodes, one of each --meta --s3; 4+2; --heal-interval %s. "+
		"Data: %d objects of %s (%s). A storage-only node is SIGKILLed, then removed (storectl node remove).",
		orDash(r.Storaged), time.Duration(r.HealInterval*float64(time.Second)), r.Objects, load.FormatSize(r.ObjectSize), load.FormatSize(r.Data))
	p("GETs: s3load get of the data set through one gateway, concurrency %d, up to %s a phase; latencies in ms.",
		r.Concurrency, time.Duration(r.Load*float64(time.Second)))
	if !markdown {
		p("")
	}
	lim, limName := l.Min()
	t := table{{"repair rate", "rebuilt", "first byte", "last byte", "healthy", "repair MiB/s", "while rebuilding", "of min limit"}}
	for _, rd := range r.Rounds {
		t = append(t, []string{rateLabel(rd),
			load.FormatSize(rd.Rebuilt),
			secs(rd.FirstByte), secs(rd.LastByte), secs(rd.Healthy),
			num(rd.RepairMiBps), num(rd.ActiveMiBps),
			fmt.Sprintf("%s of %s %s", pct(rd.OfMinLimit), limName, num(lim))})
	}
	t.write(w, markdown)
	if !markdown {
		p("")
	}
	g := table{{"repair rate", "healthy p50", "p99", "node down p50", "p99", "repairing p50", "p99", "p99 repairing/healthy", "GETs healthy/down/repairing"}}
	for _, rd := range r.Rounds {
		h, d, rp := rd.GetHealthy, rd.GetDown, rd.GetRepairing
		g = append(g, []string{rateLabel(rd),
			ms(h), ms99(h), ms(d), ms99(d), ms(rp), ms99(rp),
			ratio(rp.P99, h.P99),
			fmt.Sprintf("%d/%d/%d", h.Count, d.Count, rp.Count)})
	}
	g.write(w, markdown)
	p("")
	for _, rd := range r.Rounds {
		p("- %s: leader %s, GETs through %s, killed %s; data written at %s MiB/s, healing idle %s after; "+
			"planned %s, rebuilt %s, %d shards failed and retried; rebuilt while the node was down in the layout: %s; "+
			"repairing phase %s, %s MiB/s of GETs.",
			rateLabel(rd), rd.Leader, rd.Gateway, rd.Victim, num(rd.WriteMiBps), secs(rd.IdleSeconds),
			load.FormatSize(rd.Planned), load.FormatSize(rd.Rebuilt), rd.FailedShards, load.FormatSize(rd.DownRebuilt),
			secs(rd.GetRepairing.Seconds), num(rd.GetRepairing.MiBps))
		for _, ph := range []struct {
			name string
			g    GetPhase
		}{{"healthy", rd.GetHealthy}, {"node down", rd.GetDown}, {"repairing", rd.GetRepairing}} {
			if ph.g.Errors > 0 {
				p("  - %s GETs: %d errors, first: %s", ph.name, ph.g.Errors, strings.TrimSpace(ph.g.FirstError))
			}
		}
	}
}

// rateLabel names a round's rate with what the leader reported.
func rateLabel(r Round) string {
	switch {
	case r.Rate == RateUnlimited:
		return RateUnlimited
	case r.RateLimit > 0:
		return fmt.Sprintf("%s (%.0f MiB/s)", r.Rate, r.RateLimit)
	}
	return r.Rate
}

// num formats a rate: no decimals from 100, one from 10, else two.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func secs(v float64) string { return fmt.Sprintf("%.1f s", v) }

func pct(v float64) string {
	if v < 0.1 {
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// ms and ms99 print a phase's p50 and p99, "-" for a phase with no GETs.
func ms(g GetPhase) string {
	if g.Count == 0 {
		return "-"
	}
	return load.Millis(g.P50)
}

func ms99(g GetPhase) string {
	if g.Count == 0 {
		return "-"
	}
	return load.Millis(g.P99)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
