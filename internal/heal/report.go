package heal

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"cairn/internal/meta"
)

// ReportMeta is what a Reporter needs of the metadata.
type ReportMeta interface {
	Chunk(ctx context.Context, cid []byte) (*meta.ChunkInfo, error)
	SetStripeNodes(ctx context.Context, cid []byte, old, nodes []string, layout uint64) error
}

// Reporter takes what readers found wrong with shards — missing from the
// node their stripe names, or with bytes that do not decode to the chunk
// — and records it in the chunk table (the shard's node becomes ""), so
// that the next healing pass rebuilds the shard wherever its node is. It
// runs on any node: gateways report into it, it writes through the
// metadata API. Reports wait in a bounded queue; when it is full they are
// dropped (the inventory check of a pass finds missing shards anyway).
type Reporter struct {
	meta ReportMeta
	log  *slog.Logger
	q    chan report
}

type report struct {
	chunk []byte
	shard int
	node  string
}

// reportQueue bounds the reports waiting to be recorded.
const reportQueue = 1024

// NewReporter returns a Reporter; Run records what it is told.
func NewReporter(m ReportMeta, log *slog.Logger) *Reporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reporter{meta: m, log: log, q: make(chan report, reportQueue)}
}

// Report says that shard i of the chunk's stripe, read from node, is
// missing there or wrong. It does not wait.
func (r *Reporter) Report(chunkCID []byte, shard int, node string) {
	select {
	case r.q <- report{bytes.Clone(chunkCID), shard, node}:
	default:
		r.log.Debug("heal: report queue full, report dropped", "chunk", cidString(chunkCID), "shard", shard, "node", node)
	}
}

// Run records reports until ctx ends; it returns ctx's error.
func (r *Reporter) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case rep := <-r.q:
			if err := r.record(ctx, rep); err != nil && ctx.Err() == nil {
				r.log.Info("heal: shard report not recorded", "chunk", cidString(rep.chunk), "shard", rep.shard,
					"node", rep.node, "err", err)
			}
		}
	}
}

// record marks the shard as stored nowhere, if its record still names
// node for it. A stripe that records no nodes (written before stripes
// did) is left to the inventory check.
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
			"shard", rep.shard, "node", rep.node)
	}
	return err
}
