package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"

	"cairn/erasure"
	"cairn/internal/admin"
	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/heal"
	"cairn/internal/meta"
)

// startHealer runs healing on a meta node, and its auditor: they act
// while the node leads the metadata group, on the local store, and reach
// storage nodes as the gateway does. It stops with ctx; wg waits for it.
func startHealer(ctx context.Context, wg *sync.WaitGroup, cfg Config, ms *meta.Store, members *cluster.Cluster,
	nodes *remoteNodes, sealer *erasure.Sealer, reg prometheus.Registerer, log *slog.Logger) (*heal.Healer, error) {
	hc := heal.Default()
	hc.Meta = ms
	hc.Sealer = sealer
	hc.Nodes = healNodes{nodes}
	hc.Alive = func(id string) bool {
		if _, ok := nodes.local.get(id); ok {
			return true // a store of this process is up whatever gossip says
		}
		return members.Alive(id)
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
	if cfg.AuditRate != 0 {
		hc.AuditRate = cfg.AuditRate
	}
	if cfg.EjectThreshold != 0 {
		hc.EjectThreshold = cfg.EjectThreshold
	}
	hc.K = cfg.K
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

// healForwardTimeout bounds one forward of a heal request to another
// node, so that a meta node that does not answer leaves time to ask the
// next.
const healForwardTimeout = 3 * time.Second

// leaderHealing is admin.Healing on a node: the node's own healer while
// it leads the metadata group, else the leader's, over its admin API
// with ?local=true (one hop; the leader answers or refuses, it does not
// forward again).
type leaderHealing struct {
	self    string
	h       *heal.Healer // nil on a node without the meta role
	ms      *meta.Store  // nil likewise
	members *cluster.Cluster
	http    *http.Client
	token   string
}

var _ admin.Healing = (*leaderHealing)(nil)

func (l *leaderHealing) leads() bool {
	return l.h != nil && l.ms.Raft().State() == raft.Leader
}

func (l *leaderHealing) Status(ctx context.Context, local bool) (*adminapi.HealStatus, error) {
	if l.leads() {
		s := l.h.Status()
		return admin.HealStatus(&s, l.self), nil
	}
	if local {
		return nil, fmt.Errorf("node %s does not lead the metadata group: %w", l.self, meta.ErrNotLeader)
	}
	var hs *adminapi.HealStatus
	err := l.forward(ctx, func(ctx context.Context, c *adminapi.Client) error {
		var err error
		hs, err = c.LocalHealStatus(ctx)
		return err
	})
	return hs, err
}

func (l *leaderHealing) Kick(ctx context.Context, local bool) error {
	if l.leads() {
		l.h.Kick()
		return nil
	}
	if local {
		return fmt.Errorf("node %s does not lead the metadata group: %w", l.self, meta.ErrNotLeader)
	}
	return l.forward(ctx, func(ctx context.Context, c *adminapi.Client) error { return c.LocalKick(ctx) })
}

// forward calls f on the admin API of the meta nodes that may lead, the
// one this node's Raft names first, until one answers.
func (l *leaderHealing) forward(ctx context.Context, f func(context.Context, *adminapi.Client) error) error {
	var tried []string
	for _, u := range l.candidates() {
		c, err := adminapi.NewClient(u, l.token, l.http)
		if err == nil {
			fctx, cancel := context.WithTimeout(ctx, healForwardTimeout)
			err = f(fctx, c)
			cancel()
		}
		if err == nil {
			return nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", u, err))
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", strings.Join(tried, "; "), context.Cause(ctx))
		}
	}
	if len(tried) == 0 {
		return fmt.Errorf("no other meta node is alive in gossip: %w", meta.ErrNotLeader)
	}
	return fmt.Errorf("no node leading the metadata group answered (%s): %w", strings.Join(tried, "; "), meta.ErrNotLeader)
}

// candidates returns the admin API base URLs of the alive meta nodes but
// this one: the leader this node's Raft knows first.
func (l *leaderHealing) candidates() []string {
	var leader string
	if l.ms != nil {
		_, id := l.ms.Raft().LeaderWithID()
		leader = string(id)
	}
	var first, rest []string
	for _, m := range l.members.Members() {
		if m.ID == l.self || !m.HasRole(cluster.RoleMeta) || m.Status != cluster.StatusAlive || m.APIAddr == "" {
			continue
		}
		if m.ID == leader {
			first = append(first, "https://"+m.APIAddr)
		} else {
			rest = append(rest, "https://"+m.APIAddr)
		}
	}
	return append(first, rest...)
}
