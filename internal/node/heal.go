package node

import (
	"context"
	"log/slog"
	"sync"

	"github.com/hashicorp/raft"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/cluster"
	"cairn/internal/heal"
	"cairn/internal/meta"
)

// startHealer runs healing on a meta node: it acts while the node leads
// the metadata group, on the local store, and reaches storage nodes as the
// gateway does. It stops with ctx; wg waits for it.
func startHealer(ctx context.Context, wg *sync.WaitGroup, cfg Config, ms *meta.Store, members *cluster.Cluster,
	nodes *remoteNodes, reg prometheus.Registerer, log *slog.Logger) (*heal.Healer, error) {
	hc := heal.Default()
	hc.Meta = ms
	hc.Nodes = healNodes{nodes}
	hc.Alive = func(id string) bool {
		if _, ok := nodes.local.get(id); ok {
			return true // a store of this process is up whatever gossip says
		}
		for _, m := range members.Members() {
			if m.ID == id {
				return m.Status == cluster.StatusAlive
			}
		}
		return false
	}
	hc.Leader = func() bool { return ms.Raft().State() == raft.Leader }
	if cfg.RepairRate != 0 {
		hc.Rate = cfg.RepairRate
	}
	if cfg.HealInterval != 0 {
		hc.Interval = cfg.HealInterval
	}
	if cfg.GCGrace != 0 {
		hc.GCGrace = cfg.GCGrace
	}
	hc.Logger = log.With("component", "heal")
	hc.Metrics = reg
	h, err := heal.New(hc)
	if err != nil {
		return nil, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = h.Run(ctx)
	}()
	return h, nil
}

// healNodes gives healing the storage nodes' shards: those of this
// process directly, the others through their node API.
type healNodes struct{ n *remoteNodes }

func (h healNodes) Shards(id string) (heal.ShardStore, error) {
	if st, ok := h.n.local.get(id); ok {
		return localHealShards{st}, nil
	}
	return h.n.client(id)
}

// localHealShards is a storage node of this process as healing sees it:
// healing computed every shard it puts from the bytes in this process.
type localHealShards struct{ localStore }

func (l localHealShards) Put(ctx context.Context, id cid.Cid, data []byte) error {
	return l.PutComputed(ctx, id, data)
}
