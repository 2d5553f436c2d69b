// Command s3load drives an S3 endpoint with a workload and prints its
// throughput and latency percentiles; see `s3load --help` and the README.
// The work is done by package cairn/bench/load.
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

	"cairn/bench/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C s3load stops its workers, prints what it
		// measured and deletes its objects; a second one kills it.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "s3load:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "s3load:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line.
type usageError struct{ error }

// errOpsFailed is returned when the run completed but some operations failed.
var errOpsFailed = errors.New("some operations failed")

// run parses args, runs the workload and prints the result to stdout;
// progress and errors go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	d := load.DefaultConfig()
	cfg := d
	fs := flag.NewFlagSet("s3load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Endpoint, "endpoint", "127.0.0.1:9000", "S3 endpoint, `host:port` or an http(s):// URL; several, comma-separated, take the operations in turn")
	fs.StringVar(&cfg.AccessKey, "access-key", getenv("AWS_ACCESS_KEY_ID"), "access key (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&cfg.SecretKey, "secret-key", "", "secret key (default $AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&cfg.Region, "region", d.Region, "region to sign requests for")
	fs.StringVar(&cfg.Bucket, "bucket", "s3load", "bucket, created if missing (and then removed unless --keep)")
	fs.StringVar(&cfg.Workload, "workload", d.Workload, "workload: "+strings.Join(load.Workloads, ", "))
	size := fs.String("size", "1MiB", "object `size`: 4KiB, 1MiB, 64MiB, 1GiB… (list: 0 unless given)")
	fs.IntVar(&cfg.Concurrency, "concurrency", d.Concurrency, "operations in flight")
	fs.DurationVar(&cfg.Duration, "duration", d.Duration, "length of the timed phase")
	fs.Int64Var(&cfg.Count, "count", 0, "run exactly this many operations instead of --duration")
	fs.IntVar(&cfg.Objects, "objects", 0, "objects get, mixed and list prepare (default list 2000, else max(2×concurrency, 16) within 4 GiB)")
	fs.Float64Var(&cfg.GetRatio, "get-ratio", d.GetRatio, "mixed: fraction of operations that are GETs")
	fs.IntVar(&cfg.PageSize, "page-size", d.PageSize, "list: keys per ListObjectsV2 page")
	partSize := fs.String("part-size", "0", "upload objects larger than this by multipart in parts of this `size` (0: single PUTs)")
	fs.BoolVar(&cfg.SignPayload, "sign-payload", false, "sign bodies with streaming SigV4 chunks (SHA-256 at both ends) instead of UNSIGNED-PAYLOAD")
	noVerify := fs.Bool("no-verify", false, "do not hash GET bodies (their lengths are still checked)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the objects (and a bucket s3load created)")
	fs.StringVar(&cfg.Prefix, "prefix", "", "key prefix (default s3load/RUNID/)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: s3load [flags]\n\nDrives an S3 endpoint with a workload and prints throughput and latency.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = getenv("AWS_SECRET_ACCESS_KEY")
	}
	if strings.Contains(cfg.Endpoint, ",") {
		cfg.Endpoints = strings.Split(cfg.Endpoint, ",")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	if cfg.Size, err = load.ParseSize(*size); err != nil {
		return usageError{err}
	}
	if cfg.Workload == load.WorkloadList && !set["size"] {
		cfg.Size = 0
	}
	if cfg.PartSize, err = load.ParseSize(*partSize); err != nil {
		return usageError{err}
	}
	if set["count"] && !set["duration"] {
		cfg.Duration = 0
	}
	cfg.NoVerify = *noVerify
	if !*quiet {
		cfg.Progress, cfg.ProgressTTY = stderr, isTerminal(stderr)
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}

	res, err := load.Run(ctx, cfg)
	if res != nil {
		if perr := printResult(stdout, res, *asJSON); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	if res.Errors() > 0 {
		return fmt.Errorf("%w: %d of %d", errOpsFailed, res.Errors(), res.Errors()+res.Total.Count)
	}
	return nil
}

func printResult(w io.Writer, res *load.Result, asJSON bool) error {
	if !asJSON {
		return load.WriteTable(w, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
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
