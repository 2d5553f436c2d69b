package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	cfg, out, err := parseArgs([]string{"--quick", "--cluster", "--only", "put-64MiB,get-64MiB", "--markdown", "--cpuprofile", "/tmp/p"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Cluster || cfg.ProfileDir != "/tmp/p" || !out.markdown || out.json {
		t.Errorf("cluster %v, profile %q, output %+v", cfg.Cluster, cfg.ProfileDir, out)
	}
	if cfg.Duration != 2*time.Second || cfg.MemIdle != 5*time.Second || cfg.Rounds != 2 || cfg.Concurrency != 16 {
		t.Errorf("quick: duration %v, idle %v, rounds %d, concurrency %d", cfg.Duration, cfg.MemIdle, cfg.Rounds, cfg.Concurrency)
	}
	if !slices.Equal(cfg.Only, []string{"put-64MiB", "get-64MiB"}) {
		t.Errorf("only %q", cfg.Only)
	}
	if cfg.Secure {
		t.Error("secure without --secure")
	}
	for _, args := range [][]string{{"--secure"}, {"--cluster", "--secure"}} {
		cfg, _, err := parseArgs(args, io.Discard)
		if err != nil || !cfg.Secure || cfg.Cluster != (len(args) == 2) {
			t.Errorf("%q: %v, secure %v, cluster %v", args, err, cfg.Secure, cfg.Cluster)
		}
	}
	// --quick leaves what is given.
	if cfg, _, err = parseArgs([]string{"--quick", "--duration", "7s"}, io.Discard); err != nil || cfg.Duration != 7*time.Second || cfg.Cluster {
		t.Errorf("--quick --duration 7s: %v, %v, cluster %v", cfg.Duration, err, cfg.Cluster)
	}
	for _, args := range [][]string{
		{"--rounds", "1"},
		{"--only", "put-2MiB"},
		{"--no-such-flag"},
		{"extra"},
	} {
		if _, _, err := parseArgs(args, io.Discard); !errors.As(err, new(usageError)) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	var help strings.Builder
	if _, _, err := parseArgs([]string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-cluster") || !strings.Contains(help.String(), "-secure") {
		t.Errorf("--help: %v\n%s", err, help.String())
	}
}
