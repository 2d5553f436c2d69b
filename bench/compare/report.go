package compare

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"cairn/bench/load"
)

// Report is everything a comparison measured; its JSON form is what
// `compare --json` prints.
type Report struct {
	Date time.Time `json:"date"`
	// Mode is ModeDev (storaged --dev against one MinIO process) or
	// ModeCluster (six processes each).
	Mode string `json:"mode"`
	// Secure is Config.Secure; Security says what each side then runs.
	Secure   bool    `json:"secure"`
	Security string  `json:"security,omitempty"`
	Machine  Machine `json:"machine"`
	Cairn    Binary  `json:"cairn"` // Version is the git commit
	MinIO    Binary  `json:"minio"`
	// CairnSetup and MinIOSetup say how each ran, in a sentence.
	CairnSetup  string  `json:"cairn_setup"`
	MinIOSetup  string  `json:"minio_setup"`
	Duration    float64 `json:"run_seconds"` // each run's timed phase
	Rounds      int     `json:"rounds"`
	Selection   string  `json:"selection"` // which round is reported
	Concurrency int     `json:"concurrency"`

	Workloads []WorkloadResult `json:"workloads"`
	Memory    []MemoryResult   `json:"memory,omitempty"`
}

// WorkloadResult is one workload against both servers.
type WorkloadResult struct {
	Workload
	Cairn Side `json:"cairn"`
	MinIO Side `json:"minio"`
	// Ratio is Cairn's best operations per second over MinIO's (for a
	// fixed object size, the same as the ratio of MiB/s).
	Ratio float64 `json:"ratio"`
}

// Side is one server's runs of a workload.
type Side struct {
	Best RunSummary   `json:"best"`
	Runs []RunSummary `json:"runs"`
}

// RunSummary is one run of a workload against one server.
type RunSummary struct {
	Round     int     `json:"round"`
	Seconds   float64 `json:"seconds"`
	MiBPerSec float64 `json:"mib_per_s"`
	OpsPerSec float64 `json:"ops_per_s"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	P999      float64 `json:"p99_9_ms"`
	Errors    int64   `json:"errors"`
	// Retried counts responses with status 429 or 5xx (503 SlowDown from
	// a server shedding load), which the client retried.
	Retried int64 `json:"retried_responses"`
	// FirstError is the first failed operation's message.
	FirstError string `json:"first_error,omitempty"`
	// CPU is the server's CPU time during the timed phase over its wall
	// time: how many cores it kept busy.
	CPU float64 `json:"server_cpu_cores"`
}

// table is rows of cells, the first the header.
type table [][]string

// write renders t aligned with spaces, or as a Markdown table whose
// first column, and the columns of index left, are aligned left and the
// others (figures) right.
func (t table) write(w io.Writer, markdown bool, left ...int) {
	if markdown {
		fmt.Fprintln(w) // a table cannot start inside a paragraph
		for i, row := range t {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
			if i == 0 {
				seps := make([]string, len(row))
				for j := range seps {
					seps[j] = "---:"
					if j == 0 || slices.Contains(left, j) {
						seps[j] = "---"
					}
				}
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

// Write prints the report as aligned tables, or as Markdown for
// bench/RESULTS.md.
func (r *Report) Write(w io.Writer, markdown bool) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	m := r.Machine
	p("Machine: %d CPUs (%s), %s RAM, %s, %s; load average %s at the start, %s at the end.",
		m.CPUs, m.CPUModel, load.FormatSize(m.MemTotal), m.GoVersion, m.OSArch, m.LoadAvgStart, m.LoadAvgEnd)
	p("Raw limits (kernels), measured in this run:")
	m.kernelTable().write(w, markdown, 2)
	p("")
	mode := orDash(r.Mode)
	if r.Secure {
		mode += ", secure variant: " + r.Security
	}
	p("Mode %s. Cairn: %s. MinIO: %s.", mode, orDash(r.CairnSetup), orDash(r.MinIOSetup))
	p("Each run %.0fs, %s, alternating which server goes first; concurrency %d; latencies in ms; "+
		"cpu = server CPU cores busy.", r.Duration, r.Selection, r.Concurrency)
	if !markdown {
		p("")
	}
	t := table{{"workload", "Cairn MiB/s", "ops/s", "p50", "p99", "cpu", "MinIO MiB/s", "ops/s", "p50", "p99", "cpu", "Cairn/MinIO"}}
	for _, wl := range r.Workloads {
		c, n := wl.Cairn.Best, wl.MinIO.Best
		t = append(t, []string{wl.Name,
			mibs(c.MiBPerSec, wl.Kind), ops(c.OpsPerSec), load.Millis(c.P50), load.Millis(c.P99), fmt.Sprintf("%.2f", c.CPU),
			mibs(n.MiBPerSec, wl.Kind), ops(n.OpsPerSec), load.Millis(n.P50), load.Millis(n.P99), fmt.Sprintf("%.2f", n.CPU),
			fmt.Sprintf("%.2f×", wl.Ratio)})
	}
	t.write(w, markdown)
	if notes := errorNotes(r.Workloads); len(notes) > 0 {
		p("")
		p("Failed and retried operations:")
		for _, n := range notes {
			p("- %s", n)
		}
	}
	if len(r.Memory) > 0 {
		p("")
		sum := ""
		if r.Memory[0].Processes > 1 {
			sum = " (each server's processes summed; a sum of VmHWM, each process's own peak, may exceed what was resident at once)"
		}
		p("Resident memory under %s%s:", r.Memory[0].Load, sum)
		mt := table{{"server", "peak VmRSS (sampled)", "VmHWM", fmt.Sprintf("VmRSS after %.0fs idle", r.Memory[0].Idle), "load MiB/s", "errors", "retried"}}
		for _, mr := range r.Memory {
			mt = append(mt, []string{mr.Server, inMiB(mr.PeakRSS), inMiB(mr.HWM), inMiB(mr.IdleRSS), fmt.Sprintf("%.0f", mr.MiBPerSec), fmt.Sprint(mr.Errors), fmt.Sprint(mr.Retried)})
		}
		mt.write(w, markdown)
		for _, mr := range r.Memory {
			for _, e := range mr.FirstErrors {
				p("- %s memory load error: %s", mr.Server, strings.TrimSpace(e))
			}
		}
	}
}

// mibs formats a throughput; a listing moves no object bytes.
func mibs(v float64, kind string) string {
	if kind == load.WorkloadList {
		return "-"
	}
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func ops(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// inMiB prints n bytes in whole MiB.
func inMiB(n int64) string { return fmt.Sprintf("%d MiB", (n+1<<19)>>20) }
