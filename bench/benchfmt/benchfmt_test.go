package benchfmt

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func parseFile(t *testing.T, name string) *Run {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lookup(t *testing.T, r *Run, pkg, name string) (*Package, *Benchmark) {
	t.Helper()
	p := r.Package(pkg)
	if p == nil {
		t.Fatalf("no package %s", pkg)
	}
	for _, b := range p.Benchmarks {
		if b.Name == name {
			return p, b
		}
	}
	t.Fatalf("no %s in %s", name, pkg)
	return nil, nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestParse(t *testing.T) {
	r := parseFile(t, "run.txt")
	if r.GOOS != "linux" || r.GOARCH != "amd64" || r.CPU != "AMD EPYC" {
		t.Errorf("header: %q %q %q", r.GOOS, r.GOARCH, r.CPU)
	}
	var paths []string
	for _, p := range r.Packages {
		paths = append(paths, p.Path)
	}
	if want := []string{"cairn/erasure", "cairn/internal/blob", "cairn/internal/meta"}; !slices.Equal(paths, want) {
		t.Errorf("packages %q, want %q", paths, want)
	}
	_, dp := lookup(t, r, "cairn/erasure", "BenchmarkDataPathCPU")
	if dp.Procs != 2 || len(dp.Samples) != 3 {
		t.Errorf("DataPathCPU: procs %d, %d samples", dp.Procs, len(dp.Samples))
	}
	if s := dp.Samples[1]; s.N != 4 || s.Metrics[UnitNsPerOp] != 310000000 || s.Metrics[UnitMBPerS] != 216.5 ||
		s.Metrics[UnitBytesPerOp] != 23100 || s.Metrics[UnitAllocsPerOp] != 512 {
		t.Errorf("second sample %+v", s)
	}
	_, put := lookup(t, r, "cairn/internal/meta", "BenchmarkPutObject/par=1")
	if got, want := put.Units(), []string{UnitNsPerOp, UnitBytesPerOp, UnitAllocsPerOp, "entries/batch", "goroutines", "puts/s"}; !slices.Equal(got, want) {
		t.Errorf("units %q, want %q", got, want)
	}
	if len(r.Failures) != 0 {
		t.Errorf("failures %q", r.Failures)
	}
}

func TestParseFailuresAndNoise(t *testing.T) {
	in := `BenchmarkOrphan-4   	 10	 100 ns/op
--- FAIL: BenchmarkX
    x_test.go:12: boom
BenchmarkLogged
    y_test.go:3: a log line
BenchmarkLogged-4   	 abc	 100 ns/op
BenchmarkOdd-4   	 10	 100 ns/op 5
FAIL
FAIL	cairn/x	0.1s
FAIL	cairn/y [build failed]
panic: oops
`
	r, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Packages) != 1 || r.Packages[0].Path != "" || len(r.Packages[0].Benchmarks) != 1 ||
		r.Packages[0].Benchmarks[0].Name != "BenchmarkOrphan" || r.Packages[0].Benchmarks[0].Procs != 4 {
		t.Errorf("packages: %+v", r.Packages)
	}
	want := []string{"--- FAIL: BenchmarkX", "FAIL", "FAIL\tcairn/x\t0.1s", "FAIL\tcairn/y [build failed]", "panic: oops"}
	if !slices.Equal(r.Failures, want) {
		t.Errorf("failures %q, want %q", r.Failures, want)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	if _, err := Parse(failReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

func TestSplitProcs(t *testing.T) {
	for _, c := range []struct {
		in    string
		name  string
		procs int
	}{
		{"BenchmarkA-8", "BenchmarkA", 8},
		{"BenchmarkA", "BenchmarkA", 1},
		{"BenchmarkDataPath/kernel-rs-encode-4+2-2", "BenchmarkDataPath/kernel-rs-encode-4+2", 2},
		{"BenchmarkA/kernel-md5", "BenchmarkA/kernel-md5", 1},
		{"BenchmarkA-0", "BenchmarkA-0", 1},
	} {
		if name, procs := splitProcs(c.in); name != c.name || procs != c.procs {
			t.Errorf("splitProcs(%q) = %q, %d; want %q, %d", c.in, name, procs, c.name, c.procs)
		}
	}
}

func TestMedian(t *testing.T) {
	b := &Benchmark{}
	if _, ok := b.Median(UnitNsPerOp); ok {
		t.Error("median of nothing")
	}
	for _, c := range []struct {
		vs   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 100, 1, 8, 7}, 8},
	} {
		b.Samples = nil
		for _, v := range c.vs {
			b.Samples = append(b.Samples, Sample{N: 1, Metrics: map[string]float64{UnitNsPerOp: v}})
		}
		// A sample without the unit does not count.
		b.Samples = append(b.Samples, Sample{N: 1, Metrics: map[string]float64{}})
		if got, _ := b.Median(UnitNsPerOp); got != c.want {
			t.Errorf("median %v = %v, want %v", c.vs, got, c.want)
		}
	}
}

// The kernels of testdata/run.txt, cairn/erasure, as medians, and the one
// BLAKE3 sample of cairn/internal/blob, whose other byte kernels come from
// cairn/erasure.
const (
	kSHA        = 1500.0
	kBLAKE3     = 3300.0
	kMD5        = 600.0
	kRS         = 20000.0
	kCopy       = 15000.0
	kBlobBLAKE3 = 3200.0
)

func TestBoundDataPath(t *testing.T) {
	r := parseFile(t, "run.txt")
	p, b := lookup(t, r, "cairn/erasure", "BenchmarkDataPathCPU")
	bd := r.Bound(p, b)
	if bd == nil || bd.Missing != "" {
		t.Fatalf("bound %+v", bd)
	}
	want := 1 / (1/kMD5 + 1/kSHA + 1/kRS + 1/kCopy)
	if !near(bd.MBPerS, want) || bd.Cores != 1 || len(bd.Borrowed) != 0 {
		t.Errorf("bound %.3f MB/s on %d cores (borrowed %v), want %.3f on 1", bd.MBPerS, bd.Cores, bd.Borrowed, want)
	}
	if !near(bd.Fraction, 223.70/want) {
		t.Errorf("fraction %.4f, want %.4f", bd.Fraction, 223.70/want)
	}
}

func TestBoundParallel(t *testing.T) {
	r := parseFile(t, "run.txt")
	p, b := lookup(t, r, "cairn/erasure", "BenchmarkEncode1MiB/4+2")
	bd := r.Bound(p, b)
	// 1e6 bytes per op: the copy (serial) 66,667 ns; the coding 50,000 ns;
	// on 2 cores the serial copy is the longer.
	wantNs := 1e6 * 1e3 / kCopy
	if bd.Cores != 2 || !near(bd.NsPerOp, wantNs) || !near(bd.Fraction, wantNs/100000) {
		t.Errorf("bound %+v, want %.0f ns/op on 2 cores", bd, wantNs)
	}
}

func TestBoundPerOpAndBorrowed(t *testing.T) {
	r := parseFile(t, "run.txt")
	// Put/disk: BLAKE3 from the package's own kernel (3,200 MB/s, not
	// cairn/erasure's 3,300), and one Fsync per op.
	p, b := lookup(t, r, "cairn/internal/blob", "BenchmarkPut/disk")
	bd := r.Bound(p, b)
	bytesPerOp := 43.69 * 6e6 / 1e3
	wantNs := bytesPerOp*1e3/kBlobBLAKE3 + 1.5e6
	if bd.Missing != "" || !near(bd.NsPerOp, wantNs) || !near(bd.Fraction, wantNs/6e6) {
		t.Errorf("Put/disk: bound %+v, want %.0f ns/op", bd, wantNs)
	}
	if len(bd.Borrowed) != 0 {
		t.Errorf("Put/disk: borrowed %v, want none", bd.Borrowed)
	}
	// Put/tmpfs: the package has no Copy kernel; it is cairn/erasure's.
	p, b = lookup(t, r, "cairn/internal/blob", "BenchmarkPut/tmpfs")
	bd = r.Bound(p, b)
	bytesPerOp = 374.49 * 700000 / 1e3
	wantNs = bytesPerOp*1e3/kBlobBLAKE3 + bytesPerOp*1e3/kCopy
	if bd.Missing != "" || !near(bd.NsPerOp, wantNs) || !near(bd.Fraction, wantNs/700000) {
		t.Errorf("Put/tmpfs: bound %+v, want %.0f ns/op", bd, wantNs)
	}
	if want := map[string]string{Copy: "cairn/erasure"}; len(bd.Borrowed) != 1 || bd.Borrowed[Copy] != want[Copy] {
		t.Errorf("Put/tmpfs: borrowed %v, want %v", bd.Borrowed, want)
	}
}

func TestBoundMissing(t *testing.T) {
	r := parseFile(t, "run.txt")
	// Without cairn/erasure, the blob benchmarks have no copy kernel to
	// read against.
	r.Packages = r.Packages[1:]
	p, b := lookup(t, r, "cairn/internal/blob", "BenchmarkGet")
	bd := r.Bound(p, b)
	if bd == nil || bd.Missing != "no Copy kernel in the run" {
		t.Errorf("bound %+v", bd)
	}
	// Without the package's own BLAKE3 kernel either, both are missing,
	// in the order of the terms.
	p.Benchmarks = slices.DeleteFunc(p.Benchmarks, func(b *Benchmark) bool { return b.Name == KernelPrefix+BLAKE3 })
	bd = r.Bound(p, b)
	if bd == nil || bd.Missing != "no Copy, BLAKE3 kernel in the run" {
		t.Errorf("bound %+v", bd)
	}
	// A benchmark that no limit names has no bound at all.
	p, b = lookup(t, r, "cairn/internal/meta", "BenchmarkPutObject/par=1")
	if bd := r.Bound(p, b); bd != nil {
		t.Errorf("bound %+v for a benchmark with no limit", bd)
	}
	if got := r.Summary(); len(got) != 1 || !strings.Contains(got[0], "BenchmarkDataPathCPU not in the run") {
		t.Errorf("summary %q", got)
	}
}

func TestSummary(t *testing.T) {
	r := parseFile(t, "run.txt")
	got := r.Summary()
	want := "in-process data path: 224 MB/s = 55% of its one-core kernel bound 408 MB/s (goal ≥ 70%): NOT met"
	if len(got) != 1 || got[0] != want {
		t.Errorf("summary\n%q\nwant\n%q", got, want)
	}
	// 30% less time per op: 78% of the same bound.
	_, b := lookup(t, r, "cairn/erasure", "BenchmarkDataPathCPU")
	for _, s := range b.Samples {
		s.Metrics[UnitNsPerOp] *= 0.7
		s.Metrics[UnitMBPerS] /= 0.7
	}
	want = "in-process data path: 320 MB/s = 78% of its one-core kernel bound 408 MB/s (goal ≥ 70%): met"
	if got := r.Summary(); len(got) != 1 || got[0] != want {
		t.Errorf("summary\n%q\nwant\n%q", got, want)
	}
}

func TestFormula(t *testing.T) {
	for _, c := range []struct {
		pkg, bench, want string
	}{
		{"cairn/erasure", "BenchmarkDataPathCPU", "MD5 + SHA256 + RSEncode4p2 + Copy"},
		{"cairn/erasure", "BenchmarkEncode1MiB/8+4", "[Copy] + 2 RSEncode4p2"},
		{"cairn/internal/blob", "BenchmarkPut/disk", "BLAKE3 + Fsync/op"},
		{"cairn/internal/gateway", "BenchmarkDataPath/put", "[Copy + MD5] + SHA256 + RSEncode4p2 + 1.5 Copy"},
		{"cairn/internal/gateway", "BenchmarkDataPath/get", "Copy + SHA256"},
	} {
		l := LimitFor(c.pkg, c.bench)
		if l == nil {
			t.Errorf("no limit for %s %s", c.pkg, c.bench)
			continue
		}
		if got := l.Formula(); got != c.want {
			t.Errorf("%s: formula %q, want %q", c.bench, got, c.want)
		}
	}
	// Terms of one kernel add up, in the place of the first; serial terms
	// are bracketed only in a parallel limit.
	l := &Limit{Terms: []Term{
		perByte(SHA256, 1), perByte(BLAKE3, 1.5), serial(perByte(Copy, 1)), perByte(SHA256, 1.5), perOp(Fsync, 1), perByte(Copy, 1),
	}}
	if got, want := l.Formula(), "2.5 SHA256 + 1.5 BLAKE3 + 2 Copy + Fsync/op"; got != want {
		t.Errorf("formula %q, want %q", got, want)
	}
	l.Parallel = true
	if got, want := l.Formula(), "[Copy] + 2.5 SHA256 + 1.5 BLAKE3 + Fsync/op + Copy"; got != want {
		t.Errorf("parallel formula %q, want %q", got, want)
	}
}

func TestLimitFor(t *testing.T) {
	for _, c := range []struct {
		pkg, bench string
		want       string // the matching entry's pattern, "" for none
	}{
		{"cairn/erasure", "BenchmarkEncode1MiB/4+2/1goroutine", "BenchmarkEncode1MiB/4+2/1goroutine"},
		{"cairn/erasure", "BenchmarkEncode1MiB/4+2", "BenchmarkEncode1MiB/4+2"},
		{"cairn/erasure", "BenchmarkReconstructData1MiB/8+4", "BenchmarkReconstructData1MiB/*"},
		{"cairn/erasure", "BenchmarkReconstructData1MiB/4+2/1goroutine", "BenchmarkReconstructData1MiB/*/1goroutine"},
		{"cairn/erasure", "BenchmarkDAGBuilder", ""},
		{"cairn/placement", "BenchmarkPlace/Ring.Place/nodes=6", ""},
		{"cairn/other", "BenchmarkDataPathCPU", ""},
	} {
		l := LimitFor(c.pkg, c.bench)
		got := ""
		if l != nil {
			got = l.Bench
		}
		if got != c.want {
			t.Errorf("LimitFor(%s, %s) = %q, want %q", c.pkg, c.bench, got, c.want)
		}
	}
}

// TestLimitsWellFormed checks the table itself: valid patterns, known
// kernels, each term one kind, a reason for each entry, and a limit for
// every criterion.
func TestLimitsWellFormed(t *testing.T) {
	known := []string{SHA256, BLAKE3, HighwayHash, MD5, AESGCM, Copy, RSEncode4p2, CRC32C, Fsync}
	for _, l := range Limits {
		if l.Pkg == "" || l.Why == "" || len(l.Terms) == 0 {
			t.Errorf("%s %s: package, reason and terms are required", l.Pkg, l.Bench)
		}
		if _, err := path.Match(l.Bench, ""); err != nil {
			t.Errorf("%s: bad pattern: %v", l.Bench, err)
		}
		if !strings.HasPrefix(l.Bench, "Benchmark") || strings.HasPrefix(l.Bench, KernelPrefix) {
			t.Errorf("%s: not a benchmark of the package, or a kernel", l.Bench)
		}
		serial := false
		for _, term := range l.Terms {
			if !slices.Contains(known, term.Kernel) {
				t.Errorf("%s: unknown kernel %q", l.Bench, term.Kernel)
			}
			if (term.PerByte > 0) == (term.PerOp > 0) || term.PerByte < 0 || term.PerOp < 0 {
				t.Errorf("%s: term %+v must be per byte or per op", l.Bench, term)
			}
			serial = serial || term.Serial
		}
		if serial && !l.Parallel {
			t.Errorf("%s: serial terms in a one-core limit", l.Bench)
		}
	}
	for _, c := range Criteria {
		if LimitFor(c.Pkg, c.Bench) == nil {
			t.Errorf("criterion %s: no limit for %s", c.Label, c.Bench)
		}
	}
}

func TestIsKernel(t *testing.T) {
	for _, c := range []struct {
		name, kernel string
		ok           bool
	}{
		{"BenchmarkKernelSHA256", SHA256, true},
		{"BenchmarkKernelBLAKE3", BLAKE3, true},
		{"BenchmarkKernel", "", false},
		{"BenchmarkKernelSHA256/sub", "", false},
		{"BenchmarkDataPath/kernel-sha256", "", false},
	} {
		if k, ok := IsKernel(c.name); k != c.kernel || ok != c.ok {
			t.Errorf("IsKernel(%q) = %q, %v", c.name, k, ok)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtNs(257.2), "257"},
		{fmtNs(12.34), "12.3"},
		{fmtNs(335358750), "335,358,750"},
		{fmtMBs(34.74), "34.7"},
		{fmtMBs(21789.12), "21,789"},
		{fmtNum(2.5), "2.5"},
		{fmtNum(12494), "12,494"},
		{fmtPct(0.786), "79%"},
		{group(-1234567), "-1,234,567"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestWrite compares the tables of testdata/run.txt with
// testdata/run.golden; go test -update rewrites it.
func TestWrite(t *testing.T) {
	r := parseFile(t, "run.txt")
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "run.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, buf.Bytes())
	}
}

func TestSpread(t *testing.T) {
	r := parseFile(t, "run.txt")
	_, b := lookup(t, r, "cairn/erasure", "BenchmarkKernelSHA256")
	// ns/op 700,000, 800,000 and 650,000: half the range is 75,000.
	if got, want := b.Spread(UnitNsPerOp), 75000.0/700000; !near(got, want) {
		t.Errorf("spread %v, want %v", got, want)
	}
	_, b = lookup(t, r, "cairn/internal/blob", "BenchmarkGet")
	if got := b.Spread(UnitNsPerOp); got != 0 {
		t.Errorf("spread of one sample %v", got)
	}
}

// TestOverLimit marks a figure above its limit, which only a change of
// load between the kernel's run and the benchmark's can produce.
func TestOverLimit(t *testing.T) {
	in := `pkg: cairn/erasure
BenchmarkKernelSHA256-2   	1000	700000 ns/op	1500.00 MB/s
BenchmarkVerify1MiB-2     	1000	350000 ns/op	3000.00 MB/s
`
	r, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "| 200% ‡ |") || !strings.Contains(out, "\n‡ over 100%") {
		t.Errorf("output:\n%s", out)
	}
}

func TestWriteLimits(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLimits(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2+len(Limits) {
		t.Fatalf("%d lines for %d limits", len(lines), len(Limits))
	}
	want := "| cairn/erasure | DataPathCPU | MD5 + SHA256 + RSEncode4p2 + Copy | "
	if !strings.Contains(buf.String(), want) {
		t.Errorf("no line starting %q in\n%s", want, buf.String())
	}
}
