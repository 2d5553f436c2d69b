package load

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// near reports whether got is within the histogram's precision (0.1%, and
// a microsecond for tiny values) of want.
func near(got, want float64) bool {
	return math.Abs(got-want) <= want*1e-3+1e-3
}

func TestLatencyPercentiles(t *testing.T) {
	h := newLatencyHist()
	// 1, 2, …, 1000 ms: the p-th percentile is p*10 ms.
	for i := 1000; i >= 1; i-- {
		h.record(time.Duration(i) * time.Millisecond)
	}
	s := h.summary()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"p50", s.P50, 500}, {"p90", s.P90, 900}, {"p99", s.P99, 990},
		{"p99.9", s.P999, 999}, {"max", s.Max, 1000}, {"mean", s.Mean, 500.5},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v ms, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLatencyAgainstSortedSample(t *testing.T) {
	// Log-normal latencies, compared with the exact nearest-rank percentile
	// of the sorted sample.
	r := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	h := newLatencyHist()
	for range 100_000 {
		d := time.Duration(math.Exp(r.NormFloat64()*1.5+8)) * time.Microsecond
		all = append(all, d)
		h.record(d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	// The histogram's rank may be the exact one's neighbour (it rounds the
	// rank), and its value is within its precision of that sample.
	ms := func(i int) float64 { return float64(all[i].Microseconds()) / 1e3 }
	s := h.summary()
	for _, c := range []struct {
		p   float64
		got float64
	}{{50, s.P50}, {90, s.P90}, {99, s.P99}, {99.9, s.P999}} {
		i := int(math.Ceil(c.p/100*float64(len(all)))) - 1
		if lo, hi := ms(i-1)*(1-1e-3), ms(i+1)*(1+1e-3); c.got < lo || c.got > hi {
			t.Errorf("p%v = %v ms, exact %v ms (neighbours %v, %v)", c.p, c.got, ms(i), ms(i-1), ms(i+1))
		}
	}
	if want := float64(all[len(all)-1]) / 1e6; s.Max != want {
		t.Errorf("max = %v ms, want exactly %v", s.Max, want)
	}
}

func TestLatencyMergeAndClamp(t *testing.T) {
	a, b := newLatencyHist(), newLatencyHist()
	a.record(0)             // clamped up to 1 µs
	b.record(2 * time.Hour) // clamped down to an hour in the histogram
	b.record(time.Millisecond)
	a.merge(b)
	s := a.summary()
	if s.Max != float64(2*time.Hour/time.Millisecond) {
		t.Errorf("max = %v ms, want the exact 2h", s.Max)
	}
	if !near(s.P50, 1) {
		t.Errorf("p50 = %v ms, want 1", s.P50)
	}
	if (newLatencyHist().summary() != Latency{}) {
		t.Error("an empty histogram's summary is not zero")
	}
}
