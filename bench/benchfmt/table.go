package benchfmt

import (
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Bound is a benchmark's limit computed from the kernels of a run.
type Bound struct {
	Limit *Limit
	// NsPerOp is the least time an operation can take; MBPerS the
	// throughput it allows, 0 when the benchmark counts no bytes.
	NsPerOp, MBPerS float64
	// Fraction is NsPerOp over the measured ns/op.
	Fraction float64
	// Cores is the cores the bound assumes.
	Cores int
	// Borrowed maps the kernels taken from another package of the run to
	// that package.
	Borrowed map[string]string
	// Missing says why there is no bound when the benchmark has a limit
	// that cannot be computed (a kernel not in the run, no MB/s); empty
	// otherwise.
	Missing string
}

// IsKernel reports whether a benchmark name is a kernel's, and which.
func IsKernel(name string) (string, bool) {
	k, ok := strings.CutPrefix(name, KernelPrefix)
	if !ok || k == "" || strings.Contains(k, "/") {
		return "", false
	}
	return k, true
}

// LimitFor returns the first limit that matches the benchmark, or nil.
func LimitFor(pkg, name string) *Limit {
	for i := range Limits {
		l := &Limits[i]
		if l.Pkg != pkg {
			continue
		}
		if ok, _ := path.Match(l.Bench, name); ok {
			return l
		}
	}
	return nil
}

// kernel returns the median of the kernel's unit: from pkg if it ran
// there, else from the first package of the run that has it (borrowed).
func (r *Run) kernel(pkg *Package, name, unit string) (v float64, from string, ok bool) {
	look := func(p *Package) (float64, bool) {
		for _, b := range p.Benchmarks {
			if b.Name == KernelPrefix+name {
				if v, ok := b.Median(unit); ok && v > 0 {
					return v, true
				}
			}
		}
		return 0, false
	}
	if v, ok := look(pkg); ok {
		return v, pkg.Path, true
	}
	for _, p := range r.Packages {
		if p == pkg {
			continue
		}
		if v, ok := look(p); ok {
			return v, p.Path, true
		}
	}
	return 0, "", false
}

// Bound computes the benchmark's bound from the run's kernels. It returns
// nil when no limit applies.
func (r *Run) Bound(pkg *Package, b *Benchmark) *Bound {
	l := LimitFor(pkg.Path, b.Name)
	if l == nil {
		return nil
	}
	bd := &Bound{Limit: l, Cores: 1}
	if l.Parallel {
		bd.Cores = max(1, b.Procs)
	}
	ns, ok := b.Median(UnitNsPerOp)
	if !ok || ns <= 0 {
		bd.Missing = "no ns/op"
		return bd
	}
	mbs, hasBytes := b.Median(UnitMBPerS)
	bytesPerOp := mbs * ns / 1e3 // MB/s is bytes per µs
	var total, ser float64       // ns of kernel work per op: all of it, and the serial part
	var missing []string
	for _, t := range l.Terms {
		unit := UnitMBPerS
		if t.PerOp > 0 {
			unit = UnitNsPerOp
		}
		kv, from, ok := r.kernel(pkg, t.Kernel, unit)
		if !ok {
			if !slices.Contains(missing, t.Kernel) {
				missing = append(missing, t.Kernel)
			}
			continue
		}
		if from != pkg.Path {
			if bd.Borrowed == nil {
				bd.Borrowed = map[string]string{}
			}
			bd.Borrowed[t.Kernel] = from
		}
		var cost float64
		if t.PerOp > 0 {
			cost = t.PerOp * kv
		} else {
			if !hasBytes {
				bd.Missing = "the benchmark reports no MB/s"
				return bd
			}
			cost = t.PerByte * bytesPerOp * 1e3 / kv
		}
		total += cost
		if t.Serial {
			ser += cost
		}
	}
	if len(missing) > 0 {
		bd.Missing = "no " + strings.Join(missing, ", ") + " kernel in the run"
		return bd
	}
	bd.NsPerOp = max(total/float64(bd.Cores), ser)
	if bd.NsPerOp <= 0 {
		bd.Missing = "empty limit"
		return bd
	}
	if hasBytes {
		bd.MBPerS = bytesPerOp * 1e3 / bd.NsPerOp
	}
	bd.Fraction = bd.NsPerOp / ns
	return bd
}

// Formula renders a limit's terms, those of one kernel added up: "MD5 +
// 2.5 SHA256 + Fsync/op", with the serial terms of a parallel limit in
// brackets.
func (l *Limit) Formula() string {
	type key struct {
		kernel        string
		perOp, serial bool
	}
	var order []key
	sum := map[key]float64{}
	for _, t := range l.Terms {
		k := key{t.Kernel, t.PerOp > 0, t.Serial && l.Parallel}
		if _, ok := sum[k]; !ok {
			order = append(order, k)
		}
		sum[k] += t.PerByte + t.PerOp
	}
	var par, ser []string
	for _, k := range order {
		s := k.kernel
		if k.perOp {
			s += "/op"
		}
		if n := sum[k]; n != 1 {
			s = fmtNum(n) + " " + s
		}
		if k.serial {
			ser = append(ser, s)
		} else {
			par = append(par, s)
		}
	}
	f := strings.Join(par, " + ")
	if len(ser) > 0 {
		f = "[" + strings.Join(ser, " + ") + "] + " + f
	}
	return f
}

// Write prints one table per package with benchmarks, then the criteria's
// summary lines, as Markdown.
func (r *Run) Write(w io.Writer) error {
	ew := &errWriter{w: w}
	if r.CPU != "" || r.GOOS != "" {
		ew.printf("%s/%s, %s; medians of %s per benchmark\n\n", r.GOOS, r.GOARCH, r.CPU, r.samplesText())
	}
	for _, p := range r.Packages {
		if len(p.Benchmarks) == 0 {
			continue
		}
		r.writePackage(ew, p)
	}
	for _, line := range r.Summary() {
		ew.printf("%s\n", line)
	}
	return ew.err
}

// samplesText says how many samples the benchmarks have: "3 runs", or a
// range when -count was not uniform.
func (r *Run) samplesText() string {
	lo, hi := math.MaxInt, 0
	for _, p := range r.Packages {
		for _, b := range p.Benchmarks {
			lo, hi = min(lo, len(b.Samples)), max(hi, len(b.Samples))
		}
	}
	switch {
	case hi == 0:
		return "no runs"
	case lo == hi && lo == 1:
		return "1 run"
	case lo == hi:
		return fmt.Sprintf("%d runs", lo)
	default:
		return fmt.Sprintf("%d to %d runs", lo, hi)
	}
}

func (r *Run) writePackage(ew *errWriter, p *Package) {
	title := p.Path
	if title == "" {
		title = "(no package header)"
	}
	ew.printf("### %s\n\n", title)
	// Custom metrics (b.ReportMetric) go in one extra column.
	custom := false
	for _, b := range p.Benchmarks {
		for _, u := range b.Units() {
			if !isStdUnit(u) {
				custom = true
			}
		}
	}
	head := "| benchmark | ns/op | ± | MB/s | allocs/op | of limit | limit |"
	rule := "|---|--:|--:|--:|--:|--:|---|"
	if custom {
		head += " other |"
		rule += "---|"
	}
	ew.printf("%s\n%s\n", head, rule)
	names := map[string]int{}
	for _, b := range p.Benchmarks {
		names[b.Name]++
	}
	borrowed := map[string]string{}
	over := false
	for _, b := range p.Benchmarks {
		name := strings.TrimPrefix(b.Name, "Benchmark")
		if names[b.Name] > 1 {
			name += "-" + strconv.Itoa(b.Procs)
		}
		spread := ""
		if len(b.Samples) > 1 {
			spread = "±" + fmtPct(b.Spread(UnitNsPerOp))
		}
		cells := []string{name, metric(b, UnitNsPerOp, fmtNs), spread, metric(b, UnitMBPerS, fmtMBs), metric(b, UnitAllocsPerOp, fmtInt)}
		if k, ok := IsKernel(b.Name); ok {
			cells = append(cells, "kernel", kernelDoc(k))
		} else if bd := r.Bound(p, b); bd == nil {
			cells = append(cells, "", "")
		} else if bd.Missing != "" {
			cells = append(cells, "—", bd.Missing+": "+bd.Limit.Formula())
		} else {
			lim := bd.Limit.Formula()
			if len(bd.Borrowed) > 0 {
				lim += " †"
				for k, from := range bd.Borrowed {
					borrowed[k] = from
				}
			}
			at := fmtNs(bd.NsPerOp) + " ns/op"
			if bd.MBPerS > 0 {
				at = fmtMBs(bd.MBPerS) + " MB/s"
			}
			if bd.Cores > 1 {
				at += fmt.Sprintf(" on %d cores", bd.Cores)
			}
			frac := fmtPct(bd.Fraction)
			if bd.Fraction >= 1.005 {
				frac += " ‡"
				over = true
			}
			cells = append(cells, frac, at+": "+lim)
		}
		if custom {
			var o []string
			for _, u := range b.Units() {
				if !isStdUnit(u) {
					v, _ := b.Median(u)
					o = append(o, fmtNum(v)+" "+u)
				}
			}
			cells = append(cells, strings.Join(o, ", "))
		}
		ew.printf("| %s |\n", strings.Join(cells, " | "))
	}
	if len(borrowed) > 0 {
		ks := make([]string, 0, len(borrowed))
		for k := range borrowed {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		var notes []string
		for _, k := range ks {
			notes = append(notes, k+" from "+borrowed[k])
		}
		ew.printf("\n† kernel measured in another package of the run: %s.\n", strings.Join(notes, ", "))
	}
	if over {
		ew.printf("\n‡ over 100%%: the kernels ran at another moment and the machine's speed changed in between (see ±), or, by a few percent, the steps share the caches better than the kernels run apart.\n")
	}
	ew.printf("\n")
}

// Summary returns one line per criterion: how its benchmark stands
// against its bound and goal, or why it cannot be said.
func (r *Run) Summary() []string {
	var out []string
	for _, c := range Criteria {
		p := r.Package(c.Pkg)
		var b *Benchmark
		if p != nil {
			for _, x := range p.Benchmarks {
				if x.Name == c.Bench {
					b = x
					break
				}
			}
		}
		if b == nil {
			out = append(out, fmt.Sprintf("%s: %s not in the run (goal ≥ %s of its %s)", c.Label, c.Bench, fmtPct(c.Goal), c.Bound))
			continue
		}
		bd := r.Bound(p, b)
		mbs, _ := b.Median(UnitMBPerS)
		switch {
		case bd == nil:
			out = append(out, fmt.Sprintf("%s: %s has no limit in benchfmt.Limits", c.Label, c.Bench))
		case bd.Missing != "":
			out = append(out, fmt.Sprintf("%s: %s MB/s; no %s: %s", c.Label, fmtMBs(mbs), c.Bound, bd.Missing))
		default:
			verdict := "met"
			if bd.Fraction < c.Goal {
				verdict = "NOT met"
			}
			out = append(out, fmt.Sprintf("%s: %s MB/s = %s of its %s %s MB/s (goal ≥ %s): %s",
				c.Label, fmtMBs(mbs), fmtPct(bd.Fraction), c.Bound, fmtMBs(bd.MBPerS), fmtPct(c.Goal), verdict))
		}
	}
	return out
}

func kernelDoc(k string) string {
	switch k {
	case SHA256, BLAKE3, HighwayHash, MD5, AESGCM, CRC32C:
		return "1 MiB buffer"
	case Copy:
		return "1 MiB into 4 × 256 KiB"
	case RSEncode4p2:
		return "1 MiB chunk, one goroutine"
	case Fsync:
		return "per op: new 256 KiB file, fsync"
	}
	return ""
}

func isStdUnit(u string) bool {
	switch u {
	case UnitNsPerOp, UnitMBPerS, UnitBytesPerOp, UnitAllocsPerOp:
		return true
	}
	return false
}

func metric(b *Benchmark, unit string, f func(float64) string) string {
	v, ok := b.Median(unit)
	if !ok {
		return ""
	}
	return f(v)
}

// fmtNs prints ns/op with thousands separators, and decimals below 100.
func fmtNs(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return group(int64(math.Round(v)))
}

// fmtMBs prints MB/s: whole above 100, one decimal below.
func fmtMBs(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return group(int64(math.Round(v)))
}

func fmtInt(v float64) string { return group(int64(math.Round(v))) }

func fmtPct(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + "%" }

// fmtNum prints a count or a custom metric: 2, 2.5, 0.25, 12,494.
func fmtNum(v float64) string {
	if math.Abs(v) >= 1000 {
		return group(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// WriteLimits prints the table of limits as Markdown: each entry's
// package, benchmark pattern, formula and reason.
func WriteLimits(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("| package | benchmark | limit | why |\n|---|---|---|---|\n")
	for i := range Limits {
		l := &Limits[i]
		f := l.Formula()
		if l.Parallel {
			f += ", over the cores"
		}
		ew.printf("| %s | %s | %s | %s |\n", l.Pkg, strings.TrimPrefix(l.Bench, "Benchmark"), f, l.Why)
	}
	return ew.err
}
