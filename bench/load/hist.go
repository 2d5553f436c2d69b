package load

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to an hour with three
// significant digits: a fixed ~200 KiB per histogram however many
// operations run, and any percentile within 0.1% of the true value.
const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histDigits    = 3
)

// latencyHist is a bounded latency histogram; safe for concurrent use.
type latencyHist struct {
	mu  sync.Mutex
	h   *hdrhistogram.Histogram
	max time.Duration // exact, where the histogram's own is rounded
}

func newLatencyHist() *latencyHist {
	return &latencyHist{h: hdrhistogram.New(histMinMicros, histMaxMicros, histDigits)}
}

// record adds one latency; values outside the range are clamped into it.
func (l *latencyHist) record(d time.Duration) {
	us := max(min(d.Microseconds(), histMaxMicros), histMinMicros)
	l.mu.Lock()
	l.h.RecordValue(us) // cannot fail: us is in range
	l.max = max(l.max, d)
	l.mu.Unlock()
}

// merge adds every latency of o to l.
func (l *latencyHist) merge(o *latencyHist) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.Merge(o.h)
	l.max = max(l.max, o.max)
}

// Latency summarizes a latency distribution, in milliseconds. Percentiles
// come from the histogram (within 0.1%); Max is exact.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// summary returns the percentiles of what was recorded; all zero if nothing.
func (l *latencyHist) summary() Latency {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1e3 }
	v := l.h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9})
	return Latency{
		P50:  ms(v[0]),
		P90:  ms(v[1]),
		P99:  ms(v[2]),
		P999: ms(v[3]),
		Max:  float64(l.max) / float64(time.Millisecond),
		Mean: l.h.Mean() / 1e3,
	}
}
