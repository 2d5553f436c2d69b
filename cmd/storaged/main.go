// Command storaged is the Cairn node daemon. With --dev it runs a whole
// cluster in one process; see `storaged --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"cairn/internal/node"
)

const usage = `storaged — the Cairn node daemon

Usage:
  storaged --dev [--data DIR] [--s3 ADDR]

Modes:
  --dev         run an embedded cluster in one process: 6 storage nodes over
                directories in 3 zones, 4+2 Reed-Solomon stripes, a single-voter
                Raft metadata group, and S3 on --s3.

Flags:
`

const envHelp = `
Environment:
  CAIRN_ACCESS_KEY, CAIRN_SECRET_KEY
                S3 credentials for --dev. When unset, the pair saved in
                DIR/credentials.json is used, or a new pair is generated, saved
                there and printed at start.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "storaged:", err)
		}
		os.Exit(2)
	}
}

func run(args []string) error {
	def := node.DefaultDev()
	fs := flag.NewFlagSet("storaged", flag.ContinueOnError)
	dev := fs.Bool("dev", false, "run the embedded dev cluster in one process")
	data := fs.String("data", def.DataDir, "data directory (metadata, node directories, credentials)")
	s3 := fs.String("s3", def.S3Addr, "S3 listen address (host:port; port 0 picks a free one)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text or json (logs go to stderr)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), envHelp)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see storaged --help)", fs.Arg(0))
	}
	if !*dev {
		return errors.New("no mode given: run `storaged --dev` for the embedded cluster (see storaged --help)")
	}
	log, err := newLogger(*level, *format)
	if err != nil {
		return err
	}

	cfg := def
	cfg.DataDir, cfg.S3Addr, cfg.Logger = *data, *s3, log
	cfg.AccessKey, cfg.SecretKey = os.Getenv("CAIRN_ACCESS_KEY"), os.Getenv("CAIRN_SECRET_KEY")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return node.RunDev(ctx, cfg)
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
