// Command storaged is the Cairn node daemon: one node of a cluster, or with
// --dev a whole cluster in one process; see `storaged --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"

	"cairn/internal/heal"
	"cairn/internal/lifecycle"
	"cairn/internal/node"
	"cairn/internal/upkeep"
	"cairn/internal/version"
)

const usage = `storaged — the Cairn node daemon

Usage:
  storaged --dev [--data DIR] [--s3 ADDR] [--admin ADDR]
  storaged [--storage DIR] [--meta] [--s3 ADDR] --zone ZONE --data DIR
           --api ADDR --gossip ADDR [--raft ADDR] [--join ADDR,...]
           (--secret-file FILE | CAIRN_CLUSTER_SECRET=...)
  storaged --storage DIR --data DIR --api ADDR --gossip ADDR --join-token TOKEN
           (a contributor's storage node, invited with storectl node invite)
  storaged --config FILE [flags]   (the flags in a YAML file; flags given win)
  storaged --version

Modes:
  --dev         run an embedded cluster in one process: 6 storage nodes in 3
                zones, 4+2 Reed-Solomon stripes, one metadata voter, S3 on
                --s3 (default 127.0.0.1:9000), the admin API on --admin
                (default 127.0.0.1:7070, storectl's default) and the web
                console on --console (default 127.0.0.1:9001). The same
                machinery as a real cluster, on loopback.
  otherwise     run one node of a real cluster, with the roles its flags give:
                --storage DIR  contribute the capacity of DIR (storage node)
                --meta         vote in the metadata Raft group (3 or 5 nodes)
                --s3 ADDR      serve S3 on ADDR (gateway)
                The first meta node starts without --join; every other node
                joins with --join and the gossip address of any member.
                Metadata and gateway nodes hold the cluster secret; a storage
                node run by someone else joins with --join-token instead and
                never sees it (docs/security.md).

Flags:
`

const envHelp = `
Environment:
  CAIRN_CLUSTER_SECRET
                the cluster secret (at least 16 bytes), when --secret-file and
                --secret are not given. Every node of a cluster has the same one;
                without it a node can neither join nor call another node.
  GOMAXPROCS    the Go runtime's processors (default: twice the CPUs Go
                finds, because shard writes and syncs block threads).
  GOMEMLIMIT    the Go runtime's soft memory limit (default 768MiB): the
                garbage collector works harder near it. The S3 gateway also
                bounds the chunks all requests hold at once (256 MiB).
  CAIRN_ACCESS_KEY, CAIRN_SECRET_KEY
                S3 credentials for --dev. When unset, the pair saved in
                DIR/credentials.json is used, or a new pair is generated, saved
                there and printed at start. A real cluster's keys are made with
                storectl key create.

Files in --data DIR (cluster mode):
  node-id       the node's persistent ID, created on first start
  admin-token   the admin token storectl needs (derived from the cluster secret)
  identity.pem  a contributor's key, its certificate from the cluster CA and
                the CA's, made when it enrolled with --join-token (mode 0600)
  gossip.key    the gossip key a contributor was given when it enrolled
  scrub-state.json
                where the scrub got to, so that a restart resumes it (storage nodes)
  meta/         the Raft log, snapshots and metadata (meta nodes)
`

// defaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT sets another.
const defaultMemoryLimit = 768 << 20

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "storaged:", err)
		}
		os.Exit(2)
	}
}

// addrList is a flag that may be repeated and may hold comma-separated
// addresses.
type addrList []string

func (a *addrList) String() string { return strings.Join(*a, ",") }

func (a *addrList) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*a = append(*a, s)
		}
	}
	return nil
}

func run(args []string, stdout io.Writer) error {
	dev, cl := node.DefaultDev(), node.DefaultConfig()
	var join addrList
	fs, v := newFlagSet(&dev, &cl, &join)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see storaged --help)", fs.Arg(0))
	}
	if *v.showVersion {
		fmt.Fprintln(stdout, "storaged", version.Get())
		return nil
	}
	if *v.configFile != "" {
		if err := applyConfig(fs, *v.configFile); err != nil {
			return err
		}
	}
	if cl.ScrubInterval <= 0 {
		return fmt.Errorf("--scrub-interval %v: want a positive duration, such as 168h", cl.ScrubInterval)
	}
	log, err := newLogger(*v.level, *v.format)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The gateway bounds the chunks all requests hold (256 MiB); a soft
		// limit makes the garbage collector keep the heap near what is live
		// rather than letting it double under load.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// Shard writes and file system syncs block their thread in the
		// kernel for milliseconds, and hold a P while they do: with one P
		// per core a core sits idle until the runtime takes the P back.
		// Twice as many Ps keep the cores busy (measured: 64 MiB PUTs at
		// concurrency 16 on 2 cores went from 210-240 to 300-310 MiB/s,
		// with idle and iowait from about 25% to 10%).
		runtime.GOMAXPROCS(2 * runtime.GOMAXPROCS(0))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *v.debugAddr != "" {
		if err := serveDebug(*v.debugAddr, log); err != nil {
			return err
		}
	}

	rate, err := humanize.ParseBytes(*v.repairRate)
	if err != nil || rate == 0 || rate > 1<<50 {
		return fmt.Errorf("--repair-rate %q: want a positive number of bytes per second, such as 64MiB", *v.repairRate)
	}
	cl.RepairRate, dev.RepairRate = int64(rate), int64(rate)
	if *v.gcGrace <= 0 {
		return fmt.Errorf("--gc-grace %v: want a positive duration, such as 1h", *v.gcGrace)
	}
	cl.GCGrace, dev.GCGrace = *v.gcGrace, *v.gcGrace
	if *v.lifecycleDay <= 0 {
		return fmt.Errorf("--lifecycle-day %v: want a positive duration, such as 24h", *v.lifecycleDay)
	}
	cl.LifecycleDay, dev.LifecycleDay = *v.lifecycleDay, *v.lifecycleDay
	if cl.HealInterval <= 0 {
		return fmt.Errorf("--heal-interval %v: want a positive duration, such as 30s", cl.HealInterval)
	}
	dev.HealInterval = cl.HealInterval
	switch {
	case *v.auditRate < 0 || math.IsNaN(*v.auditRate) || math.IsInf(*v.auditRate, 0):
		return fmt.Errorf("--audit-rate %v: want a number of shards per second, such as 4 (0: no audits)", *v.auditRate)
	case *v.auditRate == 0:
		cl.AuditRate = -1
	default:
		cl.AuditRate = *v.auditRate
	}
	switch {
	case *v.ejectThreshold < 0:
		return fmt.Errorf("--eject-threshold %d: want a number of failures, such as 10 (0: never eject)", *v.ejectThreshold)
	case *v.ejectThreshold == 0:
		cl.EjectThreshold = -1
	default:
		cl.EjectThreshold = *v.ejectThreshold
	}
	dev.AuditRate, dev.EjectThreshold = cl.AuditRate, cl.EjectThreshold
	dev.Seal = cl.Seal
	if *v.devMode {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, name := range []string{"storage", "meta", "join", "api", "gossip", "raft", "secret-file", "secret", "approval", "zone", "weight",
			"join-token", "node-id", "advertise-api"} {
			if set[name] {
				return fmt.Errorf("--%s is for a cluster node, not --dev (see storaged --help)", name)
			}
		}
		dev.DataDir, dev.Logger = *v.data, log
		dev.S3CertFile, dev.S3KeyFile = cl.S3CertFile, cl.S3KeyFile
		if (dev.S3CertFile == "") != (dev.S3KeyFile == "") {
			return errors.New("--s3-cert and --s3-key go together")
		}
		dev.ScrubInterval = cl.ScrubInterval
		if *v.s3 != "" {
			dev.S3Addr = *v.s3
		}
		if set["console"] {
			dev.ConsoleAddr = *v.console
		}
		dev.AccessKey, dev.SecretKey = os.Getenv("CAIRN_ACCESS_KEY"), os.Getenv("CAIRN_SECRET_KEY")
		dev.AdminAddr, dev.Storectl = cl.AdminAddr, storectlCommand()
		return node.RunDev(ctx, dev)
	}

	if cl.StorageDir == "" && !cl.Meta && *v.s3 == "" {
		return errors.New("no role given: start a node with --storage DIR, --meta and/or --s3 ADDR, or run `storaged --dev` for the embedded cluster (see storaged --help)")
	}
	cl.DataDir, cl.S3Addr, cl.Join, cl.Logger = *v.data, *v.s3, join, log
	cl.ConsoleAddr = *v.console
	cl.AutoAdmit = !*v.approval
	if _, err := fmt.Sscanf(*v.stripe, "%d+%d", &cl.K, &cl.M); err != nil || fmt.Sprintf("%d+%d", cl.K, cl.M) != *v.stripe {
		return fmt.Errorf("--stripe %q: want K+M, such as 4+2", *v.stripe)
	}
	contributor := cl.JoinToken != "" || (!cl.Meta && *v.s3 == "" && *v.secret == "" && *v.secretFile == "" && os.Getenv("CAIRN_CLUSTER_SECRET") == "" &&
		fileExists(filepath.Join(cl.DataDir, "identity.pem")))
	if !contributor {
		if cl.Secret, err = loadSecret(*v.secret, *v.secretFile); err != nil {
			return err
		}
	}
	return node.Run(ctx, cl)
}

// flagValues are the flags that do not go straight into a node.Config.
type flagValues struct {
	devMode        *bool
	data           *string
	s3             *string
	console        *string
	secretFile     *string
	secret         *string
	approval       *bool
	repairRate     *string
	gcGrace        *time.Duration
	lifecycleDay   *time.Duration
	auditRate      *float64
	ejectThreshold *int
	stripe         *string
	debugAddr      *string
	level          *string
	format         *string
	configFile     *string
	showVersion    *bool
}

// newFlagSet returns storaged's flags: those of a node's Config set cl
// (and dev's defaults), the others v.
func newFlagSet(dev *node.DevConfig, cl *node.Config, join *addrList) (fs *flag.FlagSet, v *flagValues) {
	v = new(flagValues)
	fs = flag.NewFlagSet("storaged", flag.ContinueOnError)
	v.devMode = fs.Bool("dev", false, "run the embedded dev cluster in one process")
	v.data = fs.String("data", cl.DataDir, "data directory: the node's ID, admin token and metadata (with --dev: everything)")
	v.s3 = fs.String("s3", "", "S3 listen address host:port: makes the node a gateway (--dev default "+dev.S3Addr+"; port 0 picks a free one)")
	v.console = fs.String("console", "", "serve the web console on `ADDR` host:port, over HTTPS with --s3-cert, else plain HTTP (gateways: with --s3; off unless given; --dev default "+dev.ConsoleAddr+", \"\" for none); log in with the admin token or an S3 access key (docs/console.md)")
	fs.StringVar(&cl.StorageDir, "storage", "", "make the node a storage node keeping shards in `DIR`")
	fs.DurationVar(&cl.ScrubInterval, "scrub-interval", upkeep.DefaultScrubInterval, "storage nodes (and --dev): how often a storage node begins a scrub pass, which re-reads and checks every shard it holds at the rate that ends it within the interval (1 to 64 MiB/s); corrupt shards are rebuilt by healing")
	fs.BoolVar(&cl.Meta, "meta", false, "make the node a voter of the metadata Raft group")
	fs.StringVar(&cl.Zone, "zone", cl.Zone, "failure domain of the node (site, rack, operator); with enough zones, a stripe never puts more shards in one zone than it can lose")
	fs.Float64Var(&cl.Weight, "weight", 0, "storage weight (0: the capacity of --storage in GiB)")
	fs.Var(join, "join", "gossip `ADDR` of a cluster member to join (repeat or comma-separate; none: start a new cluster)")
	fs.StringVar(&cl.APIAddr, "api", cl.APIAddr, "node API listen address host:port (shards, metadata forwarding), mutual TLS with the cluster CA; other nodes reach it here")
	fs.StringVar(&cl.AdvertiseAPI, "advertise-api", "", "the `ADDR` other nodes reach the node API at, when it is not --api (NAT, a port forward)")
	fs.StringVar(&cl.AdminAddr, "admin", cl.AdminAddr, "the operator's port, plain HTTP: the admin API for storectl (tenant nodes, with the admin token), join enrollment, and Prometheus /metrics; \"\" for none (--dev: the metadata node's, where storectl looks by default; port 0 picks a free one)")
	fs.StringVar(&cl.JoinToken, "join-token", "", "a storage node without the cluster secret: enroll with this join `TOKEN` (from storectl node invite) on first start")
	fs.StringVar(&cl.NodeID, "node-id", "", "the node's `ID` on its first start (default: a random one; kept in DATA/node-id)")
	fs.StringVar(&cl.S3CertFile, "s3-cert", "", "serve S3 over HTTPS with this certificate chain (PEM `FILE`; with --s3-key)")
	fs.StringVar(&cl.S3KeyFile, "s3-key", "", "the private key (PEM `FILE`) of --s3-cert")
	fs.StringVar(&cl.GossipAddr, "gossip", cl.GossipAddr, "gossip listen address host:port (TCP and UDP)")
	fs.StringVar(&cl.RaftAddr, "raft", cl.RaftAddr, "Raft listen address host:port (meta nodes)")
	v.secretFile = fs.String("secret-file", "", "read the cluster secret from `FILE` (else $CAIRN_CLUSTER_SECRET)")
	v.secret = fs.String("secret", "", "the cluster secret itself (visible to other local users in ps; prefer --secret-file)")
	v.approval = fs.Bool("approval", false, "meta nodes: admit new storage nodes only after storectl node approve")
	fs.DurationVar(&cl.Grace, "grace", cl.Grace, "meta nodes: how long a failed storage node keeps its place in the layout")
	v.repairRate = fs.String("repair-rate", humanize.IBytes(heal.DefaultRate), "meta nodes (and --dev): bytes per second that repair and rebalance may write, `BYTES_PER_S` (such as 64MiB or 1000000)")
	v.lifecycleDay = fs.Duration("lifecycle-day", lifecycle.DefaultDay, "meta nodes (and --dev): how long a day of bucket lifecycle rules (expiration, noncurrent version expiration, aborting uploads) lasts; shorten it only to test rules")
	v.gcGrace = fs.Duration("gc-grace", heal.DefaultGCGrace, "meta nodes (and --dev): how long a chunk stays unreferenced before its shards are deleted, and a shard no stripe names before it is collected")
	fs.DurationVar(&cl.HealInterval, "heal-interval", heal.Default().Interval, "meta nodes (and --dev): time between two heal passes over the chunk table, when no layout change or storectl heal kick asks for one sooner")
	v.auditRate = fs.Float64("audit-rate", heal.DefaultAuditRate, "meta nodes (and --dev): storage node shards audited per second over the whole cluster, each read from its node and checked against the sum recorded when it was written; 0 turns audits off")
	v.ejectThreshold = fs.Int("eject-threshold", heal.DefaultEjectThreshold, fmt.Sprintf("meta nodes (and --dev): eject a storage node from the layout once its recent audits and reads hold at least `N` failures, more than %g%% of them; its shards are rebuilt elsewhere (0: never eject)", 100*heal.DefaultEjectRatio))
	v.stripe = fs.String("stripe", fmt.Sprintf("%d+%d", cl.K, cl.M), "gateways: data+parity shards of new stripes, K+M")
	fs.BoolVar(&cl.Seal, "seal", cl.Seal, "gateways (and --dev): seal every new chunk before it leaves the gateway, so storage nodes see no plaintext and no CID they could recognise; --seal=false writes unsealed stripes, for a rolling upgrade until every gateway can read sealed ones (storectl seal migrate seals them afterwards)")
	v.debugAddr = fs.String("debug-addr", "", "serve Go's profiler (/debug/pprof/) on this loopback `ADDR`, for diagnosing performance")
	v.level = fs.String("log-level", "info", "log level: debug, info, warn, error")
	v.format = fs.String("log-format", "text", "log format: text or json (logs go to stderr)")
	v.configFile = fs.String("config", "", "read flags from this YAML `FILE`: its keys are the flags' names (data: /srv/cairn/data); a flag on the command line wins over the file (packaging/storaged.example.yaml)")
	v.showVersion = fs.Bool("version", false, "print the version, commit and Go version, and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), envHelp)
	}
	return fs, v
}

// storectlCommand is how the dev banner runs storectl: the storectl
// built beside this storaged (make build puts both in ./bin), as a path
// relative to the working directory when it is under it (./bin/storectl),
// else absolute; "storectl" when there is none beside it.
func storectlCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "storectl"
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	ctl := filepath.Join(filepath.Dir(exe), "storectl")
	if !fileExists(ctl) {
		return "storectl"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, ctl); err == nil && !strings.HasPrefix(rel, "..") {
			return "./" + rel
		}
	}
	return ctl
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadSecret returns the cluster secret from the flag, the file, or the
// environment, in that order. Surrounding white space is not part of it, so
// that a file written by echo or an editor works.
func loadSecret(flagValue, file string) ([]byte, error) {
	s, from := flagValue, "--secret"
	if s == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the cluster secret: %w", err)
		}
		s, from = string(b), file
	}
	if s == "" {
		s, from = os.Getenv("CAIRN_CLUSTER_SECRET"), "CAIRN_CLUSTER_SECRET"
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, errors.New("no cluster secret: give --secret-file FILE or set CAIRN_CLUSTER_SECRET (make one with: head -c 32 /dev/urandom | base64 > secret)")
	case len(s) < 16:
		return nil, fmt.Errorf("the cluster secret from %s is %d bytes; use at least 16 (head -c 32 /dev/urandom | base64)", from, len(s))
	}
	return []byte(s), nil
}

// serveDebug serves net/http/pprof's handlers on addr, which must be a
// loopback address: profiles show what the process does.
func serveDebug(addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--debug-addr %q: only a loopback address (127.0.0.1:PORT) is allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil {
			log.Warn("debug server", "err", err)
		}
	}()
	log.Info("serving the profiler", "addr", ln.Addr().String())
	return nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
