package heal

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"time"

	"cairn/internal/meta"
)

// ReportMeta is what a Reporter needs of the metadata.
type ReportMeta interface {
	Chunk(ctx context.Context, cid []byte) (*meta.ChunkInfo, error)
	SetStripeNodes(ctx context.Context, cid []byte, old, nodes []string, layout uint64) error
	AddReputation(ctx context.Context, deltas []meta.ReputationDelta) error
}

// Reporter takes what readers found wrong with shards — missing from the
// node their stripe names, or with bytes that do not decode to the chunk
// — and records it in the chunk table (the shard's node becomes ""), so
// that the next healing pass rebuilds the shard wherever its node is. It
// runs on any node: gateways report into it, it writes through the
// metadata API. Reports wait in a bounded queue; when it is full they are
// dropped (the inventory check of a pass finds missing shards anyway).
//
// A report that a node lied (returned wrong bytes as good ones) also
// counts against the node's reputation, once per shard it held: when the
// report is the one that marks the shard stored nowhere. Those counts go
// to the metadata in batches, every few seconds (one raft entry for all
// nodes).
type Reporter struct {
	meta ReportMeta
	log  *slog.Logger
	q    chan report

	// lies counts, per node, the lies recorded since the last flush;
	// lastLie is the latest. Run's goroutine's only.
	lies    map[string]int64
	lastLie time.Time
}

type report struct {
	chunk []byte
	shard int
	node  string
	lied  bool
}

// lieFlush is how often a Reporter adds the lies it recorded to the
// nodes' reputations.
const lieFlush = 5 * time.Second

// reportQueue bounds the reports waiting to be recorded.
const reportQueue = 1024

// NewReporter returns a Reporter; Run records what it is told.
func NewReporter(m ReportMeta, log *slog.Logger) *Reporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reporter{meta: m, log: log, q: make(chan report, reportQueue), lies: map[string]int64{}}
}

// Report says that shard i of the chunk's stripe, read from node, is
// missing there or wrong; lied says the node returned wrong bytes as good
// ones (the decoded chunk failed its check, and these bytes were the
// culprit), which counts against its reputation. It does not wait.
func (r *Reporter) Report(chunkCID []byte, shard int, node string, lied bool) {
	select {
	case r.q <- report{bytes.Clone(chunkCID), shard, node, lied}:
	default:
		r.log.Debug("heal: report queue full, report dropped", "chunk", cidString(chunkCID), "shard", shard, "node", node)
	}
}

// Run records reports until ctx ends; it returns ctx's error.
func (r *Reporter) Run(ctx context.Context) error {
	t := time.NewTicker(lieFlush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
			r.flushLies(ctx)
		case rep := <-r.q:
			if err := r.record(ctx, rep); err != nil && ctx.Err() == nil {
				r.log.Info("heal: shard report not recorded", "chunk", cidString(rep.chunk), "shard", rep.shard,
					"node", rep.node, "err", err)
			}
		}
	}
}

// flushLies adds the lies recorded since the last flush to the nodes'
// reputations, in one entry; on failure they are dropped, as an audit
// batch is.
func (r *Reporter) flushLies(ctx context.Context) {
	if len(r.lies) == 0 {
		return
	}
	deltas := make([]meta.ReputationDelta, 0, len(r.lies))
	for _, node := range slices.Sorted(maps.Keys(r.lies)) {
		deltas = append(deltas, meta.ReputationDelta{Node: node, Lies: r.lies[node], LastFailure: r.lastLie})
	}
	clear(r.lies)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.meta.AddReputation(ctx, deltas); err != nil && ctx.Err() == nil {
		r.log.Warn("heal: lies not added to the nodes' reputations; dropped", "nodes", len(deltas), "err", err)
	}
}

// record marks the shard as stored nowhere, if its record still names
// node for it, and counts a lie against the node when the report says it
// lied. A stripe that records no nodes (written before stripes did) is
// left to the inventory check.
func (r *Reporter) record(ctx context.Context, rep report) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ci, err := r.meta.Chunk(ctx, rep.chunk)
	if err != nil || ci == nil {
		return err
	}
	nodes := ci.Stripe.Nodes
	if rep.shard < 0 || rep.shard >= len(nodes) || nodes[rep.shard] != rep.node {
		return nil // moved or repaired meanwhile, or never recorded
	}
	next := slices.Clone(nodes)
	next[rep.shard] = ""
	err = r.meta.SetStripeNodes(ctx, rep.chunk, nodes, next, ci.Stripe.Layout)
	if errors.Is(err, meta.ErrStripeChanged) {
		return nil
	}
	if err == nil {
		r.log.Info("heal: shard reported missing or wrong, to be rebuilt", "chunk", cidString(rep.chunk),
			"shard", rep.shard, "node", rep.node, "lied", rep.lied)
		if rep.lied {
			r.lies[rep.node]++
			r.lastLie = time.Now()
		}
	}
	return err
}
