package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	o, err := parse([]string{"--dev", "--size", "1MiB", "--workloads", "get", "--duration", "3s"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.dev || o.size != 1<<20 || o.workloads != "get" || o.duration != 3*time.Second || o.rounds != 2 || o.concurrency != 16 {
		t.Fatalf("parsed %+v", o)
	}
	if _, err := parse([]string{"--size", "lots"}, &bytes.Buffer{}); err == nil {
		t.Fatal("a bad --size parsed")
	}
	var help bytes.Buffer
	if _, err := parse([]string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-cpuprofile") {
		t.Fatalf("--help: %v\n%s", err, help.String())
	}
}
