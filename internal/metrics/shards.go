package metrics

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/nodeapi"
)

// The transport label of the shard metrics: how the operation reached the
// node's store.
const (
	// TransportHTTP is a request to the node API, from another node (or
	// from this node's own gateway through HTTP).
	TransportHTTP = "http"
	// TransportLocal is a gateway of the same process reading or writing
	// the store directly (every shard in `storaged --dev`; a node's own
	// shards when it is both gateway and storage). Its duration is the
	// store's alone, with no network in it.
	TransportLocal = "local"
)

// shardBuckets are the bounds of the shard latency histogram, in seconds:
// from a cached read (0.1 ms) to a slow disk or link (seconds).
var shardBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Shards holds the metrics of the shard operations a storage node serves.
// Its observers, one per transport, are nodeapi.ShardObservers. Safe for
// concurrent use.
type Shards struct {
	http, local *shardObserver
}

// NewShards returns the shard metrics, registered with reg (if not nil).
func NewShards(reg prometheus.Registerer) (*Shards, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "shard", Name: "requests_total",
		Help: "Shard operations this node's store served, by transport, operation and result.",
	}, []string{"transport", "op", "result"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "shard", Name: "request_duration_seconds",
		Help:    "Time to serve a shard operation, by transport and operation (over HTTP: from the request's arrival to the end of the response).",
		Buckets: shardBuckets,
	}, []string{"transport", "op"})
	received := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "shard", Name: "received_bytes_total",
		Help: "Shard bytes received by PUTs, by transport.",
	}, []string{"transport"})
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "shard", Name: "sent_bytes_total",
		Help: "Shard bytes sent by GETs, by transport.",
	}, []string{"transport"})
	if err := Register(reg, requests, duration, received, sent); err != nil {
		return nil, err
	}
	ops, results := nodeapi.ShardOps(), nodeapi.ShardResults()
	observer := func(transport string) *shardObserver {
		o := &shardObserver{
			requests: make([][]prometheus.Counter, slices.Max(ops)+1),
			duration: make([]prometheus.Observer, slices.Max(ops)+1),
			received: received.WithLabelValues(transport),
			sent:     sent.WithLabelValues(transport),
		}
		for _, op := range ops {
			o.duration[op] = duration.WithLabelValues(transport, op.String())
			o.requests[op] = make([]prometheus.Counter, slices.Max(results)+1)
			for _, r := range results {
				o.requests[op][r] = requests.WithLabelValues(transport, op.String(), r.String())
			}
		}
		return o
	}
	return &Shards{http: observer(TransportHTTP), local: observer(TransportLocal)}, nil
}

// HTTP returns the observer of the node API server
// (nodeapi.ServerConfig.Observer).
func (m *Shards) HTTP() nodeapi.ShardObserver { return m.http }

// Local returns the observer of the operations a gateway of the same
// process runs on the store directly.
func (m *Shards) Local() nodeapi.ShardObserver { return m.local }

// shardObserver is the metrics of one transport, indexed by operation and
// result: no lookup per request. Every series exists from the start, so
// that a rate over a result never seen yet reads 0, not nothing.
type shardObserver struct {
	requests [][]prometheus.Counter // [op][result]
	duration []prometheus.Observer  // [op]
	received prometheus.Counter
	sent     prometheus.Counter
}

func (o *shardObserver) ObserveShard(op nodeapi.ShardOp, result nodeapi.ShardResult, bytes int64, elapsed time.Duration) {
	if int(op) >= len(o.requests) || int(result) >= len(o.requests[op]) || o.requests[op][result] == nil {
		return // an operation or result that nodeapi does not list
	}
	o.requests[op][result].Inc()
	o.duration[op].Observe(elapsed.Seconds())
	if bytes > 0 {
		switch op {
		case nodeapi.ShardPut:
			o.received.Add(float64(bytes))
		case nodeapi.ShardGet:
			o.sent.Add(float64(bytes))
		}
	}
}
