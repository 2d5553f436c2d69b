package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}[k]
	}
	for _, args := range [][]string{
		{"--size", "lots"},
		{"--workload", "delete"},
		{"--concurrency", "0"},
		{"--get-ratio", "2"},
		{"--part-size", "1MiB"},
		{"--endpoint", "ftp://x:1"},
		{"--endpoint", "127.0.0.1:9000,ftp://x:1"},
		{"extra"},
		{"--no-such-flag"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard, env)
		if !errors.As(err, new(usageError)) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	noKeys := func(string) string { return "" }
	if err := run(context.Background(), nil, io.Discard, io.Discard, noKeys); !errors.As(err, new(usageError)) ||
		!strings.Contains(err.Error(), "secret key") {
		t.Errorf("without keys: %v", err)
	}
	var help strings.Builder
	if err := run(context.Background(), []string{"--help"}, io.Discard, &help, env); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(help.String(), "--workload") && !strings.Contains(help.String(), "-workload") {
		t.Errorf("--help: %v\n%s", err, help.String())
	}
}
