// Package metricstest reads metrics the way Prometheus does, for tests:
// scrape a /metrics endpoint over HTTP (or gather a registry), then look up
// a series by name and labels.
package metricstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics are the metric families of one scrape, by name.
type Metrics map[string]*dto.MetricFamily

// Scrape GETs url (a node's /metrics) with hc (http.DefaultClient if nil)
// and parses the Prometheus text format it answers with.
func Scrape(ctx context.Context, hc *http.Client, url string) (Metrics, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("scrape %s: %s: %s", url, resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("scrape %s: Content-Type %q, not the text format", url, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: parse: %w", url, err)
	}
	return fams, nil
}

// Gather collects g's metrics directly.
func Gather(g prometheus.Gatherer) (Metrics, error) {
	fams, err := g.Gather()
	if err != nil {
		return nil, err
	}
	m := make(Metrics, len(fams))
	for _, f := range fams {
		m[f.GetName()] = f
	}
	return m, nil
}

// Value returns the sum over the series of name whose labels include
// every label of match (given as name, value pairs): a counter's or a
// gauge's value; for a histogram, name_count is its observation count and
// name_sum their sum. It reports false when no series matches.
func (m Metrics) Value(name string, match ...string) (float64, bool) {
	if len(match)%2 != 0 {
		panic("metricstest: match takes name, value pairs")
	}
	f, suffix := m[name], ""
	if f == nil {
		for _, s := range []string{"_count", "_sum"} {
			if base, ok := strings.CutSuffix(name, s); ok && m[base] != nil {
				f, suffix = m[base], s
			}
		}
	}
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
	for _, s := range f.GetMetric() {
		if !matches(s, match) {
			continue
		}
		found = true
		switch {
		case s.Counter != nil:
			sum += s.Counter.GetValue()
		case s.Gauge != nil:
			sum += s.Gauge.GetValue()
		case s.Untyped != nil:
			sum += s.Untyped.GetValue()
		case s.Histogram != nil && suffix == "_count":
			sum += float64(s.Histogram.GetSampleCount())
		case s.Histogram != nil && suffix == "_sum":
			sum += s.Histogram.GetSampleSum()
		}
	}
	return sum, found
}

// Series returns how many series name has (for a histogram, the
// histograms, not their buckets).
func (m Metrics) Series(name string) int {
	if f := m[name]; f != nil {
		return len(f.GetMetric())
	}
	return 0
}

func matches(s *dto.Metric, match []string) bool {
	for i := 0; i < len(match); i += 2 {
		ok := false
		for _, l := range s.GetLabel() {
			if l.GetName() == match[i] && l.GetValue() == match[i+1] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
