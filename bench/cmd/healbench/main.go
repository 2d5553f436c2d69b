// Command healbench measures repair on a loopback cluster of storaged
// processes: the throughput of rebuilt data beside the machine's raw
// limits, and GET latency with and without repair running; `make
// bench-heal` runs it. See package cairn/bench/heal.
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

	"github.com/dustin/go-humanize"

	"cairn/bench/heal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "healbench:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "healbench:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

// run parses args (args[0] is the command's name) and runs the benchmark;
// the report goes to stdout, progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, asJSON, markdown, err := parse(args, stderr)
	if err != nil {
		return err
	}
	cfg.Log, cfg.LogTTY = stderr, isTerminal(stderr)
	rep, err := heal.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Write(stdout, markdown)
	return nil
}

// parse turns the command line into a Config.
func parse(args []string, stderr io.Writer) (cfg heal.Config, asJSON, markdown bool, err error) {
	d := heal.DefaultConfig()
	cfg = d
	fs := flag.NewFlagSet("healbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Go, "go", d.Go, "the go command")
	fs.StringVar(&cfg.Storaged, "storaged", "", "storaged binary to use instead of building cairn/cmd/storaged")
	fs.StringVar(&cfg.Dir, "dir", "", "parent of the cluster's temporary directory: the disk it uses (default $TMPDIR or /tmp)")
	data := fs.String("data", humanize.IBytes(uint64(d.Data)), "`size` of the data set (256MiB, 2GiB...)")
	size := fs.String("object-size", humanize.IBytes(uint64(d.ObjectSize)), "`size` of each object")
	fs.DurationVar(&cfg.Load, "load", d.Load, "length of each GET phase (the one during repair ends with the repair)")
	fs.IntVar(&cfg.Concurrency, "concurrency", d.Concurrency, "GETs in flight")
	rates := fs.String("rates", strings.Join(d.Rates, ","), "repair rates, each on a cluster of its own: default (storaged's), unlimited, or bytes per second (128MiB); comma-separated")
	fs.DurationVar(&cfg.HealInterval, "heal-interval", d.HealInterval, "the meta nodes' --heal-interval: how soon a pass confirms the repair's end")
	fs.DurationVar(&cfg.Timeout, "timeout", d.Timeout, "bound on each wait for the cluster (healing idle, the repair)")
	fs.BoolVar(&cfg.KeepDir, "keep", false, "keep the clusters' data and logs after a run that succeeded (always kept after a failure)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&markdown, "markdown", false, "print the tables as Markdown (for bench/RESULTS.md)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: healbench [flags]\n\nMeasures repair of a dead node's shards on a loopback cluster of six storaged processes:\nthroughput beside the raw limits measured in the same run, and GET latency with and\nwithout repair.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, false, false, err
		}
		return cfg, false, false, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, false, false, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	n, err := humanize.ParseBytes(*data)
	if err != nil {
		return cfg, false, false, usageError{fmt.Errorf("--data %q: %w", *data, err)}
	}
	cfg.Data = int64(n)
	if n, err = humanize.ParseBytes(*size); err != nil {
		return cfg, false, false, usageError{fmt.Errorf("--object-size %q: %w", *size, err)}
	}
	cfg.ObjectSize = int64(n)
	cfg.Rates = strings.Split(*rates, ",")
	cfg.Command = commandLine(args)
	if err := cfg.Validate(); err != nil {
		return cfg, false, false, usageError{err}
	}
	return cfg, asJSON, markdown, nil
}

// commandLine is args as a shell would take them back: arguments with
// spaces or quotes single-quoted.
func commandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
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
