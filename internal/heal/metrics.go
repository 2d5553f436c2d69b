package heal

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/metrics"
)

// healMetrics are the healer's Prometheus metrics (docs/metrics.md). The
// gauges read the latest pass's tally at scrape time, so they agree with
// Status, and storectl status, by construction.
type healMetrics struct {
	passes prometheus.Counter
	shards *prometheus.CounterVec // kind (repair, rebalance), result (ok, failed)
	bytes  *prometheus.CounterVec // kind
	sealed *prometheus.CounterVec // result (ok, failed)

	audits     *prometheus.CounterVec // result
	nodeAudits *prometheus.CounterVec // node, result
	ejections  *prometheus.CounterVec // result (ejected, refused)
}

func newHealMetrics(reg prometheus.Registerer, h *Healer) (*healMetrics, error) {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: metrics.Namespace, Subsystem: "heal", Name: name, Help: help}
	}
	m := &healMetrics{
		passes: prometheus.NewCounter(prometheus.CounterOpts(opts("passes_total",
			"Passes over the chunk table."))),
		shards: prometheus.NewCounterVec(prometheus.CounterOpts(opts("shards_total",
			"Shards rebuilt (kind repair) or moved (kind rebalance), by result.")), []string{"kind", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts(opts("bytes_total",
			"Bytes of shards rebuilt (repair) or moved (rebalance) and recorded.")), []string{"kind"}),
		sealed: prometheus.NewCounterVec(prometheus.CounterOpts(opts("sealed_stripes_total",
			"Unsealed stripes the seal migration sealed (result ok: the record swapped) or could not this pass (failed).")), []string{"result"}),
	}
	for _, r := range []string{"ok", "failed"} {
		m.sealed.WithLabelValues(r)
	}
	aopts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "audit", Name: name, Help: help}
	}
	m.audits = prometheus.NewCounterVec(aopts("total",
		"Shards audited, by result: passed, missing, corrupt (both counted against the node), unreachable (not counted), stale (the record changed meanwhile; not counted)."), []string{"result"})
	m.nodeAudits = prometheus.NewCounterVec(aopts("node_total",
		"Shards audited per storage node, by result: passed, missing, corrupt, unreachable."), []string{"node", "result"})
	m.ejections = prometheus.NewCounterVec(aopts("ejections_total",
		"Nodes the ejection rule called for, by result: ejected (taken out of the layout), refused (kept: see the leader's log)."), []string{"result"})
	for _, r := range auditResultNames {
		m.audits.WithLabelValues(r)
	}
	for _, r := range []string{"ejected", "refused"} {
		m.ejections.WithLabelValues(r)
	}
	for _, k := range []string{"repair", "rebalance"} {
		m.bytes.WithLabelValues(k)
		for _, r := range []string{"ok", "failed"} {
			m.shards.WithLabelValues(k, r)
		}
	}
	stripes := &stripesCollector{h: h, desc: prometheus.NewDesc(
		prometheus.BuildFQName(metrics.Namespace, "heal", "stripes"),
		"Live stripes by health at the latest pass: healthy, missing_1 ... missing_m (shards unavailable), unreadable (fewer than k).",
		[]string{"health"}, nil)}
	gauge := func(name, help string, f func(s *Status) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts(name, help)), func() float64 {
			s := h.Status()
			return f(&s)
		})
	}
	counterFunc := func(name, help string, f func(s *Status) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts(opts(name, help)), func() float64 {
			s := h.Status()
			return f(&s)
		})
	}
	err := metrics.Register(reg, m.passes, m.shards, m.bytes, m.sealed, stripes, m.audits, m.nodeAudits, m.ejections,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "audit", Name: "rate_limit",
			Help: "The configured audit rate, shards per second over the cluster (--audit-rate); 0: audits are off."},
			func() float64 { return max(h.cfg.AuditRate, 0) }),
		gauge("stripes_sealed", "Live stripes whose chunk is sealed, at the latest pass.", func(s *Status) float64 { return float64(s.Tally.Sealed) }),
		gauge("stripes_unsealed", "Live stripes whose chunk is coded in plaintext (written before sealing, or with storaged --seal=false), at the latest pass.", func(s *Status) float64 { return float64(s.Tally.Unsealed) }),
		gauge("unsealed_remaining", "Unsealed stripes at the latest pass less those the seal migration sealed since.", func(s *Status) float64 { return float64(s.UnsealedRemaining) }),
		gauge("seal_migration", "1 when the seal migration is asked for (storectl seal migrate), as the latest pass read it.", func(s *Status) float64 {
			if s.SealMigration {
				return 1
			}
			return 0
		}),
		gauge("waiting_bytes", "Bytes to rebuild (repair) found by the latest pass.", func(s *Status) float64 { return float64(s.Tally.RepairBytes) }),
		gauge("rebalance_waiting_bytes", "Bytes to move (rebalance, drain) found by the latest pass.", func(s *Status) float64 { return float64(s.Tally.RebalanceBytes) }),
		gauge("repair_remaining_bytes", "Bytes of the latest pass's repair not done yet: its waiting bytes less what was rebuilt since.", func(s *Status) float64 { return float64(s.RepairRemaining) }),
		gauge("rebalance_remaining_bytes", "Bytes of the latest pass's rebalance and drains not done yet.", func(s *Status) float64 { return float64(s.RebalanceRemaining) }),
		gauge("garbage_chunks", "Garbage chunks the latest pass found old enough to collect (--gc-grace), or being collected.", func(s *Status) float64 { return float64(s.GarbageChunks) }),
		counterFunc("collected_chunks_total", "Garbage chunks collected: their shards deleted, their records forgotten.", func(s *Status) float64 { return float64(s.CollectedChunks) }),
		counterFunc("strays_deleted_total", "Shards that no stripe named for --gc-grace, deleted.", func(s *Status) float64 { return float64(s.StraysDeleted) }),
		gauge("waiting_shards", "Shards whose repair cannot start yet (node down within its grace, or too few shards left).", func(s *Status) float64 { return float64(s.Tally.Waiting) }),
		gauge("draining_shards", "Shards still on draining nodes at the latest pass.", func(s *Status) float64 { return float64(s.Tally.Draining) }),
		gauge("rate_bytes_per_second", "Bytes per second written by repair and rebalance over the last 10 s.", func(s *Status) float64 { return s.Rate }),
		gauge("rate_limit_bytes_per_second", "The configured bound on repair and rebalance writes (--repair-rate); 0: none.", func(s *Status) float64 { return float64(s.RateLimit) }),
	)
	if err != nil {
		return nil, fmt.Errorf("heal: %w", err)
	}
	return m, nil
}

// stripesCollector reports the latest tally's stripes by health.
type stripesCollector struct {
	h    *Healer
	desc *prometheus.Desc
}

func (c *stripesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stripesCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Status()
	t := &s.Tally
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Healthy), "healthy")
	for j, n := range t.Missing {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), "missing_"+strconv.Itoa(j))
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.Unreadable), "unreadable")
}
