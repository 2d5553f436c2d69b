package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/s3gw"
)

// UnknownOp is the op label of S3 requests that named no operation Cairn
// implements (an unsupported sub-resource, a bad method or bucket name).
const UnknownOp = "Unknown"

// s3Buckets are the bounds of the S3 latency histogram, in seconds: from
// a cached HEAD (a millisecond) to a large PUT over a slow link (minutes).
var s3Buckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// S3 holds the metrics of an S3 gateway's requests. It is the gateway's
// s3gw.Observer: give it to s3gw.Config.Observer. Safe for concurrent use.
type S3 struct {
	requests *prometheus.CounterVec   // op, code
	duration *prometheus.HistogramVec // op
	received *prometheus.CounterVec   // op
	sent     *prometheus.CounterVec   // op
	aborted  *prometheus.CounterVec   // op
}

var _ s3gw.Observer = (*S3)(nil)

// NewS3 returns the S3 metrics, registered with reg (if not nil).
func NewS3(reg prometheus.Registerer) (*S3, error) {
	m := &S3{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "requests_total",
			Help: "S3 requests answered, by operation and HTTP status code.",
		}, []string{"op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "request_duration_seconds",
			Help:    "Time from an S3 request's arrival to the end of its response, by operation.",
			Buckets: s3Buckets,
		}, []string{"op"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "received_bytes_total",
			Help: "Bytes of S3 request bodies read, as sent (aws-chunked framing included), by operation.",
		}, []string{"op"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "sent_bytes_total",
			Help: "Bytes of S3 response bodies written, by operation.",
		}, []string{"op"}),
		aborted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "aborted_responses_total",
			Help: "S3 responses cut off after their status was sent (the client got a truncated body), by operation.",
		}, []string{"op"}),
	}
	if err := Register(reg, m.requests, m.duration, m.received, m.sent, m.aborted); err != nil {
		return nil, err
	}
	return m, nil
}

// Operation returns the observer of one S3 operation ("" for requests that
// named none, counted as UnknownOp), with its series looked up once.
func (m *S3) Operation(name string) s3gw.OperationObserver {
	if name == "" {
		name = UnknownOp
	}
	return &s3Op{
		requests: m.requests.MustCurryWith(prometheus.Labels{"op": name}),
		duration: m.duration.WithLabelValues(name),
		received: m.received.WithLabelValues(name),
		sent:     m.sent.WithLabelValues(name),
		aborted:  m.aborted.WithLabelValues(name),
	}
}

// s3Op is the metrics of one operation.
type s3Op struct {
	requests *prometheus.CounterVec // curried with op: by code
	duration prometheus.Observer
	received prometheus.Counter
	sent     prometheus.Counter
	aborted  prometheus.Counter

	// codes are the request counters by status code seen so far: a
	// copy-on-write slice, scanned without a lock (an operation sees a
	// handful of codes); mu serializes additions.
	codes atomic.Pointer[[]codeCounter]
	mu    sync.Mutex
}

type codeCounter struct {
	code int
	c    prometheus.Counter
}

func (o *s3Op) Done(s s3gw.RequestStats) {
	o.counter(s.Status).Inc()
	o.duration.Observe(s.Duration.Seconds())
	if s.Received > 0 {
		o.received.Add(float64(s.Received))
	}
	if s.Sent > 0 {
		o.sent.Add(float64(s.Sent))
	}
	if s.Aborted {
		o.aborted.Inc()
	}
}

// counter returns the request counter of a status code.
func (o *s3Op) counter(code int) prometheus.Counter {
	if p := o.codes.Load(); p != nil {
		for _, cc := range *p {
			if cc.code == code {
				return cc.c
			}
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var old []codeCounter
	if p := o.codes.Load(); p != nil {
		old = *p
		for _, cc := range old {
			if cc.code == code {
				return cc.c
			}
		}
	}
	c := o.requests.WithLabelValues(strconv.Itoa(code))
	codes := append(old[:len(old):len(old)], codeCounter{code, c})
	o.codes.Store(&codes)
	return c
}
