// Command cpuload measures Cairn's server CPU per MiB under a load: it
// starts six storaged processes on loopback (bench/server's cluster, as
// `compare --cluster` does) or one `storaged --dev` (--dev), drives them
// with bench/load's workloads, and prints for each round the throughput
// and the CPU time the servers used (from /proc, summed over the
// processes) per MiB moved. It runs no MinIO: where the machine is
// shared, the CPU per MiB moves much less with the others' load than the
// throughput does, and is what a change to the data path is judged by
// (bench/RESULTS.md). See `cpuload --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/bench/load"
	"cairn/bench/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "cpuload:", err)
		os.Exit(1)
	}
}

type options struct {
	bin, prof, workloads string
	dev, reuse           bool
	size                 int64
	duration             time.Duration
	rounds, concurrency  int
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("cpuload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "storaged", "bin/storaged", "the storaged binary")
	fs.BoolVar(&o.dev, "dev", false, "one storaged --dev instead of six processes")
	fs.StringVar(&o.workloads, "workloads", "put,get", "comma-separated bench/load workloads, run in this order each round")
	size := fs.String("size", "64MiB", "object size")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "timed phase of each run")
	fs.IntVar(&o.rounds, "rounds", 2, "rounds")
	fs.IntVar(&o.concurrency, "concurrency", 16, "operations in flight")
	fs.BoolVar(&o.reuse, "reuse", false, "get: prepare the objects in round 1 only, and read the same ones in later rounds (their shards then come from the page cache)")
	fs.StringVar(&o.prof, "cpuprofile", "", "cluster: save a CPU profile of every process over each timed phase in this `dir` (WORKLOAD-rROUND-NODE.pprof)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	n, err := load.ParseSize(*size)
	if err != nil {
		return o, fmt.Errorf("--size: %w", err)
	}
	o.size = n
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "cpuload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var (
		procs     []*server.Proc
		debug     []string // --debug-addr per process, with its name
		endpoints []string
		ak, sk    string
	)
	if o.dev {
		p, err := server.StartCairn(ctx, server.CairnOptions{Bin: o.bin, Data: filepath.Join(dir, "data"), LogPath: filepath.Join(dir, "storaged.log"),
			AccessKey: "cpuloadaccesskey", SecretKey: "cpuloadsecretkeycpuloadsecret", Args: []string{"--log-level", "warn"}})
		if err != nil {
			return err
		}
		defer p.Stop(5 * time.Second)
		mc, err := p.Client()
		if err != nil {
			return err
		}
		if err := mc.MakeBucket(ctx, "bench", minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
		procs, endpoints, ak, sk = []*server.Proc{p}, []string{p.Endpoint}, p.AccessKey, p.SecretKey
	} else {
		cl, err := server.StartCluster(ctx, server.ClusterOptions{Bin: o.bin, Dir: filepath.Join(dir, "cluster"), LogLevel: "warn", Debug: o.prof != ""})
		if err != nil {
			return err
		}
		defer cl.Stop(5 * time.Second)
		adm, err := cl.Admin(cl.Nodes[0])
		if err != nil {
			return err
		}
		if _, err := adm.CreateBucket(ctx, "bench"); err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
		if err := cl.WaitPlacing(ctx, "bench"); err != nil {
			return err
		}
		for _, n := range cl.Nodes {
			procs = append(procs, n.Proc)
			if n.S3 {
				endpoints = append(endpoints, n.S3Addr)
			}
			if n.DebugAddr != "" {
				debug = append(debug, n.Name+" "+n.DebugAddr)
			}
		}
		ak, sk = cl.AccessKey, cl.SecretKey
	}
	// cpu returns the processes' CPU time in all, and the kernel's part.
	cpu := func() (all, sys time.Duration, err error) {
		for _, p := range procs {
			u, s, err := p.CPUTimes()
			if err != nil {
				return 0, 0, err
			}
			all += u + s
			sys += s
		}
		return all, sys, nil
	}
	for r := 1; r <= o.rounds; r++ {
		for _, w := range strings.Split(o.workloads, ",") {
			lc := load.DefaultConfig()
			lc.Endpoint, lc.AccessKey, lc.SecretKey, lc.Bucket = endpoints[0], ak, sk, "bench"
			if len(endpoints) > 1 {
				lc.Endpoints = endpoints
			}
			lc.Workload, lc.Size, lc.Concurrency, lc.Duration = w, o.size, o.concurrency, o.duration
			lc.CancelSkipsCleanup = true
			if o.reuse && w == load.WorkloadGet {
				lc.Prefix, lc.Keep, lc.Reuse = "cpuload-reuse/", true, r > 1
			}
			var c0, c1, s0, s1 time.Duration
			var cerr error
			var wg sync.WaitGroup
			lc.BeforeTimed = func() {
				for _, d := range debug {
					name, addr, _ := strings.Cut(d, " ")
					path := filepath.Join(o.prof, fmt.Sprintf("%s-r%d-%s.pprof", w, r, name))
					wg.Go(func() {
						if err := fetchProfile(ctx, addr, o.duration, path); err != nil {
							fmt.Fprintln(stderr, "cpuload:", err)
						}
					})
				}
				c0, s0, cerr = cpu()
			}
			lc.AfterTimed = func() {
				var err error
				c1, s1, err = cpu()
				cerr = errors.Join(cerr, err)
			}
			res, err := load.Run(ctx, lc)
			wg.Wait()
			if err != nil {
				return fmt.Errorf("round %d %s: %w", r, w, err)
			}
			if cerr != nil {
				return fmt.Errorf("round %d %s: server CPU: %w", r, w, cerr)
			}
			mib := res.Total.MiBPerSec * res.Seconds
			fmt.Fprintf(stdout, "round %d %-6s %7.1f MiB/s  cpu %.2f cores  %.2f ms/MiB (kernel %.2f)  errors %d\n", r, w, res.Total.MiBPerSec,
				(c1-c0).Seconds()/res.Seconds, (c1-c0).Seconds()*1000/mib, (s1-s0).Seconds()*1000/mib, res.Total.Errors)
		}
	}
	return nil
}

// fetchProfile saves the CPU profile of the next d of the process whose
// --debug-addr is addr.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", addr, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", addr, err)
	}
	return f.Close()
}
