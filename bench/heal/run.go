package heal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"cairn/bench/compare"
	"cairn/bench/load"
	"cairn/bench/machine"
	"cairn/bench/server"
	"cairn/internal/admin/adminapi"
)

// The data set's place.
const (
	bucket     = "healbench"
	dataPrefix = "data/"
)

// writeConcurrency is the uploads in flight while writing the data set.
const writeConcurrency = 8

// pollEvery is how often the leader's metrics are read during a repair;
// the repair's times are within it.
const pollEvery = 100 * time.Millisecond

// stopGrace is how long a node may take to exit after SIGTERM.
const stopGrace = 15 * time.Second

// Run builds storaged (unless given one) and, for each repair rate in
// cfg.Rates, starts a six-node cluster, writes the data set, waits for
// healing to be idle, measures the raw limits (in the first round), runs
// the GET phases healthy and with a storage node down, removes that node
// and follows the repair with the GET load running; it stops every
// process before it returns, also when ctx is cancelled. The cluster's
// directory is removed after a success (unless KeepDir) and kept after a
// failure, with its logs. It returns the part of the Report it has with
// any error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(logw, "healbench: "+format+"\n", a...) }
	n := cfg.objects()
	rep := &Report{
		Date:    time.Now().UTC(),
		Command: cfg.Command,
		Machine: Machine{
			CPUs: runtime.NumCPU(), CPUModel: machine.CPUModel(), MemTotal: machine.MemTotal(),
			GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH,
			LoadAvgStart: machine.LoadAvg(),
		},
		Objects:      n,
		ObjectSize:   cfg.ObjectSize,
		Data:         int64(n) * cfg.ObjectSize,
		Concurrency:  cfg.Concurrency,
		Load:         cfg.Load.Seconds(),
		HealInterval: cfg.HealInterval.Seconds(),
	}
	base := cfg.Dir
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "cairn-bench-heal-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err == nil && !cfg.KeepDir {
			os.RemoveAll(dir)
			return
		}
		say("the clusters' data and logs are kept in %s", dir)
	}()

	bin := cfg.Storaged
	if bin == "" {
		say("building storaged")
		var b compare.Binary
		b, err = compare.BuildStoraged(ctx, cfg.Go, dir, logw)
		if err != nil {
			return rep, err
		}
		bin, rep.Storaged = b.Path, b.Version
	} else {
		rep.Storaged = "given: " + bin
	}

	for i, rate := range cfg.Rates {
		var rd Round
		rd, err = runRound(ctx, cfg, bin, filepath.Join(dir, fmt.Sprintf("r%d", i+1)), rate, rep, say)
		if err != nil {
			return rep, fmt.Errorf("repair rate %s: %w", rate, err)
		}
		rep.Rounds = append(rep.Rounds, rd)
	}
	rep.Machine.LoadAvgEnd = machine.LoadAvg()
	return rep, nil
}

// runRound measures one repair rate on a cluster of its own, in dir. In
// the first round (rep.Limits not yet set) it measures the raw limits once
// the cluster is idle.
func runRound(ctx context.Context, cfg Config, bin, dir, rate string, rep *Report, say func(string, ...any)) (rd Round, err error) {
	rd.Rate = rate
	flag, err := rateFlag(rate)
	if err != nil {
		return rd, err
	}
	metaArgs := []string{"--heal-interval", cfg.HealInterval.String()}
	if flag != "" {
		metaArgs = append(metaArgs, "--repair-rate", flag)
	}
	say("repair rate %s: starting 6 storaged in %s", rate, dir)
	c, err := server.StartCluster(ctx, server.ClusterOptions{Bin: bin, Dir: dir, MetaArgs: metaArgs})
	if err != nil {
		return rd, err
	}
	defer c.Stop(stopGrace)
	defer func() {
		if err != nil {
			for _, n := range c.Nodes {
				if n.Proc != nil {
					say("%s log tail:\n%s", n.Name, n.Proc.LogTail(1500))
				}
			}
		}
	}()
	adm, err := c.Admin(c.Nodes[0])
	if err != nil {
		return rd, err
	}
	if _, err := adm.CreateBucket(ctx, bucket); err != nil {
		return rd, fmt.Errorf("create bucket: %w", err)
	}
	if err := c.WaitPlacing(ctx, bucket); err != nil {
		return rd, err
	}
	gw := c.Gateways()[0]
	victim := lastStorageOnly(c)
	if victim == nil {
		return rd, errors.New("the cluster has no storage-only node to kill")
	}
	rd.Victim = fmt.Sprintf("%s (%s)", victim.Name, victim.Zone)
	rd.Gateway = gw.Name

	say("writing %d objects of %s", rep.Objects, load.FormatSize(cfg.ObjectSize))
	lc := loadConfig(cfg, c, gw, rep.Objects)
	lc.Concurrency = writeConcurrency
	took, err := load.Prepare(ctx, lc)
	if err != nil {
		return rd, fmt.Errorf("write the data set: %w", err)
	}
	rd.WriteSeconds = took.Seconds()
	rd.WriteMiBps = float64(rep.Data) / (1 << 20) / took.Seconds()

	lead, err := c.WaitLeader(ctx)
	if err != nil {
		return rd, err
	}
	rd.Leader = fmt.Sprintf("%s (%s)", lead.Name, lead.Zone)
	sc := newScraper(lead.AdminAddr)
	say("waiting for healing to be idle (passes every %v)", cfg.HealInterval)
	idleStart := time.Now()
	h, err := waitIdle(ctx, sc, cfg.Timeout)
	if err != nil {
		return rd, err
	}
	rd.IdleSeconds = time.Since(idleStart).Seconds()
	rd.RateLimit = h.RateLimit / (1 << 20)

	if rep.Limits == (Limits{}) {
		say("measuring the raw limits")
		if rep.Limits, err = measureLimits(dir); err != nil {
			return rd, err
		}
	}

	say("GETs, healthy cluster, %v", cfg.Load)
	res, err := load.Run(ctx, loadConfig(cfg, c, gw, rep.Objects))
	if err != nil {
		return rd, fmt.Errorf("GETs, healthy: %w", err)
	}
	rd.GetHealthy = getPhase(res)

	say("killing %s; GETs with it down, %v", rd.Victim, cfg.Load)
	victim.Proc.Kill()
	if err := waitDown(ctx, c, lead, victim.ID, cfg.Timeout); err != nil {
		return rd, err
	}
	before, err := sc.scrape(ctx)
	if err != nil {
		return rd, err
	}
	if res, err = load.Run(ctx, loadConfig(cfg, c, gw, rep.Objects)); err != nil {
		return rd, fmt.Errorf("GETs, node down: %w", err)
	}
	rd.GetDown = getPhase(res)
	after, err := sc.scrape(ctx)
	if err != nil {
		return rd, err
	}
	rd.DownRebuilt = int64(after.RepairedBytes - before.RepairedBytes)

	say("removing %s; following the repair with GETs running", rd.Victim)
	w, res, err := repair(ctx, cfg, c, adm, sc, gw, victim, rep.Objects)
	if err != nil {
		return rd, err
	}
	if lead2, err := c.Leader(ctx); err != nil || lead2 != lead {
		return rd, fmt.Errorf("the metadata leader changed during the repair (%v): its metrics are no longer the repair's", err)
	}
	rd.GetRepairing = getPhase(res)
	rd.Planned, rd.Rebuilt = int64(w.planned), int64(w.rebuilt)
	rd.FirstByte, rd.LastByte, rd.Healthy = w.since(w.first), w.since(w.last), w.since(w.healthy)
	if rd.LastByte > 0 {
		rd.RepairMiBps = w.rebuilt / (1 << 20) / rd.LastByte
	}
	if active := rd.LastByte - rd.FirstByte; active > 0 {
		rd.ActiveMiBps = w.rebuilt / (1 << 20) / active
	}
	if lim, _ := rep.Limits.Min(); lim > 0 {
		rd.OfMinLimit = rd.RepairMiBps / lim
	}
	end, err := sc.scrape(ctx)
	if err != nil {
		return rd, err
	}
	rd.FailedShards = int64(end.FailedShards - before.FailedShards)
	say("repair rate %s: rebuilt %s in %.1fs (%.1f MiB/s); healthy after %.1fs",
		rate, load.FormatSize(rd.Rebuilt), rd.LastByte, rd.RepairMiBps, rd.Healthy)
	return rd, nil
}

// lastStorageOnly returns the cluster's last node that is neither a meta
// node nor a gateway.
func lastStorageOnly(c *server.Cluster) *server.Node {
	for i := len(c.Nodes) - 1; i >= 0; i-- {
		if n := c.Nodes[i]; !n.Meta && !n.S3 {
			return n
		}
	}
	return nil
}

// loadConfig is the GET phase over the data set through gateway gw; with
// load.Prepare, what writes it.
func loadConfig(cfg Config, c *server.Cluster, gw *server.Node, objects int) load.Config {
	lc := load.DefaultConfig()
	lc.Endpoint, lc.AccessKey, lc.SecretKey = gw.S3Addr, c.AccessKey, c.SecretKey
	lc.Bucket, lc.Prefix = bucket, dataPrefix
	lc.Workload, lc.Size, lc.Objects = load.WorkloadGet, cfg.ObjectSize, objects
	lc.Concurrency, lc.Duration = cfg.Concurrency, cfg.Load
	lc.Reuse, lc.Keep, lc.CancelSkipsCleanup = true, true, true
	if cfg.Log != nil {
		lc.Progress, lc.ProgressTTY = cfg.Log, cfg.LogTTY
	}
	return lc
}

// measureLimits measures the raw limits of repair, the disk's in dir.
func measureLimits(dir string) (Limits, error) {
	var l Limits
	var err error
	if l.Reconstruct, err = machine.Reconstruct(4, 2, 1<<20, time.Second); err != nil {
		return l, fmt.Errorf("reconstruct: %w", err)
	}
	if l.DiskWrite, err = machine.DiskWrite(dir, 256<<20, 4<<20, machine.SyncEach); err != nil {
		return l, fmt.Errorf("disk write: %w", err)
	}
	if l.Loopback, err = machine.Loopback(time.Second); err != nil {
		return l, fmt.Errorf("loopback: %w", err)
	}
	l.SHA256 = machine.SHA256(256 << 20)
	return l, nil
}

// poll calls f every interval until it returns true, or an error marked
// fatal, or timeout passes. Other errors say why not yet, for the message
// when the time is up.
func poll(ctx context.Context, interval, timeout time.Duration, what string, f func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		ok, err := f(ctx)
		if ok {
			return nil
		}
		if fe := (fatal{}); errors.As(err, &fe) {
			return fmt.Errorf("%s: %w", what, fe.error)
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%s: not within %v: %w", what, timeout, last)
			}
			return fmt.Errorf("%s: not within %v", what, timeout)
		case <-t.C:
		}
	}
}

// fatal ends a poll.
type fatal struct{ error }

// waitIdle waits until two passes that began after it was called found
// nothing to do and some stripes healthy (the first pass may have begun
// before the last write).
func waitIdle(ctx context.Context, sc scraper, timeout time.Duration) (healState, error) {
	h0, err := sc.scrape(ctx)
	if err != nil {
		return h0, err
	}
	var h healState
	err = poll(ctx, 500*time.Millisecond, timeout, "healing idle after the writes", func(ctx context.Context) (bool, error) {
		var err error
		if h, err = sc.scrape(ctx); err != nil {
			return false, err
		}
		if h.Passes >= h0.Passes+2 && h.idle() && h.Healthy > 0 {
			return true, nil
		}
		return false, fmt.Errorf("not yet: %s", h)
	})
	return h, err
}

// waitDown waits until the leader's gossip has node id down.
func waitDown(ctx context.Context, c *server.Cluster, lead *server.Node, id string, timeout time.Duration) error {
	adm, err := c.Admin(lead)
	if err != nil {
		return err
	}
	return poll(ctx, 250*time.Millisecond, timeout, "the leader's gossip sees the killed node down", func(ctx context.Context) (bool, error) {
		nodes, err := adm.Nodes(ctx)
		if err != nil {
			return false, err
		}
		for _, n := range nodes {
			if n.ID == id {
				return n.Down, nil
			}
		}
		return false, errors.New("the leader does not list the node")
	})
}

// maxScrapeFailures is how many scrapes in a row may fail during a repair
// (the leader is busy) before the measurement is given up.
const maxScrapeFailures = 50

// repair removes victim from the layout and follows the repair on the
// leader's metrics every pollEvery, with a GET phase running from the
// first rebuilt byte until repair rebuilt what its pass planned (or
// cfg.Load passed). It returns when a later pass found every stripe whole.
func repair(ctx context.Context, cfg Config, c *server.Cluster, adm *adminapi.Client, sc scraper, gw, victim *server.Node, objects int) (*repairWatch, *load.Result, error) {
	before, err := sc.scrape(ctx)
	if err != nil {
		return nil, nil, err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start, stop, ready := make(chan struct{}), make(chan struct{}), make(chan struct{})
	lc := loadConfig(cfg, c, gw, objects)
	lc.Start, lc.Stop, lc.Prepared = start, stop, func() { close(ready) }
	type result struct {
		res *load.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := load.Run(lctx, lc)
		done <- result{res, err}
	}()
	// The GETs are ready (their digests computed) before the removal.
	select {
	case <-ready:
	case r := <-done:
		return nil, nil, fmt.Errorf("GETs, repairing: %w", r.err)
	}
	started, stopped := false, false
	release := func() {
		if !started {
			close(start)
			started = true
		}
		if !stopped {
			close(stop)
			stopped = true
		}
	}
	finished := false
	defer func() {
		// On an error, the GETs end at once; Run returns only after them.
		if !finished {
			cancel()
			release()
			<-done
		}
	}()

	w := &repairWatch{t0: time.Now(), before: before}
	if _, err := adm.Remove(ctx, victim.ID); err != nil {
		return nil, nil, fmt.Errorf("remove %s: %w", victim.Name, err)
	}
	failures := 0
	err = poll(ctx, pollEvery, cfg.Timeout, "repair, and a pass finding every stripe whole", func(ctx context.Context) (bool, error) {
		h, err := sc.scrape(ctx)
		if err != nil {
			if failures++; failures > maxScrapeFailures {
				return false, fatal{fmt.Errorf("%d scrapes in a row failed: %w", failures, err)}
			}
			return false, err
		}
		failures = 0
		w.observe(time.Now(), h)
		if w.started() && !started {
			close(start)
			started = true
		}
		if w.planDone() && !stopped {
			close(stop)
			stopped = true
		}
		return w.done(), nil
	})
	if err != nil {
		return w, nil, err
	}
	release()
	r := <-done
	finished = true
	if r.err != nil {
		return w, nil, fmt.Errorf("GETs, repairing: %w", r.err)
	}
	return w, r.res, nil
}
