// Package node runs a Cairn node: its storage, metadata and gateway roles,
// wired together, until its context ends.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cairn/internal/cluster"
	"cairn/internal/durable"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
)

// DevConfig configures the embedded dev cluster: one process, several
// storage nodes over directories in several zones, a single-voter Raft
// group, and the S3 gateway — the same code paths a real cluster runs.
type DevConfig struct {
	// DataDir holds everything: metadata, node directories, credentials.
	DataDir string
	// S3Addr is the S3 listen address; port 0 picks a free port.
	S3Addr string
	// ConsoleAddr is where the gateway serves the web console; "" serves
	// none, port 0 picks a free port.
	ConsoleAddr string
	// AdminAddr is where the metadata node serves the admin API and its
	// metrics: storectl's default, 127.0.0.1:7070, unless set; port 0
	// picks a free port. The other nodes' operator ports are free ones.
	AdminAddr string
	// Storectl is how the banner runs storectl (the binary beside
	// storaged, ./bin/storectl after make build); default "storectl".
	Storectl string
	// S3CertFile and S3KeyFile, when set, make S3 HTTPS (Config's).
	S3CertFile, S3KeyFile string
	// AccessKey and SecretKey are the S3 credentials. When empty they are
	// read from DataDir/credentials.json, or generated and saved there.
	AccessKey, SecretKey string
	// Nodes and Zones shape the cluster when it is first created; after
	// that the stored layout wins.
	Nodes, Zones int
	// K and M are the stripe's data and parity shards.
	K, M int
	// Seal makes the gateway seal new chunks (Config.Seal).
	Seal bool
	// RepairRate, HealInterval, GCGrace, AuditRate and EjectThreshold
	// are the metadata node's (Config).
	RepairRate     int64
	HealInterval   time.Duration
	GCGrace        time.Duration
	AuditRate      float64
	EjectThreshold int
	// LifecycleDay is the metadata node's (Config).
	LifecycleDay time.Duration
	// ScrubInterval is the storage nodes' (Config).
	ScrubInterval time.Duration
	// Out receives the human-readable start banner (endpoint, keys).
	Out    io.Writer
	Logger *slog.Logger
}

// DefaultDev returns the dev cluster defaults of `storaged --dev`.
func DefaultDev() DevConfig {
	return DevConfig{
		DataDir:   "./data",
		S3Addr:    "127.0.0.1:9000",
		AdminAddr: "127.0.0.1:7070",
		Storectl:  "storectl",
		Nodes:     6,
		Zones:     3,
		K:         4,
		M:         2,
		Seal:      true,
		Out:       os.Stdout,
		Logger:    slog.New(slog.DiscardHandler),

		// The console listens beside S3, on the next port.
		ConsoleAddr: "127.0.0.1:9001",
	}
}

// Validate reports the first thing wrong with c.
func (c *DevConfig) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("dev: a data directory is required (--data)")
	case c.S3Addr == "":
		return errors.New("dev: an S3 listen address is required (--s3)")
	case c.AdminAddr == "":
		return errors.New("dev: an admin API address is required (--admin; port 0 picks a free one)")
	case c.Nodes < 1 || c.Zones < 1 || c.Zones > c.Nodes:
		return fmt.Errorf("dev: %d nodes in %d zones: want 1 <= zones <= nodes", c.Nodes, c.Zones)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("dev: set both CAIRN_ACCESS_KEY and CAIRN_SECRET_KEY, or neither")
	}
	return nil
}

// RunDev runs the dev cluster until ctx ends, then shuts it down cleanly.
// It is a thin wrapper over Run: Nodes storage nodes (the first also the
// single metadata voter) and one gateway node, each with its own data dir,
// node API, gossip and (for the meta node) Raft on loopback ports, sharing
// a cluster secret kept in the data dir. Shards of the process's own
// storage nodes are read and written directly, not over HTTP.
func RunDev(ctx context.Context, cfg DevConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	for _, old := range []string{"meta", "nodes"} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, old)); err == nil {
			return fmt.Errorf("%s was made by an older storaged --dev (it has %s/); remove it or give another --data", cfg.DataDir, old)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	secret, err := devSecret(cfg.DataDir)
	if err != nil {
		return err
	}
	s3Ln, err := net.Listen("tcp", cfg.S3Addr)
	if err != nil {
		return fmt.Errorf("listen for S3 on %s: %w", cfg.S3Addr, err)
	}
	defer s3Ln.Close()
	var consoleLn net.Listener
	if cfg.ConsoleAddr != "" {
		if consoleLn, err = net.Listen("tcp", cfg.ConsoleAddr); err != nil {
			return fmt.Errorf("listen for the console on %s (--console ADDR picks another, --console \"\" none): %w", cfg.ConsoleAddr, err)
		}
		defer consoleLn.Close()
	}

	local := new(LocalStores)
	var nodes []Config
	for i := range cfg.Nodes {
		c := DefaultConfig()
		c.NodeID = fmt.Sprintf("dev-%d", i+1)
		c.DataDir = filepath.Join(cfg.DataDir, c.NodeID)
		c.StorageDir = filepath.Join(c.DataDir, "shards")
		c.Zone = fmt.Sprintf("zone-%c", 'a'+i%cfg.Zones)
		c.Weight = 1
		if i == 0 {
			c.Meta = true
		}
		nodes = append(nodes, c)
	}
	gw := DefaultConfig()
	gw.NodeID, gw.DataDir, gw.Zone = "dev-gateway", filepath.Join(cfg.DataDir, "dev-gateway"), "zone-a"
	gw.S3Addr, gw.S3Listener = s3Ln.Addr().String(), s3Ln
	gw.S3CertFile, gw.S3KeyFile = cfg.S3CertFile, cfg.S3KeyFile
	if consoleLn != nil {
		gw.ConsoleAddr, gw.ConsoleListener = consoleLn.Addr().String(), consoleLn
	}
	nodes = append(nodes, gw)
	// Gossip and Raft bind their own ports: reserve free ones, and free
	// them only once every listener of this process is open, so that no
	// node API takes a port meant for gossip.
	var reserved []net.Listener
	reserve := func() (string, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("find a free port: %w", err)
		}
		reserved = append(reserved, l)
		return l.Addr().String(), nil
	}
	for i := range nodes {
		c := &nodes[i]
		apiLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen for a node API: %w", err)
		}
		defer apiLn.Close()
		c.APIListener, c.APIAddr = apiLn, apiLn.Addr().String()
		// Each node's operator port (metrics; admin API) on a port of its
		// own; the metadata node's where storectl looks by default.
		opAddr := "127.0.0.1:0"
		if i == 0 {
			opAddr = cfg.AdminAddr
		}
		opLn, err := net.Listen("tcp", opAddr)
		if err != nil {
			if i == 0 {
				return fmt.Errorf("listen for the admin API on %s: %w (another storaged --dev? give --admin ADDR, port 0 for a free one)", opAddr, err)
			}
			return fmt.Errorf("listen for an admin API: %w", err)
		}
		defer opLn.Close()
		c.AdminListener, c.AdminAddr = opLn, opLn.Addr().String()
		if c.GossipAddr, err = reserve(); err != nil {
			return err
		}
		if c.RaftAddr, err = reserve(); err != nil {
			return err
		}
		if i > 0 {
			c.Join = []string{nodes[0].GossipAddr}
		}
		c.Secret, c.Local, c.K, c.M, c.Seal = secret, local, cfg.K, cfg.M, cfg.Seal
		c.RepairRate, c.HealInterval, c.GCGrace = cfg.RepairRate, cfg.HealInterval, cfg.GCGrace
		c.AuditRate, c.EjectThreshold = cfg.AuditRate, cfg.EjectThreshold
		c.LifecycleDay = cfg.LifecycleDay
		c.ScrubInterval = cfg.ScrubInterval
		c.GossipProfile = cluster.ProfileLocal
		c.Out, c.Logger = io.Discard, log
	}
	for _, l := range reserved {
		l.Close()
	}
	gw = nodes[len(nodes)-1]

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	running := 0
	errc := make(chan error, len(nodes))
	start := func(c Config) {
		running++
		go func() {
			err := Run(ctx, c)
			if err != nil {
				err = fmt.Errorf("node %s: %w", c.NodeID, err)
			}
			errc <- err
		}()
	}
	// stop ends every node and returns the first error any of them had.
	stop := func(first error) error {
		cancel()
		for ; running > 0; running-- {
			if err := <-errc; err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	// The storage nodes all join through the first; once they have, the
	// gateway that joins next learns of every one of them at its join.
	joined := make(chan struct{}, len(nodes))
	for _, c := range nodes[:len(nodes)-1] {
		c.Ready = func() { joined <- struct{}{} }
		start(c)
	}
	for range cfg.Nodes {
		select {
		case <-joined:
		case err := <-errc:
			running--
			return stop(err)
		case <-ctx.Done():
			return stop(nil)
		}
	}

	// The gateway starts once the layout has every storage node, so that
	// no object is placed on fewer; the access key is stored first.
	t, err := newTrust(ctx, Config{Secret: secret}, "dev-control", log)
	if err != nil {
		return stop(err)
	}
	mc, err := metarpc.NewClient(metarpc.ClientConfig{Leader: func() string { return "https://" + nodes[0].APIAddr },
		HTTP: &http.Client{Transport: t.tenantTransport()}})
	if err != nil {
		return stop(err)
	}
	var access, secretKey string
	ready := func(ctx context.Context) error {
		l, err := mc.Layout(ctx)
		if err != nil {
			return err
		}
		if l == nil || len(l.Nodes) < cfg.Nodes {
			return errors.New("waiting for every storage node to join the layout")
		}
		access, secretKey, err = devCredentials(ctx, mc, cfg)
		return err
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	for {
		err := ready(wctx)
		if err == nil {
			break
		}
		select {
		case err := <-errc:
			running--
			return stop(err)
		case <-wctx.Done():
			return stop(fmt.Errorf("dev cluster did not come up: %w", err))
		case <-time.After(100 * time.Millisecond):
		}
	}
	s3Ready := make(chan struct{})
	gw.S3Ready = func() { close(s3Ready) }
	start(gw)
	select {
	case err := <-errc:
		running--
		return stop(err)
	case <-ctx.Done():
		return stop(nil)
	case <-s3Ready:
	}

	sealed := "sealed"
	if !cfg.Seal {
		sealed = "unsealed (--seal=false)"
	}
	consoleAddr := ""
	if consoleLn != nil {
		consoleAddr = consoleLn.Addr().String()
	}
	devBanner(cfg.Out, cfg, bannerInfo{
		sealed: sealed, s3: s3Ln.Addr().String(), admin: nodes[0].AdminAddr,
		tokenFile: filepath.Join(nodes[0].DataDir, adminTokenFile), gwMetrics: gw.AdminAddr, storage: nodes[:len(nodes)-1],
		console: consoleAddr, access: access, secret: echoed(cfg.SecretKey, secretKey),
	})
	log.Info("serving S3", "addr", s3Ln.Addr().String())

	select {
	case err := <-errc:
		running--
		return stop(err)
	case <-ctx.Done():
	}
	err = stop(nil)
	log.Info("stopped")
	return err
}

// echoed returns the secret key the banner shows: none when it came from
// the environment (fromEnv), which is not echoed to a terminal or log.
func echoed(fromEnv, key string) string {
	if fromEnv != "" {
		return ""
	}
	return key
}

// devSecret returns the dev cluster's secret, made on first start and kept
// in the data dir.
func devSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "cluster-secret")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if len(s) < 16 {
			return nil, fmt.Errorf("%s is damaged; remove it (and the dev data) to start afresh", path)
		}
		return []byte(s), nil
	case errors.Is(err, fs.ErrNotExist):
		s := randomHex(32)
		if err := durable.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("save the cluster secret: %w", err)
		}
		return []byte(s), nil
	}
	return nil, fmt.Errorf("read the cluster secret: %w", err)
}

// keyStore is where devCredentials keeps the access key.
type keyStore interface {
	GetKey(ctx context.Context, id string) (*meta.Key, error)
	PutKey(ctx context.Context, k *meta.Key) error
}

type credentialsFile struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// devCredentials picks the S3 key pair (configured, saved, or new), saves a
// new one in the data dir, and makes sure the metadata store knows it.
func devCredentials(ctx context.Context, ms keyStore, cfg DevConfig) (access, secret string, err error) {
	path := filepath.Join(cfg.DataDir, "credentials.json")
	access, secret = cfg.AccessKey, cfg.SecretKey
	if access == "" {
		var c credentialsFile
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
				return "", "", fmt.Errorf("%s is damaged; fix it or remove it to generate new keys", path)
			}
		case errors.Is(err, fs.ErrNotExist):
			c = credentialsFile{AccessKey: "CAIRN" + strings.ToUpper(randomHex(8)), SecretKey: randomHex(20)}
			b, _ := json.MarshalIndent(c, "", "  ")
			if err := durable.WriteFile(path, b, 0o600); err != nil {
				return "", "", fmt.Errorf("save credentials: %w", err)
			}
		default:
			return "", "", fmt.Errorf("read credentials: %w", err)
		}
		access, secret = c.AccessKey, c.SecretKey
	}
	k, err := ms.GetKey(ctx, access)
	if err == nil && k.Secret == secret {
		return access, secret, nil
	}
	if err != nil && !errors.Is(err, meta.ErrNoSuchAccess) {
		return "", "", fmt.Errorf("read access key: %w", err)
	}
	err = ms.PutKey(ctx, &meta.Key{V: meta.FormatVersion, ID: access, Secret: secret, Created: time.Now().UTC()})
	if err != nil {
		return "", "", fmt.Errorf("store access key: %w", err)
	}
	return access, secret, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
