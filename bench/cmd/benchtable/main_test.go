package main

import (
	"bytes"
	"strings"
	"testing"
)

const okRun = `pkg: cairn/erasure
BenchmarkKernelSHA256-2   	1000	700000 ns/op	1500.00 MB/s	0 B/op	0 allocs/op
BenchmarkChunkCID1MiB-2   	1000	750000 ns/op	1400.00 MB/s	48 B/op	1 allocs/op
ok  	cairn/erasure	1.0s
`

func TestRun(t *testing.T) {
	for _, c := range []struct {
		name, in string
		err      string // substring of the error, "" for none
		out      string // substring of the output
	}{
		{"ok", okRun, "", "| ChunkCID1MiB | 750,000 |  | 1,400 | 1 | 93% | 1,500 MB/s: SHA256 |"},
		{"failure", okRun + "--- FAIL: BenchmarkX\nFAIL\tcairn/erasure\t1.0s\n", "2 failure lines", "| ChunkCID1MiB |"},
		{"empty", "PASS\nok  \tcairn/x\t0.1s\n", "no benchmark results", "BenchmarkDataPathCPU not in the run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(strings.NewReader(c.in), &out, &errOut)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("err = %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("err = %v, want %q", err, c.err)
			}
			if !strings.Contains(out.String(), c.out) {
				t.Errorf("output lacks %q:\n%s", c.out, out.String())
			}
		})
	}
}
