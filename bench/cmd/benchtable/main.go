// Command benchtable reads `go test -bench` output on stdin and prints, per
// package, a Markdown table of every benchmark (ns/op, MB/s, allocs/op) with
// the fraction of its limit, computed from the kernels measured in the same
// run, then a summary line per goal. benchfmt holds the logic and the table
// of limits.
//
//	go test -run='^$' -bench=. -benchmem -count=3 ./erasure/ | benchtable
//
// It exits 1 if the input reports a failure or holds no benchmark, so that
// `go test … | benchtable` fails as go test would.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"cairn/bench/benchfmt"
)

func main() {
	echo := flag.Bool("echo", false, "copy the input to stderr as it is read, to show progress")
	limits := flag.Bool("limits", false, "print the table of limits (benchmark, formula, why) and exit")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go test -bench … | benchtable [-echo]\n       benchtable -limits\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *limits {
		if err := benchfmt.WriteLimits(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		return
	}
	var in io.Reader = os.Stdin
	if *echo {
		in = io.TeeReader(os.Stdin, os.Stderr)
	}
	if err := run(in, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out, errOut io.Writer) error {
	r, err := benchfmt.Parse(in)
	if err != nil {
		return err
	}
	if err := r.Write(out); err != nil {
		return err
	}
	if len(r.Failures) > 0 {
		for _, f := range r.Failures {
			fmt.Fprintln(errOut, f)
		}
		return fmt.Errorf("the run reports %d failure lines", len(r.Failures))
	}
	n := 0
	for _, p := range r.Packages {
		n += len(p.Benchmarks)
	}
	if n == 0 {
		return fmt.Errorf("no benchmark results in the input")
	}
	return nil
}
