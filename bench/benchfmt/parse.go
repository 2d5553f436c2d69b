package benchfmt

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Standard units of `go test -bench -benchmem` lines.
const (
	UnitNsPerOp     = "ns/op"
	UnitMBPerS      = "MB/s"
	UnitBytesPerOp  = "B/op"
	UnitAllocsPerOp = "allocs/op"
)

// Run is one `go test -bench` output: the benchmarks of every package, in
// the order they first appear.
type Run struct {
	GOOS, GOARCH, CPU string
	Packages          []*Package
	// Failures are the lines that report a failed test, benchmark or
	// build ("--- FAIL: …", "FAIL\tpkg …", "panic: …"), in order.
	Failures []string
}

// Package is the benchmarks of one package.
type Package struct {
	Path       string
	Benchmarks []*Benchmark
}

// Benchmark is every sample of one benchmark: one per -count.
type Benchmark struct {
	// Name is the full name without the GOMAXPROCS suffix, such as
	// "BenchmarkEncode1MiB/4+2".
	Name string
	// Procs is the GOMAXPROCS the benchmark ran with (the "-N" suffix), 1
	// when the name has none.
	Procs   int
	Samples []Sample
}

// Sample is one result line: the iterations and each metric by unit.
type Sample struct {
	N       int64
	Metrics map[string]float64
}

// Median returns the median of the metric over the samples that report
// it, and whether any does.
func (b *Benchmark) Median(unit string) (float64, bool) {
	var vs []float64
	for _, s := range b.Samples {
		if v, ok := s.Metrics[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m], true
	}
	return (vs[m-1] + vs[m]) / 2, true
}

// Spread returns half the range of the metric over the samples, as a
// fraction of its median: 0.05 when they lie within ±5%. It is 0 for fewer
// than two samples.
func (b *Benchmark) Spread(unit string) float64 {
	med, ok := b.Median(unit)
	if !ok || med == 0 {
		return 0
	}
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, s := range b.Samples {
		if v, ok := s.Metrics[unit]; ok {
			lo, hi, n = min(lo, v), max(hi, v), n+1
		}
	}
	if n < 2 {
		return 0
	}
	return (hi - lo) / 2 / med
}

// Units returns the units the samples report, standard ones first, then
// the others (b.ReportMetric) in sorted order.
func (b *Benchmark) Units() []string {
	seen := map[string]bool{}
	for _, s := range b.Samples {
		for u := range s.Metrics {
			seen[u] = true
		}
	}
	var std, other []string
	for _, u := range []string{UnitNsPerOp, UnitMBPerS, UnitBytesPerOp, UnitAllocsPerOp} {
		if seen[u] {
			std = append(std, u)
			delete(seen, u)
		}
	}
	for u := range seen {
		other = append(other, u)
	}
	slices.Sort(other)
	return append(std, other...)
}

// Lookup returns the package's benchmark of that name and GOMAXPROCS.
func (p *Package) Lookup(name string, procs int) *Benchmark {
	for _, b := range p.Benchmarks {
		if b.Name == name && b.Procs == procs {
			return b
		}
	}
	return nil
}

// Package returns the run's package of that import path, or nil.
func (r *Run) Package(path string) *Package {
	for _, p := range r.Packages {
		if p.Path == path {
			return p
		}
	}
	return nil
}

// Parse reads `go test -bench` output, as many packages and -count
// repetitions as it holds. Lines it does not recognize (logs, PASS, ok) are
// skipped; result lines seen before any "pkg:" header belong to a package
// with an empty path. Only a read error is an error.
func Parse(r io.Reader) (*Run, error) {
	run := &Run{}
	var cur *Package
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "goos: "):
			run.GOOS = strings.TrimSpace(line[len("goos: "):])
		case strings.HasPrefix(line, "goarch: "):
			run.GOARCH = strings.TrimSpace(line[len("goarch: "):])
		case strings.HasPrefix(line, "cpu: "):
			run.CPU = strings.TrimSpace(line[len("cpu: "):])
		case strings.HasPrefix(line, "pkg: "):
			cur = run.pkg(strings.TrimSpace(line[len("pkg: "):]))
		case isFailure(line):
			run.Failures = append(run.Failures, strings.TrimSpace(line))
		case strings.HasPrefix(line, "Benchmark"):
			name, procs, s, ok := parseResult(line)
			if !ok {
				continue
			}
			if cur == nil {
				cur = run.pkg("")
			}
			b := cur.Lookup(name, procs)
			if b == nil {
				b = &Benchmark{Name: name, Procs: procs}
				cur.Benchmarks = append(cur.Benchmarks, b)
			}
			b.Samples = append(b.Samples, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchfmt: read: %w", err)
	}
	return run, nil
}

// pkg returns the run's package of that path, adding it if new: with
// -count, a package's header comes once, but output may be concatenated.
func (r *Run) pkg(path string) *Package {
	if p := r.Package(path); p != nil {
		return p
	}
	p := &Package{Path: path}
	r.Packages = append(r.Packages, p)
	return p
}

func isFailure(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "--- FAIL") || t == "FAIL" || strings.HasPrefix(t, "FAIL\t") ||
		strings.HasPrefix(t, "FAIL ") || strings.HasPrefix(line, "panic: ")
}

// parseResult parses "BenchmarkName-8  1000  1234 ns/op  56.7 MB/s …": a
// name, an iteration count, and value-unit pairs.
func parseResult(line string) (name string, procs int, s Sample, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", 0, Sample{}, false
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n <= 0 {
		return "", 0, Sample{}, false
	}
	s = Sample{N: n, Metrics: make(map[string]float64, (len(f)-2)/2)}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", 0, Sample{}, false
		}
		s.Metrics[f[i+1]] = v
	}
	name, procs = splitProcs(f[0])
	return name, procs, s, true
}

// splitProcs splits the "-N" GOMAXPROCS suffix off a benchmark name. The
// testing package adds none when GOMAXPROCS is 1.
func splitProcs(full string) (string, int) {
	i := strings.LastIndexByte(full, '-')
	if i < 0 {
		return full, 1
	}
	p, err := strconv.Atoi(full[i+1:])
	if err != nil || p < 1 {
		return full, 1
	}
	return full[:i], p
}
