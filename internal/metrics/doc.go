// Package metrics holds Cairn's Prometheus metrics: the registry of a
// node, the handler that serves it on /metrics, and the metrics of the S3
// gateway (S3, an s3gw.Observer) and of the shard operations a storage
// node serves (Shards, nodeapi.ShardObservers). docs/metrics.md lists
// every metric; a metric added anywhere is added there too.
//
// # One registry per node
//
// NewRegistry makes the registry of one node, with the Go, process and
// build collectors; there is no global registry (prometheus.DefaultRegisterer
// is never used). Each node serves its own registry on its own node API,
// so a node's /metrics means the same thing in a real cluster and in
// `storaged --dev`, where several nodes run in one process: their series
// stay apart because each is scraped at its own address, with no label to
// add and none to collide. The one cost is that in dev the go_* and
// process_* series of every node describe the same process. The node's ID,
// zone and roles are in cairn_node_info (RegisterNodeInfo), for joins.
//
// # Registering the metrics of another package
//
// A package with metrics of its own takes a prometheus.Registerer in its
// Config, names them under Namespace with its own subsystem, and registers
// them with Register, which wraps a failure and does nothing for a nil
// Registerer (so tests need none). The node's wiring passes the node's
// registry. For a healing package:
//
//	// in internal/heal
//	type Config struct {
//		// Metrics registers the healer's metrics (docs/metrics.md);
//		// nil registers none.
//		Metrics prometheus.Registerer
//		...
//	}
//
//	func New(cfg Config) (*Healer, error) {
//		h := &Healer{
//			repaired: prometheus.NewCounter(prometheus.CounterOpts{
//				Namespace: metrics.Namespace, Subsystem: "heal",
//				Name: "shards_repaired_total",
//				Help: "Shards rebuilt from the rest of their stripe and written to their node.",
//			}),
//			queued: prometheus.NewGauge(prometheus.GaugeOpts{
//				Namespace: metrics.Namespace, Subsystem: "heal",
//				Name: "stripes_queued",
//				Help: "Stripes with fewer than k+m good shards waiting for repair.",
//			}),
//		}
//		if err := metrics.Register(cfg.Metrics, h.repaired, h.queued); err != nil {
//			return nil, fmt.Errorf("heal: %w", err)
//		}
//		return h, nil
//	}
//
//	// in internal/node, where the node's roles are wired
//	healer, err := heal.New(heal.Config{Metrics: reg, ...})
//
// A gauge that mirrors state kept elsewhere is better a
// prometheus.GaugeFunc, read at scrape time, than a value set on every
// change. Labels stay few and bounded: an operation, a result, never a
// shard, object or node ID (a node is its scrape target).
//
// # Cost on the request path
//
// S3 and Shards do their label lookups once, when s3gw and nodeapi ask for
// an operation's observer; a request then costs a few atomic adds and one
// histogram observation. The per-operation status counters are created on
// first use and found by a short scan of a copy-on-write slice.
package metrics
