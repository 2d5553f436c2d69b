package upkeep

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/blob"
	"cairn/internal/metrics"
)

// upkeepMetrics are the scrub's and compaction's Prometheus metrics
// (docs/metrics.md). The gauges read Status at scrape time.
type upkeepMetrics struct {
	passes       *prometheus.CounterVec // trigger: schedule, request
	shards       prometheus.Counter
	bytes        prometheus.Counter
	unverifiable prometheus.Counter
	faults       *prometheus.CounterVec // fault: corrupt, unreadable
	rewritten    prometheus.Counter

	compactions  *prometheus.CounterVec // result: ok, failed
	filesRemoved prometheus.Counter
	freed        prometheus.Counter
	written      prometheus.Counter
	compactBad   prometheus.Counter
}

// Label values.
const (
	triggerSchedule = "schedule"
	triggerRequest  = "request"
)

func newMetrics(reg prometheus.Registerer, u *Upkeep) (*upkeepMetrics, error) {
	scrub := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: metrics.Namespace, Subsystem: "scrub", Name: name, Help: help}
	}
	compact := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: metrics.Namespace, Subsystem: "compact", Name: name, Help: help}
	}
	m := &upkeepMetrics{
		passes: prometheus.NewCounterVec(prometheus.CounterOpts(scrub("passes_total",
			"Scrub passes completed (every shard held checked), by trigger: schedule (--scrub-interval) or request (storectl scrub start).")), []string{"trigger"}),
		shards: prometheus.NewCounter(prometheus.CounterOpts(scrub("shards_total",
			"Shards the scrub read and checked."))),
		bytes: prometheus.NewCounter(prometheus.CounterOpts(scrub("bytes_total",
			"Bytes of shard content the scrub read and checked."))),
		unverifiable: prometheus.NewCounter(prometheus.CounterOpts(scrub("unverifiable_total",
			"Shards the scrub could read but not check: the store keeps nothing to check them against (a format 1 store's shard names)."))),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts(scrub("faults_total",
			"Shards the scrub found wrong, by fault: corrupt (quarantined; healing rebuilds them) or unreadable (an I/O error; kept).")), []string{"fault"}),
		rewritten: prometheus.NewCounter(prometheus.CounterOpts(scrub("rewritten_total",
			"Shards whose record was damaged but whose content was right: the store wrote them again."))),
		compactions: prometheus.NewCounterVec(prometheus.CounterOpts(compact("runs_total",
			"Compactions of the store, by result: ok or failed.")), []string{"result"}),
		filesRemoved: prometheus.NewCounter(prometheus.CounterOpts(compact("files_removed_total",
			"Files compaction removed: segments of a log store, empty directories of a directory store."))),
		freed: prometheus.NewCounter(prometheus.CounterOpts(compact("freed_bytes_total",
			"Bytes of the files compaction removed. Less cairn_compact_written_bytes_total, what it gave back to the file system."))),
		written: prometheus.NewCounter(prometheus.CounterOpts(compact("written_bytes_total",
			"Bytes compaction wrote to keep the shards (and tombstones) the removed files still held."))),
		compactBad: prometheus.NewCounter(prometheus.CounterOpts(compact("corrupt_total",
			"Shards found corrupt as compaction copied them: quarantined, as the scrub does."))),
	}
	for _, t := range []string{triggerSchedule, triggerRequest} {
		m.passes.WithLabelValues(t)
	}
	for _, f := range []blob.Fault{blob.FaultCorrupt, blob.FaultUnreadable} {
		m.faults.WithLabelValues(f.String())
	}
	for _, r := range []string{"ok", "failed"} {
		m.compactions.WithLabelValues(r)
	}
	gauge := func(name, help string, f func(s *Status) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(scrub(name, help)), func() float64 {
			s := u.Status()
			return f(&s)
		})
	}
	err := metrics.Register(reg, m.passes, m.shards, m.bytes, m.unverifiable, m.faults, m.rewritten,
		m.compactions, m.filesRemoved, m.freed, m.written, m.compactBad,
		gauge("running", "1 while a scrub pass runs, else 0.", func(s *Status) float64 {
			if s.Current != nil {
				return 1
			}
			return 0
		}),
		gauge("progress_ratio", "The running pass's bytes checked over the bytes held when it began (0 between passes).", func(s *Status) float64 {
			if s.Current == nil {
				return 0
			}
			return s.Current.Progress()
		}),
		gauge("rate_bytes_per_second", "The bound on the running pass's reads (0 between passes).", func(s *Status) float64 {
			if s.Current == nil {
				return 0
			}
			return float64(s.Current.Rate)
		}),
		gauge("last_pass_end_timestamp_seconds", "When the latest complete pass ended, in Unix seconds (0 before the first).", func(s *Status) float64 {
			if s.Last == nil {
				return 0
			}
			return float64(s.Last.Ended.UnixNano()) / 1e9
		}),
		gauge("last_pass_duration_seconds", "How long the latest complete pass took (0 before the first).", func(s *Status) float64 {
			if s.Last == nil {
				return 0
			}
			return s.Last.Ended.Sub(s.Last.Started).Seconds()
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("upkeep: %w", err)
	}
	return m, nil
}
