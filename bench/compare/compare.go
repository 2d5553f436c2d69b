package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"cairn/bench/load"
	"cairn/bench/machine"
)

// Config says what Run compares and for how long. DefaultConfig and
// QuickConfig return complete ones.
type Config struct {
	// Go is the go command that builds storaged and MinIO. Default "go".
	Go string
	// Storaged is a storaged binary to use instead of building
	// cairn/cmd/storaged (which needs the current directory to be in the
	// cairn module).
	Storaged string
	// MinIO is a minio binary to use instead of the pinned, cached build.
	MinIO string
	// Dir is where the temporary directory with both servers' data goes,
	// which decides the disk they use. Default os.TempDir().
	Dir string

	// Cluster compares clusters of six processes on this machine instead
	// of the dev cluster and one MinIO process: six storaged (3 zones of
	// 2, all storage nodes, one of each zone metadata voter and gateway;
	// 4+2) driven through its three gateways, against MinIO's
	// distributed mode on six processes with one drive each (EC:2)
	// driven through its six endpoints.
	Cluster bool
	// Secure runs both sides with equal security: S3 over HTTPS with a
	// certificate of a throwaway CA (ECDSA P-256) that the load trusts,
	// TLS between the nodes, and encryption at rest. Cairn has mutual TLS
	// 1.3 between its nodes and seals every chunk anyway; MinIO gets
	// --certs-dir (https:// endpoints between its nodes in the cluster
	// mode) and SSE-S3 under a static KMS key as the bench bucket's
	// default encryption, checked on an object of every MinIO run. Without
	// it Cairn's S3 and all of MinIO are plain HTTP and MinIO stores
	// plaintext.
	Secure bool
	// ProfileDir, when set, runs Cairn's processes with --debug-addr and
	// saves a CPU profile of each over every timed phase of Cairn's in it,
	// as WORKLOAD-roundN-NODE.pprof (n1 to n6 in cluster mode, "dev" for
	// the dev cluster). Profiling costs the processes a little CPU.
	ProfileDir string

	// Duration is the timed phase of each run. Default 10s.
	Duration time.Duration
	// Rounds is how often each workload runs against each server; the best
	// round is reported. At least 2; default 2.
	Rounds int
	// Concurrency is the operations in flight of the plan's workloads.
	// Default 16.
	Concurrency int
	// Only, when not empty, restricts the plan to the workloads of these
	// names (see Plan).
	Only []string

	// SkipMemory skips the memory measurement.
	SkipMemory bool
	// MemDuration is the timed phase of the memory load. Default 20s.
	MemDuration time.Duration
	// MemConcurrency is the memory load's concurrency. Default 64.
	MemConcurrency int
	// MemIdle is how long after the memory load the idle RSS is read.
	// Default 30s.
	MemIdle time.Duration

	// Log receives status lines, build output and the runs' progress; nil
	// discards them.
	Log io.Writer
	// LogTTY overwrites progress lines in place.
	LogTTY bool
}

// DefaultConfig returns the full comparison: 10 s runs, 2 rounds.
func DefaultConfig() Config {
	return Config{
		Go:             "go",
		Duration:       10 * time.Second,
		Rounds:         2,
		Concurrency:    16,
		MemDuration:    20 * time.Second,
		MemConcurrency: 64,
		MemIdle:        30 * time.Second,
	}
}

// QuickConfig returns a smoke run: 2 s runs, short memory load and idle.
func QuickConfig() Config {
	c := DefaultConfig()
	c.Duration = 2 * time.Second
	c.MemDuration = 5 * time.Second
	c.MemIdle = 5 * time.Second
	return c
}

// Validate returns an error for each field that cannot be used.
func (c Config) Validate() error {
	var errs []error
	if c.Go == "" {
		errs = append(errs, errors.New("no go command"))
	}
	if c.Duration <= 0 || c.MemDuration <= 0 || c.MemIdle < 0 {
		errs = append(errs, errors.New("durations must be positive"))
	}
	if c.Rounds < 2 {
		errs = append(errs, fmt.Errorf("rounds %d: at least 2, to alternate which server goes first", c.Rounds))
	}
	if c.Concurrency < 1 || c.MemConcurrency < 1 {
		errs = append(errs, errors.New("concurrency must be at least 1"))
	}
	names := map[string]bool{}
	for _, w := range Plan(1) {
		names[w.Name] = true
	}
	for _, n := range c.Only {
		if !names[n] {
			errs = append(errs, fmt.Errorf("no workload %q in the plan", n))
		}
	}
	return errors.Join(errs...)
}

// Workload is one line of the comparison.
type Workload struct {
	Name        string  `json:"name"`
	Kind        string  `json:"workload"` // a load workload
	Size        int64   `json:"object_size"`
	Concurrency int     `json:"concurrency"`
	GetRatio    float64 `json:"get_ratio,omitempty"`
	Objects     int     `json:"objects,omitempty"` // prepared; 0: load's default
}

// Plan is the comparison's workloads at the given concurrency: PUT and GET
// of 64 MiB, 1 MiB and 4 KiB objects, a 70/30 GET/PUT mix of 1 MiB
// objects, and listing 2000 keys in pages of 1000.
func Plan(concurrency int) []Workload {
	var p []Workload
	for _, size := range []int64{64 << 20, 1 << 20, 4 << 10} {
		for _, kind := range []string{load.WorkloadPut, load.WorkloadGet} {
			p = append(p, Workload{Name: kind + "-" + load.FormatSize(size), Kind: kind, Size: size, Concurrency: concurrency})
		}
	}
	return append(p,
		Workload{Name: "mixed-1MiB", Kind: load.WorkloadMixed, Size: 1 << 20, Concurrency: concurrency, GetRatio: 0.7},
		Workload{Name: "list", Kind: load.WorkloadList, Size: 0, Concurrency: concurrency, Objects: 2000},
	)
}

// The S3 key pair both servers get.
const (
	benchAccessKey = "CAIRNBENCHACCESSKEY"
	benchSecretKey = "cairn-bench-secret-key-0123456789"
	benchBucket    = "bench"
)

// stopGrace is how long a server may take to exit after SIGTERM.
const stopGrace = 15 * time.Second

// Run builds both servers, measures the machine, starts the servers, runs
// the plan in alternation and the memory load, and stops and removes
// everything before it returns, also when ctx is cancelled. It returns the
// part of the Report it has with any error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(logw, "compare: "+format+"\n", a...) }
	rep := &Report{
		Date:        time.Now().UTC(),
		Mode:        ModeDev,
		Duration:    cfg.Duration.Seconds(),
		Rounds:      cfg.Rounds,
		Selection:   fmt.Sprintf("best of %d rounds by operations per second", cfg.Rounds),
		Concurrency: cfg.Concurrency,
	}
	if cfg.Cluster {
		rep.Mode = ModeCluster
	}
	if cfg.Secure {
		rep.Secure, rep.Security = true, securityNote(cfg.Cluster)
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}

	base := cfg.Dir
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "cairn-bench-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	if cfg.Storaged == "" {
		say("building storaged")
		rep.Cairn, err = BuildStoraged(ctx, cfg.Go, dir, logw)
	} else {
		rep.Cairn = Binary{Path: cfg.Storaged, Version: gitDescribe(ctx), Cached: true}
	}
	if err != nil {
		return rep, err
	}
	if cfg.MinIO == "" {
		path, _ := MinIOCachePath()
		say("MinIO %s: %s (built once, a few minutes)", MinIOVersion, path)
		rep.MinIO, err = BuildMinIO(ctx, cfg.Go, logw)
		if err == nil && !rep.MinIO.Cached {
			say("built MinIO in %.0fs", rep.MinIO.Build)
		}
	} else {
		rep.MinIO = Binary{Path: cfg.MinIO, Version: "given: " + cfg.MinIO, Cached: true}
	}
	if err != nil {
		return rep, err
	}

	say("measuring the machine")
	if rep.Machine, err = measureMachine(dir); err != nil {
		return rep, err
	}

	var srv servers
	defer srv.stop()
	if cfg.Cluster {
		err = startClusters(ctx, cfg, rep, dir, &srv, say)
	} else {
		say("starting storaged --dev and MinIO")
		err = startDev(ctx, cfg, rep, dir, &srv)
	}
	if err != nil {
		return rep, err
	}

	plan := Plan(cfg.Concurrency)
	if len(cfg.Only) > 0 {
		plan = slices.DeleteFunc(plan, func(w Workload) bool { return !slices.Contains(cfg.Only, w.Name) })
	}
	runs := make([][2][]RunSummary, len(plan))
	for round := range cfg.Rounds {
		order := []int{0, 1}
		if round%2 == 1 {
			order = []int{1, 0}
		}
		for i, w := range plan {
			for _, s := range order {
				t := srv.targets[s]
				say("round %d/%d  %-10s  %s", round+1, cfg.Rounds, w.Name, t.name)
				sum, err := runOne(ctx, cfg, t, w, cfg.Duration, round+1)
				if err != nil {
					return rep, err
				}
				sum.Round = round + 1
				runs[i][s] = append(runs[i][s], sum)
			}
		}
	}
	for i, w := range plan {
		rep.Workloads = append(rep.Workloads, newWorkloadResult(w, runs[i][0], runs[i][1]))
	}

	if !cfg.SkipMemory {
		say("memory: %d-way 50/50 GET/PUT of 64MiB objects for %v, then %v idle", cfg.MemConcurrency, cfg.MemDuration, cfg.MemIdle)
		if rep.Memory, err = measureMemory(ctx, cfg, srv.targets); err != nil {
			return rep, err
		}
	}
	rep.Machine.LoadAvgEnd = machine.LoadAvg()
	return rep, nil
}

// loadConfig is the load.Config of workload w against t.
func loadConfig(cfg Config, t *target, w Workload, d time.Duration) load.Config {
	lc := load.DefaultConfig()
	lc.Endpoint, lc.AccessKey, lc.SecretKey = t.endpoints[0], t.accessKey, t.secretKey
	lc.RootCAs = t.rootCAs
	if len(t.endpoints) > 1 {
		lc.Endpoints = t.endpoints
	}
	lc.Bucket = benchBucket
	lc.Workload, lc.Size, lc.Concurrency = w.Kind, w.Size, w.Concurrency
	lc.Duration, lc.GetRatio, lc.Objects = d, w.GetRatio, w.Objects
	lc.CancelSkipsCleanup = true
	if cfg.Log != nil {
		lc.Progress, lc.ProgressTTY = cfg.Log, cfg.LogTTY
	}
	return lc
}

// runOne runs w against t and summarizes it with the server's CPU use
// during the timed phase, profiling t's gateways if asked to.
func runOne(ctx context.Context, cfg Config, t *target, w Workload, d time.Duration, round int) (RunSummary, error) {
	lc := loadConfig(cfg, t, w, d)
	var cpu0, cpu1 time.Duration
	var cpuErr, sseErr error
	if t.sse != nil {
		// A prefix of the run's own, where the check finds what it wrote.
		lc.Prefix = fmt.Sprintf("compare/%s-round%d-%d/", w.Name, round, time.Now().UnixNano())
	}
	wait := func() error { return nil }
	lc.BeforeTimed = func() {
		if cfg.ProfileDir != "" && len(t.profilers) > 0 {
			wait = t.startProfiles(ctx, cfg.ProfileDir, fmt.Sprintf("%s-round%d", w.Name, round), d)
		}
		cpu0, cpuErr = t.cpuTime()
	}
	lc.AfterTimed = func() {
		var err error
		cpu1, err = t.cpuTime()
		cpuErr = errors.Join(cpuErr, err)
		// After the CPU sample, before the load removes its objects.
		if t.sse != nil {
			sseErr = checkSSE(ctx, t.sse, lc.Prefix)
		}
	}
	res, err := load.Run(ctx, lc)
	if perr := wait(); perr != nil && err == nil {
		err = perr
	}
	if sseErr != nil && err == nil {
		err = sseErr
	}
	if err != nil {
		if p := t.exited(); p != nil {
			return RunSummary{}, fmt.Errorf("%s %s: %w; %s exited, log tail:\n%s", t.name, w.Name, err, p.Name, p.LogTail(4000))
		}
		return RunSummary{}, fmt.Errorf("%s %s: %w", t.name, w.Name, err)
	}
	s := summarizeRun(res)
	if res.Seconds > 0 && cpuErr == nil {
		s.CPU = (cpu1 - cpu0).Seconds() / res.Seconds
	}
	return s, nil
}

// summarizeRun keeps what the report shows of a load result.
func summarizeRun(res *load.Result) RunSummary {
	t := res.Total
	s := RunSummary{
		Seconds:   res.Seconds,
		MiBPerSec: t.MiBPerSec,
		OpsPerSec: t.OpsPerSec,
		P50:       t.Latency.P50,
		P99:       t.Latency.P99,
		P999:      t.Latency.P999,
		Errors:    t.Errors,
		Retried:   res.Retried,
	}
	if len(res.FirstErrors) > 0 {
		s.FirstError = res.FirstErrors[0]
	}
	return s
}

// best returns the run with the most operations per second.
func best(runs []RunSummary) RunSummary {
	var b RunSummary
	for i, r := range runs {
		if i == 0 || r.OpsPerSec > b.OpsPerSec {
			b = r
		}
	}
	return b
}

func newWorkloadResult(w Workload, cairn, minio []RunSummary) WorkloadResult {
	r := WorkloadResult{
		Workload: w,
		Cairn:    Side{Best: best(cairn), Runs: cairn},
		MinIO:    Side{Best: best(minio), Runs: minio},
	}
	if r.MinIO.Best.OpsPerSec > 0 {
		r.Ratio = r.Cairn.Best.OpsPerSec / r.MinIO.Best.OpsPerSec
	}
	return r
}

// errorNotes lists the runs that had failed or retried operations.
func errorNotes(ws []WorkloadResult) []string {
	var notes []string
	for _, w := range ws {
		for _, side := range []struct {
			name string
			runs []RunSummary
		}{{"Cairn", w.Cairn.Runs}, {"MinIO", w.MinIO.Runs}} {
			for _, r := range side.runs {
				if r.Retried > 0 {
					notes = append(notes, fmt.Sprintf("%s %s round %d: %d responses 429/5xx (retried)",
						side.name, w.Name, r.Round, r.Retried))
				}
				if r.Errors > 0 {
					notes = append(notes, fmt.Sprintf("%s %s round %d: %d errors, first: %s",
						side.name, w.Name, r.Round, r.Errors, strings.TrimSpace(r.FirstError)))
				}
			}
		}
	}
	return notes
}
