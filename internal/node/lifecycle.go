package node

import (
	"context"
	"log/slog"
	"sync"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/lifecycle"
	"cairn/internal/meta"
)

// startLifecycle runs buckets' lifecycle rules on a meta node: the runner
// acts while the node leads the metadata group, on the local store. It
// stops with ctx; wg waits for it.
func startLifecycle(ctx context.Context, wg *sync.WaitGroup, cfg Config, ms *meta.Store, reg prometheus.Registerer, log *slog.Logger) error {
	r, err := lifecycle.New(lifecycle.Config{
		Metrics: reg,
		Meta:    ms,
		Leader:  func() bool { return ms.Raft().State() == raft.Leader },
		Day:     cfg.LifecycleDay,
		Logger:  log.With("component", "lifecycle"),
	})
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = r.Run(ctx)
	}()
	return nil
}
