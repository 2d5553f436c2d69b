package console

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"cairn/internal/metrics"
	"cairn/s3gw"
)

func TestQuantile(t *testing.T) {
	bounds := []float64{0.1, 0.2, 0.5, 1}
	for _, c := range []struct {
		q, n float64
		cum  []float64
		want float64
	}{
		{0.5, 100, []float64{0, 100, 100, 100}, 0.15},     // all in (0.1, 0.2]: halfway
		{0.99, 100, []float64{50, 98, 100, 100}, 0.35},    // 99 lies in (0.2, 0.5], half of its 2
		{0.99, 100, []float64{100, 100, 100, 100}, 0.099}, // in the first bucket, from 0
		{0.99, 100, []float64{0, 0, 0, 10}, 1},            // above every bound: the highest
	} {
		got := quantile(c.q, c.n, bounds, func(b float64) float64 {
			for i, x := range bounds {
				if x == b {
					return c.cum[i]
				}
			}
			t.Fatal("unknown bound")
			return 0
		})
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("quantile(%g) of %v = %g, want %g", c.q, c.cum, got, c.want)
		}
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	for i := range 5 {
		r.add(Sample{Nodes: i})
	}
	got := r.all()
	if len(got) != 3 || got[0].Nodes != 2 || got[2].Nodes != 4 {
		t.Errorf("ring of 3 after 5 samples: %+v, want 2, 3, 4", got)
	}
}

// TestSamples takes samples from a real registry with the gateway's S3
// metrics: the rates are the counters' increase over the interval, and
// the health is the admin status's.
func TestSamples(t *testing.T) {
	reg := metrics.NewRegistry()
	s3m, err := metrics.NewS3(reg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.Metrics = reg; c.Interval = 10 * time.Second; c.Window = time.Minute })
	ctx := context.Background()
	put, get := s3m.Operation("PutObject"), s3m.Operation("GetObject")
	put.Done(s3gw.RequestStats{Status: 200, Duration: time.Millisecond, Received: 1000})
	prev := f.srv.sample(ctx, counters{})

	f.now = f.now.Add(10 * time.Second)
	for range 99 {
		get.Done(s3gw.RequestStats{Status: 200, Duration: 20 * time.Millisecond, Sent: 500})
	}
	put.Done(s3gw.RequestStats{Status: 503, Duration: 3 * time.Second, Received: 100})
	f.srv.sample(ctx, prev)

	got := f.srv.samples.all()
	if len(got) != 2 {
		t.Fatalf("%d samples, want 2", len(got))
	}
	if got[0].Traffic {
		t.Error("the first sample has traffic: it has nothing to compare with")
	}
	s := got[1]
	if !s.Traffic || s.Requests != 10 || s.Errors != 0.1 || s.Sent != 99*500/10.0 || s.Received != 10 {
		t.Errorf("traffic %+v: want 10 req/s, 0.1 err/s, 4950 B/s sent, 10 B/s received", s)
	}
	if s.LatencyMean == nil || math.Abs(*s.LatencyMean-(99*0.02+3)/100) > 1e-9 {
		t.Errorf("mean latency %v, want %g", s.LatencyMean, (99*0.02+3)/100)
	}
	// 99 of 100 requests took 20 ms, in the (10 ms, 25 ms] bucket: the
	// 99th percentile interpolates to its top.
	if s.LatencyP99 == nil || math.Abs(*s.LatencyP99-0.025) > 1e-9 {
		t.Errorf("p99 latency %v, want 0.025", s.LatencyP99)
	}
	// The fake status: 2 nodes in the layout, 1 down; 10 stripes, 7
	// healthy, 1 unreadable.
	if !s.Health || s.Nodes != 2 || s.NodesUp != 1 || s.Stripes != 10 || s.Degraded != 2 || s.Unreadable != 1 || s.HealRate != 5 || s.HealRemaining != 100 {
		t.Errorf("health %+v", s)
	}

	c := f.login(t, `{"token":"`+testToken+`"}`)
	w := f.do(http.MethodGet, "/api/charts", nil, c)
	var ans chartsAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || len(ans.Samples) != 2 || ans.IntervalSeconds != 10 || ans.WindowSeconds != 60 {
		t.Errorf("charts: %d %s", w.Code, w.Body)
	}
}

// TestSamplesBeforeTheFirstRequest: a gateway's S3 counters have no
// series until its first request, and count 0 until then.
func TestSamplesBeforeTheFirstRequest(t *testing.T) {
	reg := metrics.NewRegistry()
	s3m, err := metrics.NewS3(reg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.Metrics = reg })
	prev := f.srv.sample(context.Background(), counters{})
	f.now = f.now.Add(time.Second)
	s3m.Operation("HeadObject").Done(s3gw.RequestStats{Status: 200, Duration: time.Millisecond})
	f.srv.sample(context.Background(), prev)
	got := f.srv.samples.all()
	if s := got[1]; !s.Traffic || s.Requests != 1 {
		t.Errorf("after the first request: %+v, want 1 request/s", s)
	}
}
