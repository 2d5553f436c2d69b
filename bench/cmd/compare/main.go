// Command compare runs the same S3 workloads against Cairn's dev cluster
// and a pinned MinIO on this machine (with --cluster: six storaged
// processes against MinIO's distributed mode on six; with --secure: both
// over HTTPS, with TLS between nodes and encryption at rest) and prints
// them side by side with the machine's kernels; `make bench-compare` runs it. See
// package cairn/bench/compare.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"cairn/bench/compare"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

// output says how the report prints.
type output struct {
	json, markdown bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, out, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	cfg.Log, cfg.LogTTY = stderr, isTerminal(stderr)
	rep, err := compare.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if out.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Write(stdout, out.markdown)
	return nil
}

// parseArgs turns the command line into a valid Config; a bad one is a
// usageError, --help flag.ErrHelp.
func parseArgs(args []string, stderr io.Writer) (compare.Config, output, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "smoke run: 2s runs, 5s memory load and idle (unless given)")
	d := compare.DefaultConfig()
	var cfg compare.Config
	var out output
	fs.StringVar(&cfg.Go, "go", d.Go, "the go command")
	fs.StringVar(&cfg.Storaged, "storaged", "", "storaged binary to use instead of building cairn/cmd/storaged")
	fs.StringVar(&cfg.MinIO, "minio", "", "minio binary to use instead of the pinned build ("+compare.MinIOVersion+")")
	fs.StringVar(&cfg.Dir, "dir", "", "parent of the temporary data directory: the disk both servers use (default $TMPDIR or /tmp)")
	fs.BoolVar(&cfg.Cluster, "cluster", false, "six storaged processes (3 gateways) against MinIO's distributed mode on six processes, instead of storaged --dev against one MinIO process")
	fs.BoolVar(&cfg.Secure, "secure", false, "equal security on both sides: S3 over HTTPS (a throwaway CA's certificate) for Cairn and MinIO, "+
		"TLS between MinIO's nodes (--cluster) and MinIO's SSE-S3 at rest under a static KMS key, checked on every run "+
		"(Cairn's mutual TLS between nodes and sealing are always on); without it Cairn's S3 and all of MinIO are plain HTTP and MinIO stores plaintext")
	fs.StringVar(&cfg.ProfileDir, "cpuprofile", "", "save a CPU profile of each Cairn process over each of Cairn's timed phases in this `dir` (storaged --debug-addr)")
	fs.DurationVar(&cfg.Duration, "duration", d.Duration, "timed phase of each run")
	fs.IntVar(&cfg.Rounds, "rounds", d.Rounds, "rounds per workload and server (best reported; at least 2)")
	fs.IntVar(&cfg.Concurrency, "concurrency", d.Concurrency, "operations in flight")
	only := fs.String("only", "", "comma-separated workloads to run, of: "+planNames())
	fs.BoolVar(&cfg.SkipMemory, "skip-memory", false, "skip the memory measurement")
	fs.DurationVar(&cfg.MemDuration, "mem-duration", d.MemDuration, "timed phase of the memory load")
	fs.IntVar(&cfg.MemConcurrency, "mem-concurrency", d.MemConcurrency, "concurrency of the memory load")
	fs.DurationVar(&cfg.MemIdle, "mem-idle", d.MemIdle, "idle time after the memory load before reading VmRSS")
	fs.BoolVar(&out.json, "json", false, "print the report as JSON")
	fs.BoolVar(&out.markdown, "markdown", false, "print the tables as Markdown (for bench/RESULTS.md)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, out, err
		}
		return cfg, out, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, out, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *quick {
		q := compare.QuickConfig()
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			cfg.Duration = q.Duration
		}
		if !set["mem-duration"] {
			cfg.MemDuration = q.MemDuration
		}
		if !set["mem-idle"] {
			cfg.MemIdle = q.MemIdle
		}
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, out, usageError{err}
	}
	return cfg, out, nil
}

func planNames() string {
	var names []string
	for _, w := range compare.Plan(1) {
		names = append(names, w.Name)
	}
	return strings.Join(names, ", ")
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
