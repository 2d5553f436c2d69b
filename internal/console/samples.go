package console

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"cairn/internal/admin/adminapi"
)

// Sample is one point of the charts: the S3 traffic over the interval
// that ends at Time, and the cluster's health at Time.
type Sample struct {
	Time time.Time `json:"t"`
	// Traffic is false for the first sample (nothing to compare with yet),
	// after the counters went down, and without Config.Metrics; the
	// traffic fields are then 0. The console's own uploads and downloads
	// are not S3 requests, and not counted.
	Traffic bool `json:"traffic"`
	// Requests and Errors (5xx answers) per second; Received and Sent,
	// bytes of bodies per second (cairn_s3_requests_total,
	// cairn_s3_received_bytes_total, cairn_s3_sent_bytes_total).
	Requests float64 `json:"requests"`
	Errors   float64 `json:"errors"`
	Received float64 `json:"received"`
	Sent     float64 `json:"sent"`
	// LatencyMean and LatencyP99 are seconds over the interval's requests
	// (cairn_s3_request_duration_seconds; the percentile interpolated in
	// its buckets, as Prometheus's histogram_quantile does); nil with no
	// request.
	LatencyMean *float64 `json:"latency_mean,omitempty"`
	LatencyP99  *float64 `json:"latency_p99,omitempty"`
	// Health is false when the admin status could not be read; the health
	// fields are then 0. Nodes counts the storage nodes of the layout,
	// NodesUp those gossip sees alive; the stripes are the healer's latest
	// tally; HealRate (bytes per second) and HealRemaining (bytes) its
	// repair and rebalance.
	Health        bool    `json:"health"`
	Nodes         int     `json:"nodes"`
	NodesUp       int     `json:"nodes_up"`
	Stripes       int64   `json:"stripes"`
	Degraded      int64   `json:"degraded"`
	Unreadable    int64   `json:"unreadable"`
	HealRate      float64 `json:"heal_rate"`
	HealRemaining int64   `json:"heal_remaining"`
}

// ring keeps the latest samples, at most its capacity. Safe for
// concurrent use.
type ring struct {
	mu   sync.Mutex
	buf  []Sample
	next int
	full bool
}

func newRing(n int) *ring { return &ring{buf: make([]Sample, max(n, 1))} }

func (r *ring) add(s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = s
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// all returns the samples, oldest first.
func (r *ring) all() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]Sample(nil), r.buf[:r.next]...)
	}
	return append(append([]Sample(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// counters are the S3 metrics' cumulative values at one moment.
type counters struct {
	at                               time.Time
	ok                               bool // read: a metric absent counts 0
	requests, errors, received, sent float64
	count, sum                       float64             // latency histogram
	buckets                          map[float64]float64 // upper bound → cumulative count
}

// readCounters sums the S3 metrics over operations and status codes.
func readCounters(mfs []*dto.MetricFamily, at time.Time) counters {
	c := counters{at: at, ok: true, buckets: map[float64]float64{}}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "cairn_s3_requests_total":
			for _, m := range mf.GetMetric() {
				v := m.GetCounter().GetValue()
				c.requests += v
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" {
						if code, err := strconv.Atoi(l.GetValue()); err == nil && code >= 500 {
							c.errors += v
						}
					}
				}
			}
		case "cairn_s3_received_bytes_total":
			for _, m := range mf.GetMetric() {
				c.received += m.GetCounter().GetValue()
			}
		case "cairn_s3_sent_bytes_total":
			for _, m := range mf.GetMetric() {
				c.sent += m.GetCounter().GetValue()
			}
		case "cairn_s3_request_duration_seconds":
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				c.count += float64(h.GetSampleCount())
				c.sum += h.GetSampleSum()
				for _, b := range h.GetBucket() {
					c.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return c
}

// traffic fills in s's traffic from two readings of the counters. A
// counter that went down (the process restarted its metrics) gives no
// traffic.
func traffic(s *Sample, prev, cur counters) {
	dt := cur.at.Sub(prev.at).Seconds()
	if !prev.ok || !cur.ok || dt <= 0 || cur.requests < prev.requests || cur.count < prev.count {
		return
	}
	s.Traffic = true
	s.Requests = (cur.requests - prev.requests) / dt
	s.Errors = max(cur.errors-prev.errors, 0) / dt
	s.Received = max(cur.received-prev.received, 0) / dt
	s.Sent = max(cur.sent-prev.sent, 0) / dt
	n := cur.count - prev.count
	if n <= 0 {
		return
	}
	mean := (cur.sum - prev.sum) / n
	s.LatencyMean = &mean
	bounds := make([]float64, 0, len(cur.buckets))
	for b := range cur.buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	p99 := quantile(0.99, n, bounds, func(b float64) float64 { return cur.buckets[b] - prev.buckets[b] })
	s.LatencyP99 = &p99
}

// quantile interpolates the q-quantile of n observations in histogram
// buckets (ascending upper bounds, cumulative counts), as Prometheus's
// histogram_quantile does: linearly within the bucket that holds it, and
// the highest bound when it lies above every bucket.
func quantile(q, n float64, bounds []float64, cum func(float64) float64) float64 {
	if len(bounds) == 0 {
		return 0
	}
	target := q * n
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		c := cum(b)
		if c >= target {
			if c == below {
				return b
			}
			return lower + (b-lower)*(target-below)/(c-below)
		}
		lower, below = b, c
	}
	return bounds[len(bounds)-1]
}

// health fills in s's health from the admin status.
func health(s *Sample, st *adminapi.Status) {
	s.Health = true
	for _, n := range st.Nodes {
		if !n.InLayout {
			continue
		}
		s.Nodes++
		if !n.Down {
			s.NodesUp++
		}
	}
	if h := st.Heal; h != nil {
		s.Stripes = h.Tally.Stripes
		s.Unreadable = h.Tally.Unreadable
		s.Degraded = max(h.Tally.Stripes-h.Tally.Healthy-h.Tally.Unreadable, 0)
		s.HealRate = h.Rate
		s.HealRemaining = h.Remaining
	}
}

// Run takes a sample for the charts every Config.Interval until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	var prev counters
	for {
		prev = s.sample(ctx, prev)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sample takes one sample and returns the counters it read.
func (s *Server) sample(ctx context.Context, prev counters) counters {
	now := s.cfg.Now()
	smp := Sample{Time: now.UTC()}
	var cur counters
	if g := s.cfg.Metrics; g != nil {
		// A metric that fails to collect is left out of mfs and counts 0
		// (a vector with no series yet is absent, too): a counter that
		// went down makes no traffic.
		mfs, err := g.Gather()
		if err != nil {
			s.log.Debug("console: gather metrics", "err", err)
		}
		cur = readCounters(mfs, now)
		traffic(&smp, prev, cur)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var st adminapi.Status
	if err := s.adminJSON(ctx, http.MethodGet, "status", &st); err != nil {
		if ctx.Err() == nil {
			s.log.Debug("console: read the status for the charts", "err", err)
		}
	} else {
		health(&smp, &st)
	}
	s.samples.add(smp)
	return cur
}

// chartsAnswer is the answer to GET /api/charts.
type chartsAnswer struct {
	IntervalSeconds float64  `json:"interval_seconds"`
	WindowSeconds   float64  `json:"window_seconds"`
	Samples         []Sample `json:"samples"`
}

func (s *Server) charts(w http.ResponseWriter, _ *http.Request, _ *session) error {
	return writeJSON(w, http.StatusOK, chartsAnswer{
		IntervalSeconds: s.cfg.Interval.Seconds(), WindowSeconds: s.cfg.Window.Seconds(), Samples: s.samples.all(),
	})
}
