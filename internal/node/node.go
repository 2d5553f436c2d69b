package node

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/cluster"
	"cairn/internal/durable"
	"cairn/internal/gateway"
	"cairn/internal/heal"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/metrics"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
	"cairn/internal/pki"
	"cairn/internal/upkeep"
	"cairn/internal/version"
	"cairn/s3gw"
)

// Config is one storaged node of a real cluster. A node takes one or more
// roles: storage (StorageDir), metadata voter (Meta), S3 gateway (S3Addr).
type Config struct {
	// DataDir keeps the node's own state: its ID and, on a meta node, the
	// Raft log, snapshots and state machine.
	DataDir string
	// StorageDir, when set, makes this a storage node keeping shards there.
	StorageDir string
	// ScrubInterval is how often a storage node begins a scrub pass,
	// which reads and checks every shard it holds (0: upkeep's default).
	ScrubInterval time.Duration
	// Zone is the node's failure domain (an operator, a site, a provider
	// region). Weight is its share of storage; 0 means the capacity of
	// StorageDir in GiB.
	Zone   string
	Weight float64
	// Meta makes the node a voter of the metadata Raft group, reached on
	// RaftAddr.
	Meta     bool
	RaftAddr string
	// S3Addr, when set, makes the node an S3 gateway listening there.
	S3Addr string
	// APIAddr is the node API (shards, metadata forwarding, status): the
	// address other nodes reach this one at.
	APIAddr string
	// AdvertiseAPI, when set, is the address other nodes reach the node
	// API at, when it is not APIAddr (NAT, a port forward, a proxy).
	AdvertiseAPI string
	// GossipAddr is where the node gossips; Join lists the gossip
	// addresses of existing members (empty for the first node).
	GossipAddr string
	Join       []string
	// Secret is the cluster secret, held by the tenant's nodes (metadata
	// voters, gateways, and storage nodes the tenant runs): the cluster CA
	// and every other key derive from it. A contributor's storage node
	// runs without it, on the identity it got by enrolling with JoinToken.
	Secret []byte
	// JoinToken is a join invite (storectl node invite) that a storage
	// node without the secret enrolls with on its first start: it makes
	// its key pair and gets its certificate, bound to its node ID, role
	// and zone, and the gossip key. Later starts use what it saved.
	JoinToken string
	// AdminAddr is the operator's port: the admin API for storectl (on
	// tenant nodes, with the admin token), join enrollment, and
	// Prometheus /metrics, over plain HTTP. "" serves none.
	// AdminListener, when set, is used instead of listening on it.
	AdminAddr     string
	AdminListener net.Listener
	// ConsoleAddr, when set on a gateway, serves the web console there
	// (package console), plain HTTP. ConsoleListener, when set, is used
	// instead of listening on it.
	ConsoleAddr     string
	ConsoleListener net.Listener
	// S3CertFile and S3KeyFile, when set, make the S3 port serve HTTPS
	// with this certificate chain and key (PEM).
	S3CertFile, S3KeyFile string
	// AutoAdmit adds new storage nodes to the layout by themselves;
	// otherwise `storectl node approve` does. Grace is how long a failed
	// node keeps its place in the layout.
	AutoAdmit bool
	Grace     time.Duration
	// K and M are the stripe's data and parity shards for new writes.
	K, M int
	// Seal makes the gateway seal every new chunk (gateway.Config.Seal).
	// Off, it writes unsealed stripes, for a rolling upgrade until every
	// gateway reads sealed ones; it reads them either way. Meta and
	// gateway nodes, the tenant's, derive the sealing master key from the
	// cluster secret (sealMasterPurpose); storage nodes never hold it.
	Seal bool
	// RepairRate bounds the bytes per second that healing writes on a meta
	// node (0: heal.DefaultRate). HealInterval is the time between its
	// passes over the chunk table (0: heal's default).
	RepairRate   int64
	HealInterval time.Duration
	// GCGrace is how long a chunk stays unreferenced before healing
	// deletes its shards, and a stray shard before it is deleted (0:
	// heal.DefaultGCGrace).
	GCGrace time.Duration
	// LifecycleDay is how long a day of bucket lifecycle rules lasts on a
	// meta node (0: lifecycle.DefaultDay, a day); tests shorten it.
	LifecycleDay time.Duration
	// AuditRate is how many shards per second the meta node's auditor
	// checks over the cluster while it leads (0: heal.DefaultAuditRate;
	// negative: no audits). EjectThreshold is the ejection rule's N, the
	// failures a node's recent checks must hold before it is ejected (0:
	// heal.DefaultEjectThreshold; negative: never eject).
	AuditRate      float64
	EjectThreshold int
	// GossipProfile picks gossip timers; tests shrink them.
	GossipProfile cluster.Profile

	// NodeID names the node on its first start (default: a random ID);
	// after that the ID saved in DataDir wins, and a different NodeID is
	// an error.
	NodeID string
	// APIListener and S3Listener, when set, are used instead of listening
	// on APIAddr and S3Addr (the dev cluster and tests hand over
	// listeners on port 0). APIAddr must still be the address others reach.
	APIListener, S3Listener net.Listener
	// Local, when set, is shared by nodes of one process: a gateway reads
	// and writes the shards of a storage node in the same process
	// directly, not over HTTP. Every node has one for its own storage.
	Local *LocalStores
	// Ready, when set, is called once the node has joined the cluster and
	// serves its node API; S3Ready once the gateway serves S3 (it answers
	// 503 until it has a layout).
	Ready, S3Ready func()

	Out    io.Writer
	Logger *slog.Logger
}

// LocalStores are the storage nodes of this process, by node ID.
type LocalStores struct {
	mu     sync.Mutex
	stores map[string]localStore
}

// localStore is a storage node's store, and where the operations a
// gateway of the same process runs on it are counted.
type localStore struct {
	blob.Local
	obs nodeapi.ShardObserver
}

func (l *LocalStores) add(id string, st blob.Local, obs nodeapi.ShardObserver) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stores == nil {
		l.stores = map[string]localStore{}
	}
	l.stores[id] = localStore{st, obs}
}

func (l *LocalStores) remove(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.stores, id)
}

func (l *LocalStores) get(id string) (localStore, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.stores[id]
	return st, ok
}

// DefaultConfig returns a node config with the defaults of storaged.
func DefaultConfig() Config {
	return Config{
		DataDir:    "./data",
		APIAddr:    "127.0.0.1:7071",
		AdminAddr:  "127.0.0.1:7070",
		GossipAddr: "127.0.0.1:7946",
		RaftAddr:   "127.0.0.1:7947",
		Zone:       "default",
		AutoAdmit:  true,
		Grace:      layout.DefaultGrace,
		K:          4,
		M:          2,
		Seal:       true,
		Out:        os.Stdout,
		Logger:     slog.New(slog.DiscardHandler),
	}
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("a data directory is required (--data)")
	case c.StorageDir == "" && !c.Meta && c.S3Addr == "":
		return errors.New("no role: give --storage DIR, --meta and/or --s3 ADDR")
	case c.Secret != nil && len(c.Secret) < 16:
		return errors.New("the cluster secret must be at least 16 bytes (--secret-file, CAIRN_CLUSTER_SECRET)")
	case c.Secret == nil && (c.Meta || c.S3Addr != ""):
		return errors.New("a metadata or gateway node holds the cluster secret (--secret-file, CAIRN_CLUSTER_SECRET); only a storage node joins with --join-token")
	case c.Secret != nil && c.JoinToken != "":
		return errors.New("--join-token is for a storage node without the cluster secret; a node with the secret needs no invite")
	case c.ConsoleAddr != "" && c.S3Addr == "":
		return errors.New("--console is served by a gateway: give --s3 ADDR too")
	case (c.S3CertFile == "") != (c.S3KeyFile == ""):
		return errors.New("--s3-cert and --s3-key go together")
	case c.APIAddr == "" || c.GossipAddr == "":
		return errors.New("--api and --gossip addresses are required")
	case c.Meta && c.RaftAddr == "":
		return errors.New("a meta node needs --raft ADDR")
	case c.K < 1 || c.M < 0:
		return fmt.Errorf("bad stripe %d+%d", c.K, c.M)
	case c.Weight < 0:
		return fmt.Errorf("--weight %g is negative", c.Weight)
	case c.ScrubInterval < 0:
		return fmt.Errorf("--scrub-interval %v is negative", c.ScrubInterval)
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// nodeID returns the node's persistent ID, creating it on first start
// (named want, or a random ID when want is empty).
func nodeID(dir, want string) (string, error) {
	path := filepath.Join(dir, "node-id")
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !idPattern.MatchString(id) {
			return "", fmt.Errorf("%s holds %q, not a node ID; restore it or remove it to become a new node", path, id)
		}
		if want != "" && want != id {
			return "", fmt.Errorf("%s says this node is %s, not %s", path, id, want)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	id := want
	if id == "" {
		id = "n-" + randomHex(6)
	} else if !idPattern.MatchString(id) {
		return "", fmt.Errorf("node ID %q: want 1 to 64 of A-Z a-z 0-9 . _ -", id)
	}
	if err := durable.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("save node ID: %w", err)
	}
	return id, nil
}

// Run runs the node until ctx ends, then leaves the cluster and stops
// everything it started.
func Run(ctx context.Context, cfg Config) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Routine warnings of a start or stop are INFO, and warnings repeated
	// about one peer rate-limited (quietlog.go); stopping says the node
	// is on its way out.
	quiet := newQuietHandler(cfg.Logger.Handler(), time.Now)
	stopped := context.AfterFunc(ctx, func() { quiet.stopping.Store(true) })
	defer stopped()
	log := slog.New(quiet)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	id, err := nodeID(cfg.DataDir, cfg.NodeID)
	if err != nil {
		return err
	}
	log = log.With("node", id)
	t, err := newTrust(ctx, cfg, id, log.With("component", "trust"))
	if err != nil {
		return err
	}
	probes := &probeCache{t: t}
	if t.id.Peer.Zone != "" && cfg.Zone != t.id.Peer.Zone {
		// A contributor's zone is the one its invite named, bound in its
		// certificate: placement must not be gamed by choosing one.
		log.Info("the zone is the one the node's certificate names", "zone", t.id.Peer.Zone, "flag", cfg.Zone)
		cfg.Zone = t.id.Peer.Zone
	}
	if cfg.Local == nil {
		cfg.Local = new(LocalStores)
	}
	mux := http.NewServeMux()
	self := cluster.Member{ID: id, Zone: cfg.Zone, APIAddr: cfg.APIAddr, Version: version.Get().Version}
	if cfg.AdvertiseAPI != "" {
		self.APIAddr = cfg.AdvertiseAPI
	}
	// Every node has a registry of its own, served on its own operator
	// port (and to tenant peers on its node API): in dev, where several nodes share this process, each one's metrics
	// stay apart by address, and mean what they mean in a real cluster.
	// Packages with metrics register them here (metrics.Register).
	reg := metrics.NewRegistry()
	metricsHandler := metrics.Handler(reg, log.With("component", "metrics"))
	mux.Handle("GET "+metrics.Path, metricsHandler)
	// The operator's port: metrics for scrapers, and on tenant nodes the
	// admin API and enrollment (below).
	opMux := http.NewServeMux()
	opMux.Handle("GET "+metrics.Path, metricsHandler)

	var up *upkeep.Upkeep
	if cfg.StorageDir != "" {
		st, err := blob.Open(cfg.StorageDir)
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		defer st.Close()
		if cfg.Weight == 0 {
			u, err := st.Usage(ctx)
			if err != nil {
				return fmt.Errorf("storage capacity: %w", err)
			}
			cfg.Weight = max(float64(u.Capacity)/(1<<30), 0.001)
		}
		shardMetrics, err := metrics.NewShards(reg)
		if err != nil {
			return err
		}
		if up, err = newUpkeep(cfg, st, reg, log); err != nil {
			return err
		}
		served, err := withFaults(st, log)
		if err != nil {
			return err
		}
		srv, err := nodeapi.NewServer(nodeapi.ServerConfig{Store: served, Authorize: t.authorize, NodeID: id, Zone: cfg.Zone, Weight: cfg.Weight, Logger: log,
			Observer: shardMetrics.HTTP(), Scrub: nodeScrub{up}})
		if err != nil {
			return err
		}
		for _, p := range []string{"/v1/shards", "/v1/shards/", "/v1/status", "/v1/scrub"} {
			mux.Handle(p, srv)
		}
		self.Roles = append(self.Roles, cluster.RoleStorage)
		self.Weight = cfg.Weight
		cfg.Local.add(id, served, shardMetrics.Local())
		defer cfg.Local.remove(id)
	}

	var ms *meta.Store
	if cfg.Meta {
		mc := meta.Default()
		mc.Dir = filepath.Join(cfg.DataDir, "meta")
		mc.NodeID = id
		mc.BindAddr = cfg.RaftAddr
		mc.Bootstrap = len(cfg.Join) == 0
		mc.Logger = log.With("component", "raft")
		mc.ServerTLS, mc.ClientTLS = t.raftServerTLS(), t.clientTLS("", true)
		if ms, err = meta.Open(mc); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		defer ms.Close()
		self.Roles = append(self.Roles, cluster.RoleMeta)
		self.RaftAddr = cfg.RaftAddr
	}
	var s3Metrics *metrics.S3
	if cfg.S3Addr != "" {
		self.Roles = append(self.Roles, cluster.RoleGateway)
		self.S3Addr = cfg.S3Addr
		if s3Metrics, err = metrics.NewS3(reg); err != nil {
			return err
		}
	}
	roles := make([]string, len(self.Roles))
	for i, r := range self.Roles {
		roles[i] = string(r)
	}
	if err := metrics.RegisterNodeInfo(reg, id, cfg.Zone, roles); err != nil {
		return err
	}

	ccfg := cluster.DefaultConfig()
	join := cfg.Join
	if len(join) == 0 && cfg.JoinToken != "" {
		if inv, _, err := pki.ParseToken(strings.TrimSpace(cfg.JoinToken)); err == nil {
			join = inv.Gossip
		}
	}
	ccfg.Self, ccfg.BindAddr, ccfg.Join, ccfg.Secret, ccfg.GossipKey = self, cfg.GossipAddr, join, cfg.Secret, t.gossipKey
	ccfg.Profile = cfg.GossipProfile
	ccfg.Logger = log.With("component", "gossip")
	members, err := cluster.Start(ccfg)
	if err != nil {
		return fmt.Errorf("join the cluster: %w", err)
	}
	quiet.members.Store(members)
	defer func() {
		quiet.stopping.Store(true) // also when Run ends on an error
		lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer lcancel()
		if err := members.Leave(lctx); err != nil {
			log.Warn("leave the cluster", "err", err)
		}
		members.Close()
	}()

	// Everything started from here on stops, and is waited for, before the
	// gossip member leaves and the metadata store closes (defers run in
	// reverse).
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	// apiURL maps a raft address to that meta node's API, for redirects.
	apiURL := func(raftAddr string) string {
		for _, m := range members.Members() {
			if m.RaftAddr == raftAddr && m.Status == cluster.StatusAlive {
				return "https://" + m.APIAddr
			}
		}
		return ""
	}
	if up != nil {
		// Scrub and compaction stop before the store closes.
		wg.Add(1)
		go func() { defer wg.Done(); _ = up.Run(ctx) }()
	}
	if ms != nil {
		srv, err := metarpc.NewServer(metarpc.ServerConfig{Store: ms, Authorize: t.authorize, Logger: log, LeaderAPI: apiURL})
		if err != nil {
			return err
		}
		mux.Handle(metarpc.PathPrefix, srv)
		wg.Add(2)
		go func() {
			defer wg.Done()
			activity := func() (int64, bool) { return int64(ms.Activity()), false }
			releaseWhenIdle(ctx, activity, metaQuiet, func() {
				if err := ms.ReleaseMemory(); err != nil {
					log.Debug("release the metadata store's memory map", "err", err)
				}
			})
		}()
		go func() {
			defer wg.Done()
			(&steward{ms: ms, members: members, cfg: cfg, probes: probes, log: log.With("component", "steward")}).run(ctx)
		}()
	}

	// Every node reaches the metadata (through the leader) and the storage
	// nodes: the gateway for data, the admin API for status.
	hc := &http.Client{Transport: t.tenantTransport()}
	mc, err := metarpc.NewClient(metarpc.ClientConfig{
		Leader: func() string { return metaAPI(members, probes) },
		HTTP:   hc,
	})
	if err != nil {
		return err
	}
	nodes := &remoteNodes{members: members, trust: t, http: hc, local: cfg.Local, clients: map[string]*nodeapi.Client{}}
	if t.tenant() {
		// Revocations come from the layout: a tenant node refuses the
		// certificates of removed nodes from the moment it sees them.
		// Through the leader: a follower's store answers reads only on
		// the leader.
		wg.Add(1)
		go func() { defer wg.Done(); followRevocations(ctx, t, mc, log) }()
	}
	// The tenant's nodes (meta: healing; gateway) hold the sealing key.
	var sealer *erasure.Sealer
	if ms != nil || cfg.S3Addr != "" {
		if sealer, err = newSealer(cfg.Secret); err != nil {
			return err
		}
	}
	var healer *heal.Healer
	if ms != nil {
		if healer, err = startHealer(ctx, &wg, cfg, ms, members, nodes, sealer, reg, log); err != nil {
			return err
		}
		if err := startLifecycle(ctx, &wg, cfg, ms, reg, log); err != nil {
			return err
		}
	}
	var enroll *enroller
	var adminSrv http.Handler
	if t.tenant() {
		scheme := "http"
		if cfg.S3CertFile != "" {
			scheme = "https"
		}
		enroll = &enroller{t: t, meta: mc, members: members, scheme: scheme, log: log.With("component", "enroll"), now: time.Now}
		if adminSrv, err = mountAdmin(mux, opMux, cfg, id, ms, healer, mc, members, nodes, enroll, log); err != nil {
			return err
		}
		opMux.Handle(enrollPath, enroll)
	}

	// The node API serves first: a gateway on this node reaches the
	// metadata through it, even when the metadata lives right here.
	apiLn := cfg.APIListener
	if apiLn == nil {
		if apiLn, err = net.Listen("tcp", cfg.APIAddr); err != nil {
			return fmt.Errorf("listen for the node API on %s: %w", cfg.APIAddr, err)
		}
	}
	errc := make(chan error, 2)
	var servers []*http.Server
	serve := func(h http.Handler, ln net.Listener, headerTimeout time.Duration) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: headerTimeout, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		for _, srv := range servers {
			if serr := srv.Shutdown(sctx); serr != nil {
				srv.Close()
			}
		}
	}()
	// Every node API connection is mutual TLS with the cluster CA, and
	// only tenant peers are served.
	serve(t.requireTenant(mux), nodeapi.NewTLSListener(apiLn, t.serverTLS(), log), 10*time.Second)
	opAddr := ""
	if ln := cfg.AdminListener; ln != nil || cfg.AdminAddr != "" {
		if ln == nil {
			if ln, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
				return fmt.Errorf("listen for the admin API on %s: %w", cfg.AdminAddr, err)
			}
		}
		opAddr = ln.Addr().String()
		serve(opMux, ln, 10*time.Second)
	}
	var consoleGW atomic.Pointer[gateway.Gateway]
	consoleURL, err := startConsole(ctx, &wg, cfg, adminSrv, reg, &consoleGW, serve, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, "Cairn node %s: roles %v, zone %s\n", id, self.Roles, cfg.Zone)
	fmt.Fprintf(cfg.Out, "Node API:     https://%s (mutual TLS)\nGossip:       %s\n", apiLn.Addr(), members.GossipAddr())
	if opAddr != "" {
		fmt.Fprintf(cfg.Out, "Metrics:      http://%s%s\n", opAddr, metrics.Path)
	}
	if consoleURL != "" {
		fmt.Fprintf(cfg.Out, "Console:      %s\n", consoleURL)
	}
	switch {
	case t.tenant() && opAddr != "":
		fmt.Fprintf(cfg.Out, "Admin:        storectl --node http://%s --token-file %s\n", opAddr, filepath.Join(cfg.DataDir, adminTokenFile))
	case t.tenant():
		fmt.Fprintf(cfg.Out, "Admin:        none (no --admin address)\n")
	default:
		fmt.Fprintf(cfg.Out, "Admin:        none: a contributor's storage node has no admin API (certificate for %s, role %s, zone %s)\n",
			t.id.Peer.NodeID, t.id.Peer.Role, t.id.Peer.Zone)
	}
	if cfg.Ready != nil {
		cfg.Ready()
	}

	if cfg.S3Addr != "" {
		// S3 listens at once, and answers 503 until the gateway has a
		// layout to place objects under (in approval mode, until an
		// operator approves storage nodes).
		s3Ln := cfg.S3Listener
		if s3Ln == nil {
			if s3Ln, err = net.Listen("tcp", cfg.S3Addr); err != nil {
				return fmt.Errorf("listen for S3 on %s: %w", cfg.S3Addr, err)
			}
		}
		var s3 atomic.Pointer[s3gw.Server]
		var load s3Load
		// Load balancers and orchestrators probe the S3 port itself
		// (s3gw.Health): ready once the gateway has a layout, and for as
		// long as its layout loop reaches the metadata leader.
		ready := newReadiness(time.Now)
		health := &s3gw.Health{Ready: ready.ready}
		wg.Add(1)
		go func() { defer wg.Done(); releaseWhenIdle(ctx, load.activity, 0, releaseGatewayMemory) }()
		if cfg.S3CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.S3CertFile, cfg.S3KeyFile)
			if err != nil {
				return fmt.Errorf("S3 certificate: %w", err)
			}
			s3Ln = tls.NewListener(s3Ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		}
		serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == enrollPath {
				enroll.ServeHTTP(w, r) // no bucket is named with "_"
				return
			}
			if s3gw.IsHealthPath(r.URL.Path) {
				health.ServeHTTP(w, r) // not counted as S3 requests
				return
			}
			load.started.Add(1)
			load.active.Add(1)
			defer load.active.Add(-1)
			if h := s3.Load(); h != nil {
				h.ServeHTTP(w, r)
				return
			}
			notReady(w)
		}), s3Ln, 30*time.Second)
		// What reads find missing or wrong goes to healing, through the
		// metadata leader.
		reporter := heal.NewReporter(mc, log.With("component", "heal-report"))
		wg.Add(2)
		go func() { defer wg.Done(); _ = reporter.Run(ctx) }()
		go func() {
			defer wg.Done()
			gw, err := newClusterGateway(ctx, cfg, mc, nodes, sealer, reporter.Report, ready, log)
			if err != nil {
				return // ctx ended
			}
			h, err := s3gw.New(s3gw.Config{Backend: gw.Gateway, Credentials: gw.Gateway, Logger: log.With("component", "s3"), Observer: s3Metrics})
			if err != nil {
				log.Error("S3 gateway", "err", err)
				return
			}
			s3.Store(h)
			consoleGW.Store(gw.Gateway)
			ready.set(nil)
			log.Info("S3 gateway ready", "addr", s3Ln.Addr().String())
			fmt.Fprintf(cfg.Out, "S3 ready:     %s://%s\n", enroll.scheme, s3Ln.Addr())
			if cfg.S3Ready != nil {
				cfg.S3Ready()
			}
			gw.refreshLoop(ctx)
		}()
		fmt.Fprintf(cfg.Out, "S3 endpoint:  %s://%s (answers 503 until the gateway has a layout)\n", enroll.scheme, s3Ln.Addr())
	}
	log.Info("node running", "roles", self.Roles, "zone", cfg.Zone, "api", cfg.APIAddr)

	select {
	case err = <-errc:
		err = fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	case <-members.Done():
		err = fmt.Errorf("gossip stopped: %w", members.Err())
	}
	cancel()
	return err
}

// idleAfter is how long a gateway or metadata store must see no request
// before the node hands memory back to the operating system.
const idleAfter = 5 * time.Second

// s3Load counts a gateway's S3 requests: started, and still running.
type s3Load struct{ started, active atomic.Int64 }

// activity returns the count of requests started, and whether one is
// still running.
func (l *s3Load) activity() (int64, bool) { return l.started.Load(), l.active.Load() > 0 }

// releaseGatewayMemory returns the memory a burst of requests left behind
// (the chunk buffer pool, a grown heap): an idle process would otherwise
// keep it until the runtime's next forced collection, minutes later.
func releaseGatewayMemory() {
	// Twice: the first collection moves the chunk buffer pool to its
	// victim cache, the second drops it.
	debug.FreeOSMemory()
	debug.FreeOSMemory()
}

// metaQuiet is how many state machine reads and entries in idleAfter
// still count as idle: the steward reads the layout every second and
// every gateway every two seconds, with no load at all.
const metaQuiet = 256

// releaseWhenIdle looks at activity every idleAfter and calls release
// once a burst of it has ended; see releaseOnTicks.
func releaseWhenIdle(ctx context.Context, activity func() (n int64, busy bool), quiet int64, release func()) {
	t := time.NewTicker(idleAfter)
	defer t.Stop()
	releaseOnTicks(ctx, t.C, activity, quiet, release)
}

// releaseOnTicks calls release once a burst of activity has ended: when
// the interval between two ticks saw more than quiet operations, and a
// later one saw at most quiet and nothing running. A request still running
// (a large PUT finishing after its burst) keeps it waiting.
func releaseOnTicks(ctx context.Context, tick <-chan time.Time, activity func() (n int64, busy bool), quiet int64, release func()) {
	var seen int64
	burst := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		n, busy := activity()
		switch {
		case n-seen > quiet:
			burst = true
		case burst && !busy:
			release()
			burst = false
		}
		seen = n
	}
}

// notReady answers an S3 request while the gateway waits for its first
// layout: 503 ServiceUnavailable, which S3 clients retry.
func notReady(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Retry-After", "2")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, xml.Header+"<Error><Code>ServiceUnavailable</Code>"+
		"<Message>The cluster has no storage nodes in its layout yet (approve some with storectl node approve, or wait for them to join); please retry.</Message></Error>")
}

// sealMasterPurpose is what the sealing master key is derived for from
// the cluster secret (nodeauth.DeriveKey), until tenants bring a key of
// their own.
const sealMasterPurpose = "seal master v1"

// newSealer returns the tenant's sealer, its master key derived from the
// cluster secret.
func newSealer(secret []byte) (*erasure.Sealer, error) {
	master, err := nodeauth.DeriveKey(secret, sealMasterPurpose)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return erasure.NewSealer(master)
}

func newPlacementKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return k
}
