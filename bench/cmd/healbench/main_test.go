package main

import (
	"io"
	"slices"
	"testing"
	"time"

	"cairn/bench/heal"
)

func TestParse(t *testing.T) {
	cfg, asJSON, markdown, err := parse([]string{"./bin/healbench", "--data", "256MiB", "--load", "5s", "--rates", "default,unlimited", "--json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data != 256<<20 || cfg.ObjectSize != 4<<20 || cfg.Load != 5*time.Second || !asJSON || markdown ||
		!slices.Equal(cfg.Rates, []string{heal.RateDefault, heal.RateUnlimited}) {
		t.Fatalf("parsed %+v json %v markdown %v", cfg, asJSON, markdown)
	}
	if cfg.Command != "./bin/healbench --data 256MiB --load 5s --rates default,unlimited --json" {
		t.Fatalf("command %q", cfg.Command)
	}
	// The defaults survive their own printing.
	d, _, _, err := parse([]string{"healbench"}, io.Discard)
	if err != nil || d.Data != heal.DefaultConfig().Data || d.ObjectSize != heal.DefaultConfig().ObjectSize {
		t.Fatalf("defaults: %+v, %v", d, err)
	}
	for _, bad := range [][]string{
		{"healbench", "--data", "lots"},
		{"healbench", "--rates", "fast"},
		{"healbench", "--object-size", "4KiB"},
		{"healbench", "extra"},
	} {
		if _, _, _, err := parse(bad, io.Discard); err == nil {
			t.Errorf("%q parsed", bad)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("%q: %v is not a usage error", bad, err)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"healbench", "--dir", "/tmp/a b", "--go", "it's"})
	if want := `healbench --dir '/tmp/a b' --go 'it'\''s'`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
