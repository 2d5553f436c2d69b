package heal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"cairn/internal/metrics"
	"cairn/internal/metrics/metricstest"
)

// healState is what the metadata leader's healing metrics say
// (internal/heal/metrics.go). The stripe counts and waiting bytes are the
// latest pass's tally, taken when its scan ended, not what is left now;
// the byte counters grow as repair records each rebuilt shard.
type healState struct {
	Passes float64 // cairn_heal_passes_total
	// Stripes by health at the latest pass: every shard available, some
	// missing (still K or more), fewer than K.
	Healthy, Missing, Unreadable float64
	// WaitingBytes is cairn_heal_waiting_bytes: bytes to rebuild that the
	// latest pass found; RebalanceBytes, bytes to move.
	WaitingBytes, RebalanceBytes float64
	// WaitingShards wait for a node within its grace period;
	// DrainingShards sit on draining nodes.
	WaitingShards, DrainingShards float64
	// RepairedBytes and MovedBytes: cairn_heal_bytes_total by kind, since
	// the healer started.
	RepairedBytes, MovedBytes float64
	// FailedShards: cairn_heal_shards_total{result="failed"}, both kinds.
	FailedShards float64
	// RateLimit is --repair-rate in bytes per second (0: none).
	RateLimit float64
}

// idle reports whether the latest pass found every stripe whole and where
// the layout wants it, with nothing waiting: healing has nothing to do.
func (h healState) idle() bool {
	return h.Passes > 0 && h.Missing == 0 && h.Unreadable == 0 && h.WaitingBytes == 0 &&
		h.RebalanceBytes == 0 && h.WaitingShards == 0 && h.DrainingShards == 0
}

func (h healState) String() string {
	return fmt.Sprintf("passes %v, stripes healthy %v missing %v unreadable %v, to rebuild %v B, to move %v B, waiting %v, draining %v, repaired %v B",
		h.Passes, h.Healthy, h.Missing, h.Unreadable, h.WaitingBytes, h.RebalanceBytes, h.WaitingShards, h.DrainingShards, h.RepairedBytes)
}

// parseHeal reads the healing metrics from a scrape in the Prometheus text
// format. A scrape without them (not a meta node) is an error.
func parseHeal(r io.Reader) (healState, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return healState{}, fmt.Errorf("parse metrics: %w", err)
	}
	m := metricstest.Metrics(fams)
	var h healState
	var missing []string
	v := func(name string, match ...string) float64 {
		x, ok := m.Value(name, match...)
		if !ok {
			missing = append(missing, name+strings.Join(match, "="))
		}
		return x
	}
	h.Passes = v("cairn_heal_passes_total")
	h.Healthy = v("cairn_heal_stripes", "health", "healthy")
	h.Unreadable = v("cairn_heal_stripes", "health", "unreadable")
	h.WaitingBytes = v("cairn_heal_waiting_bytes")
	h.RebalanceBytes = v("cairn_heal_rebalance_waiting_bytes")
	h.WaitingShards = v("cairn_heal_waiting_shards")
	h.DrainingShards = v("cairn_heal_draining_shards")
	h.RepairedBytes = v("cairn_heal_bytes_total", "kind", "repair")
	h.MovedBytes = v("cairn_heal_bytes_total", "kind", "rebalance")
	h.FailedShards = v("cairn_heal_shards_total", "result", "failed")
	h.RateLimit = v("cairn_heal_rate_limit_bytes_per_second")
	if len(missing) > 0 {
		return h, fmt.Errorf("no healing metrics %s: not a meta node's /metrics?", strings.Join(missing, ", "))
	}
	// missing_1 ... missing_m: as many series as the stripes' parity.
	if f := fams["cairn_heal_stripes"]; f != nil {
		for _, s := range f.GetMetric() {
			if strings.HasPrefix(label(s, "health"), "missing_") {
				h.Missing += s.GetGauge().GetValue()
			}
		}
	}
	return h, nil
}

func label(s *dto.Metric, name string) string {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// scraper reads a node's healing metrics over HTTP.
type scraper struct {
	hc  *http.Client
	url string
}

func newScraper(apiAddr string) scraper {
	return scraper{hc: &http.Client{Timeout: 5 * time.Second}, url: "http://" + apiAddr + metrics.Path}
}

func (s scraper) scrape(ctx context.Context) (healState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return healState{}, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return healState{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return healState{}, errors.New("scrape " + s.url + ": " + resp.Status)
	}
	h, err := parseHeal(resp.Body)
	if err != nil {
		return h, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	return h, nil
}
