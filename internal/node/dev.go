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

	"github.com/hashicorp/raft"

	"cairn/internal/blob"
	"cairn/internal/durable"
	"cairn/internal/gateway"
	"cairn/internal/meta"
	"cairn/s3gw"
)

// DevConfig configures the embedded dev cluster: one process, several
// storage nodes over directories in several zones, a single-voter Raft
// group, and the S3 gateway — the same code paths a real cluster runs.
type DevConfig struct {
	// DataDir holds everything: metadata, node directories, credentials.
	DataDir string
	// S3Addr is the S3 listen address; port 0 picks a free port.
	S3Addr string
	// AccessKey and SecretKey are the S3 credentials. When empty they are
	// read from DataDir/credentials.json, or generated and saved there.
	AccessKey, SecretKey string
	// Nodes and Zones shape the cluster when it is first created; after
	// that the stored layout wins.
	Nodes, Zones int
	// K and M are the stripe's data and parity shards.
	K, M int
	// Out receives the human-readable start banner (endpoint, keys).
	Out    io.Writer
	Logger *slog.Logger
}

// DefaultDev returns the dev cluster defaults of `storaged --dev`.
func DefaultDev() DevConfig {
	return DevConfig{
		DataDir: "./data",
		S3Addr:  "127.0.0.1:9000",
		Nodes:   6,
		Zones:   3,
		K:       4,
		M:       2,
		Out:     os.Stdout,
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// Validate reports the first thing wrong with c.
func (c *DevConfig) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("dev: a data directory is required (--data)")
	case c.S3Addr == "":
		return errors.New("dev: an S3 listen address is required (--s3)")
	case c.Nodes < 1 || c.Zones < 1 || c.Zones > c.Nodes:
		return fmt.Errorf("dev: %d nodes in %d zones: want 1 <= zones <= nodes", c.Nodes, c.Zones)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("dev: set both CAIRN_ACCESS_KEY and CAIRN_SECRET_KEY, or neither")
	}
	return nil
}

// RunDev runs the dev cluster until ctx ends, then shuts it down cleanly.
func RunDev(ctx context.Context, cfg DevConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	_, transport := raft.NewInmemTransport("dev")
	mcfg := meta.Default()
	mcfg.Dir = filepath.Join(cfg.DataDir, "meta")
	mcfg.NodeID = "dev"
	mcfg.Transport = transport
	mcfg.Bootstrap = true
	mcfg.Logger = log.With("component", "raft")
	ms, err := meta.Open(mcfg)
	if err != nil {
		return fmt.Errorf("open metadata: %w", err)
	}
	defer ms.Close()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = ms.WaitLeader(wctx)
	cancel()
	if err != nil {
		return fmt.Errorf("metadata leader: %w", err)
	}

	layout, err := devLayout(ctx, ms, cfg)
	if err != nil {
		return err
	}
	nodes := make(localNodes, len(layout.Nodes))
	for _, n := range layout.Nodes {
		st, err := blob.OpenDir(filepath.Join(cfg.DataDir, "nodes", n.ID))
		if err != nil {
			return fmt.Errorf("node %s: %w", n.ID, err)
		}
		nodes[n.ID] = st
	}

	access, secret, err := devCredentials(ctx, ms, cfg)
	if err != nil {
		return err
	}

	gcfg := gateway.Default()
	gcfg.Meta, gcfg.Nodes = ms, nodes
	gcfg.K, gcfg.M = cfg.K, cfg.M
	gcfg.Logger = log.With("component", "gateway")
	gw, err := gateway.New(ctx, gcfg)
	if err != nil {
		return err
	}
	s3, err := s3gw.New(s3gw.Config{Backend: gw, Credentials: gw, Logger: log.With("component", "s3")})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.S3Addr)
	if err != nil {
		return fmt.Errorf("listen for S3 on %s: %w", cfg.S3Addr, err)
	}
	srv := &http.Server{
		Handler:           s3,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(cfg.Out, "Cairn dev cluster: %d storage nodes in %d zones, %d+%d stripes, data in %s\n",
		len(layout.Nodes), zoneCount(layout), cfg.K, cfg.M, cfg.DataDir)
	fmt.Fprintf(cfg.Out, "S3 endpoint:  http://%s\n", ln.Addr())
	fmt.Fprintf(cfg.Out, "Access key:   %s\n", access)
	if cfg.SecretKey == "" {
		// Generated or saved keys are shown; one from the environment is not
		// echoed to a terminal or log.
		fmt.Fprintf(cfg.Out, "Secret key:   %s\n", secret)
	} else {
		fmt.Fprintf(cfg.Out, "Secret key:   (from CAIRN_SECRET_KEY)\n")
	}
	log.Info("serving S3", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("S3 server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("S3 server shutdown", "err", err)
		srv.Close()
	}
	<-errc
	log.Info("stopped")
	return nil
}

// localNodes resolves node IDs to directories in this process.
type localNodes map[string]*blob.DirStore

func (n localNodes) Shards(id string) (gateway.ShardStore, error) {
	st, ok := n[id]
	if !ok {
		return nil, fmt.Errorf("unknown storage node %q", id)
	}
	return st, nil
}

// devLayout returns the stored layout, creating the first one (nodes
// dev-1…dev-N spread round-robin over zones, a fresh placement key) on the
// cluster's first start.
func devLayout(ctx context.Context, ms *meta.Store, cfg DevConfig) (*meta.Layout, error) {
	l, err := ms.Layout(ctx)
	if err != nil {
		return nil, fmt.Errorf("read layout: %w", err)
	}
	if l != nil {
		return l, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	l = &meta.Layout{V: meta.FormatVersion, Version: 1, PlacementKey: key}
	for i := range cfg.Nodes {
		l.Nodes = append(l.Nodes, meta.LayoutNode{
			ID:     fmt.Sprintf("dev-%d", i+1),
			Zone:   fmt.Sprintf("zone-%c", 'a'+i%cfg.Zones),
			Weight: 1,
		})
	}
	if err := ms.SetLayout(ctx, l); err != nil {
		return nil, fmt.Errorf("store first layout: %w", err)
	}
	return l, nil
}

func zoneCount(l *meta.Layout) int {
	zones := map[string]bool{}
	for _, n := range l.Nodes {
		zones[n.Zone] = true
	}
	return len(zones)
}

type credentialsFile struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// devCredentials picks the S3 key pair (configured, saved, or new), saves a
// new one in the data dir, and makes sure the metadata store knows it.
func devCredentials(ctx context.Context, ms *meta.Store, cfg DevConfig) (access, secret string, err error) {
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
