package heal

import (
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsDocumented: every metric the healer and its auditor register
// is in docs/metrics.md, which lists every metric.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, 6)
	c.putSealed(1, 1000)
	reg := prometheus.NewRegistry()
	cfg := Default()
	cfg.Meta, cfg.Nodes, cfg.Metrics, cfg.Sealer = c.meta, c.nodes, reg, c.sealer
	h, err := New(cfg)
	must(t, err)
	must(t, h.Pass(bg))
	for _, ci := range c.meta.chunks {
		task := c.task(ci, 0)
		h.audit.record(bg, task, h.audit.audit(bg, task)) // a per-node series
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		if !strings.Contains(string(doc), "`"+f.GetName()+"`") {
			t.Errorf("%s is not in docs/metrics.md", f.GetName())
		}
	}
	for _, want := range []string{"cairn_heal_passes_total", "cairn_audit_total", "cairn_audit_node_total", "cairn_audit_ejections_total", "cairn_audit_rate_limit"} {
		if !names[want] {
			t.Errorf("%s is not registered", want)
		}
	}
}
