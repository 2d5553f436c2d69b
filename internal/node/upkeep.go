package node

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/blob"
	"cairn/internal/nodeapi"
	"cairn/internal/upkeep"
)

// scrubStateFile is where a storage node keeps its scrub's progress, in
// its data dir (the storage dir is the store's own).
const scrubStateFile = "scrub-state.json"

// newUpkeep returns the scrub and compaction of a storage node's store;
// its Run is started with the node's other loops.
func newUpkeep(cfg Config, st blob.Local, reg prometheus.Registerer, log *slog.Logger) (*upkeep.Upkeep, error) {
	uc := upkeep.Default()
	uc.Store = st
	if cfg.ScrubInterval != 0 {
		uc.ScrubInterval = cfg.ScrubInterval
	}
	uc.StateFile = filepath.Join(cfg.DataDir, scrubStateFile)
	uc.Logger = log.With("component", "upkeep")
	uc.Metrics = reg
	return upkeep.New(uc)
}

// nodeScrub is a node's upkeep as the node API serves it.
type nodeScrub struct{ u *upkeep.Upkeep }

var _ nodeapi.Scrubbing = nodeScrub{}

func (s nodeScrub) StartScrub() bool { return s.u.ScrubNow() }

func (s nodeScrub) ScrubStatus() nodeapi.ScrubStatus {
	st := s.u.Status()
	return nodeapi.ScrubStatus{
		Interval:  st.Interval,
		Requested: st.Requested,
		Current:   scrubPass(st.Current),
		Last:      scrubPass(st.Last),
		Next:      st.Next,
		Passes:    st.Passes,
	}
}

func scrubPass(p *upkeep.Pass) *nodeapi.ScrubPass {
	if p == nil {
		return nil
	}
	return &nodeapi.ScrubPass{
		Started: p.Started, Ended: p.Ended, Requested: p.Requested, Rate: p.Rate, Progress: p.Progress(),
		Shards: p.Shards, Bytes: p.Bytes,
		Unverifiable: p.Unverifiable, Corrupt: p.Corrupt, Unreadable: p.Unreadable, Rewritten: p.Rewritten,
	}
}

// ScrubStatus implements admin.NodeClient.
func (a adminNode) ScrubStatus(ctx context.Context) (nodeapi.ScrubStatus, error) {
	c, err := a.nodes.client(a.id)
	if err != nil {
		return nodeapi.ScrubStatus{}, err
	}
	return c.ScrubStatus(ctx)
}

// StartScrub implements admin.NodeClient.
func (a adminNode) StartScrub(ctx context.Context) (bool, nodeapi.ScrubStatus, error) {
	c, err := a.nodes.client(a.id)
	if err != nil {
		return false, nodeapi.ScrubStatus{}, err
	}
	return c.StartScrub(ctx)
}
