package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/cluster"
	"cairn/internal/gateway"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
	"cairn/internal/pki"
)

// steward does the metadata leader's housekeeping: it makes alive meta
// members Raft voters and keeps the layout in step with membership. Only
// the leader acts; the others wait for their turn.
type steward struct {
	ms      *meta.Store
	members *cluster.Cluster
	cfg     Config
	// probes confirm what gossip claims about a member (its ID at its
	// address, its role, a contributor's zone) by its certificate.
	probes *probeCache
	log    *slog.Logger
}

const stewardInterval = time.Second

func (s *steward) run(ctx context.Context) {
	t := time.NewTicker(stewardInterval)
	defer t.Stop()
	for {
		if s.ms.Raft().State() == raft.Leader {
			s.addVoters()
			if err := s.reconcile(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("layout reconcile", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.members.Events():
		}
	}
}

// addVoters adds every alive meta member the Raft configuration lacks.
func (s *steward) addVoters() {
	f := s.ms.Raft().GetConfiguration()
	if err := f.Error(); err != nil {
		return
	}
	have := map[raft.ServerID]bool{}
	for _, srv := range f.Configuration().Servers {
		have[srv.ID] = true
	}
	for _, m := range s.members.Members() {
		if !m.HasRole(cluster.RoleMeta) || m.Status != cluster.StatusAlive || have[raft.ServerID(m.ID)] {
			continue
		}
		// Gossip's word that a member is a metadata node is not enough:
		// its certificate must say tenant (a contributor's storage node
		// that claims the meta role is refused here, and by Raft's TLS).
		if p, err := s.probes.check(context.Background(), m.ID, m.APIAddr); err != nil || p.Role != pki.RoleTenant {
			if err == nil {
				s.log.Warn("refused a member claiming the meta role: its certificate says otherwise", "member", m.ID, "role", p.Role)
			}
			continue
		}
		err := s.ms.Raft().AddVoter(raft.ServerID(m.ID), raft.ServerAddress(m.RaftAddr), 0, 10*time.Second).Error()
		if err != nil {
			s.log.Warn("add metadata voter", "member", m.ID, "err", err)
			continue
		}
		s.log.Info("added metadata voter", "member", m.ID, "raft", m.RaftAddr)
	}
}

// reconcile stores the next layout if membership changed it.
func (s *steward) reconcile(ctx context.Context) error {
	cur, err := s.ms.Layout(ctx)
	if err != nil {
		return err
	}
	if cur == nil {
		// The first layout is stored even without nodes (approval mode
		// admits none by itself): it fixes the placement key, and gives
		// storectl node approve a layout to change.
		cur = layout.Initial(newPlacementKey())
		cur.Version = 1
		if err := s.ms.SetLayout(ctx, cur); err != nil {
			return err
		}
	}
	var obs []layout.Observation
	for _, m := range s.members.Members() {
		if !m.HasRole(cluster.RoleStorage) {
			continue
		}
		o := layout.Observation{ID: m.ID, Zone: m.Zone, Weight: m.Weight, Addr: m.APIAddr, Alive: m.Status == cluster.StatusAlive}
		if !o.Alive {
			o.DownSince = m.Since
			if !inLayout(cur, m.ID) {
				continue // not admitted on gossip's word alone
			}
		} else {
			// Who a member is, and a contributor's zone, come from its
			// certificate: a member whose certificate does not confirm
			// its claims is not admitted, nor its entry changed.
			p, err := s.probes.check(ctx, m.ID, m.APIAddr)
			if err != nil {
				continue
			}
			if p.Role == pki.RoleStorage {
				o.Zone = p.Zone
			}
		}
		obs = append(obs, o)
	}
	next, changed := layout.Next(cur, obs, layout.Policy{AutoAdmit: s.cfg.AutoAdmit, Grace: s.cfg.Grace}, time.Now())
	if !changed {
		return nil
	}
	if err := s.ms.SetLayout(ctx, next); err != nil {
		return err
	}
	s.log.Info("layout changed", "version", next.Version, "nodes", len(next.Nodes))
	return nil
}

func inLayout(l *meta.Layout, id string) bool {
	for _, n := range l.Nodes {
		if n.ID == id {
			return true
		}
	}
	return false
}

// clusterGateway is a gateway whose metadata lives with the Raft leader
// and whose shards live on remote storage nodes.
type clusterGateway struct {
	*gateway.Gateway
	ready *readiness
	log   *slog.Logger
}

// newClusterGateway returns the gateway once the metadata leader has a
// layout with storage nodes, recording in ready why it waits meanwhile.
func newClusterGateway(ctx context.Context, cfg Config, mc *metarpc.Client, nodes *remoteNodes, sealer *erasure.Sealer,
	report func([]byte, int, string, bool), ready *readiness, log *slog.Logger) (*clusterGateway, error) {
	gcfg := gateway.Default()
	gcfg.Meta, gcfg.Nodes, gcfg.K, gcfg.M = mc, nodes, cfg.K, cfg.M
	gcfg.Sealer, gcfg.Seal = sealer, cfg.Seal
	gcfg.Down, gcfg.Report = nodes.down, report
	gcfg.Logger = log.With("component", "gateway")
	// The first layout appears once the leader has seen storage nodes.
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		g, err := gateway.New(ctx, gcfg)
		if err == nil {
			return &clusterGateway{Gateway: g, ready: ready, log: log}, nil
		}
		ready.set(fmt.Errorf("waiting for a storage layout: %w", err))
		log.Info("waiting for a storage layout", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// refreshTimeout bounds one layout refresh: a gateway that cannot reach
// the metadata leader for that long says it is not ready.
const refreshTimeout = 10 * time.Second

// refreshLoop picks up new layout versions for new writes, and keeps
// the gateway's readiness: ready while the refresh reaches the leader.
func (g *clusterGateway) refreshLoop(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	failing := false // a warning when refreshes start failing, not every 2 s
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
			err := g.Refresh(rctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			g.ready.set(err)
			switch {
			case err != nil && !failing:
				g.log.Warn("refresh layout: not ready until the metadata leader answers", "err", err)
			case err != nil:
				g.log.Debug("refresh layout", "err", err)
			case failing:
				g.log.Info("refresh layout: the metadata leader answers again; ready")
			}
			failing = err != nil
		}
	}
}

// metaAPI returns the API URL of a metadata node to ask first: this node
// if it is one, else any alive meta member. A follower answers NotLeader
// with the leader's URL, and the client follows it.
//
// A member is asked only once its certificate confirmed that it is a
// tenant node: gossip's claim that it has the meta role is not enough.
func metaAPI(members *cluster.Cluster, probes *probeCache) string {
	if self := members.Self(); self.HasRole(cluster.RoleMeta) {
		return "https://" + self.APIAddr
	}
	for _, m := range members.Members() {
		if !m.HasRole(cluster.RoleMeta) || m.Status != cluster.StatusAlive {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, err := probes.check(ctx, m.ID, m.APIAddr)
		cancel()
		if err == nil && p.Role == pki.RoleTenant {
			return "https://" + m.APIAddr
		}
	}
	return ""
}

// remoteNodes reaches storage nodes by ID through their node API, at the
// address gossip currently gives for them.
type remoteNodes struct {
	members *cluster.Cluster
	trust   *trust
	http    *http.Client // to tenant nodes
	local   *LocalStores

	mu      sync.Mutex
	clients map[string]*nodeapi.Client // by node ID and address
}

func (n *remoteNodes) Shards(id string) (gateway.ShardStore, error) {
	// A store of this process is up whatever gossip says: under load,
	// gossip can declare a node of the same process failed for a moment.
	if st, ok := n.local.get(id); ok {
		return localShards(st), nil
	}
	return n.client(id)
}

// down reports whether a storage node is known to be down in this node's
// gossip view: its status is not alive, or gossip does not know it (the
// gateway asks only of nodes in the layout). A store of this process is
// never down, as in Shards. It is the gateway's Config.Down: new stripes
// avoid these nodes from the moment gossip declares them failed, long
// before the layout drops them (Config.Grace).
func (n *remoteNodes) down(id string) bool {
	if _, ok := n.local.get(id); ok {
		return false
	}
	return !n.members.Alive(id)
}

// Both kinds of shard store may vouch for what they read (VerifiesReads),
// so the gateway does not hash those shards a second time.
var (
	_ gateway.VerifyingStore = (*nodeapi.Client)(nil)
	_ gateway.VerifyingStore = localShards{}
)

// localShards is a storage node of this process as the gateway sees it:
// the gateway named every shard itself (or computed its CID from its
// bytes), and the bytes never left the process, so the store does not
// hash them again. What it does is counted in the storage node's shard
// metrics, as its node API would count it.
type localShards localStore

func (l localShards) Put(ctx context.Context, id cid.Cid, data []byte) error {
	start := time.Now()
	err := l.PutComputed(ctx, id, data)
	l.obs.ObserveShard(nodeapi.ShardPut, nodeapi.ResultOf(err), int64(len(data)), time.Since(start))
	return err
}

func (l localShards) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	start := time.Now()
	data, err := l.Local.Get(ctx, id, dst)
	l.obs.ObserveShard(nodeapi.ShardGet, nodeapi.ResultOf(err), int64(len(data)), time.Since(start))
	return data, err
}

// client returns a node API client for the storage node id, which must be
// alive in this node's gossip view.
func (n *remoteNodes) client(id string) (*nodeapi.Client, error) {
	var addr string
	for _, m := range n.members.Members() {
		if m.ID == id {
			if m.Status != cluster.StatusAlive {
				return nil, &nodeDownError{id: id, status: string(m.Status)}
			}
			addr = m.APIAddr
		}
	}
	if addr == "" {
		return nil, &nodeDownError{id: id, status: "unknown to gossip"}
	}
	key := id + " " + addr
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.clients[key]; ok {
		return c, nil
	}
	n.evict()
	// Each node has a transport of its own, whose TLS config accepts
	// only a certificate naming that node: gossip gives the address, the
	// handshake proves who answers there.
	c, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: "https://" + addr, HTTP: &http.Client{Transport: n.trust.nodeTransport(id)}})
	if err != nil {
		return nil, err
	}
	n.clients[key] = c
	return c, nil
}

// maxClients bounds the client cache; addresses that changed leave stale
// entries behind, dropped all at once.
const maxClients = 4096

func (n *remoteNodes) evict() {
	if len(n.clients) >= maxClients {
		clear(n.clients)
	}
}

type nodeDownError struct{ id, status string }

func (e *nodeDownError) Error() string { return "storage node " + e.id + " is " + e.status }
