package load

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Result is what Run measured. Its JSON form is what `s3load --json`
// prints; every rate is over the timed phase's wall time (Seconds), and
// only successful operations count towards rates and latencies.
type Result struct {
	Workload    string  `json:"workload"`        // put, get, mixed or list
	Endpoint    string  `json:"endpoint"`        // as given; several joined by commas
	Bucket      string  `json:"bucket"`          // created and removed again if missing
	Prefix      string  `json:"prefix"`          // every key Run wrote starts with it
	ObjectSize  int64   `json:"object_size"`     // bytes
	Concurrency int     `json:"concurrency"`     // operations in flight
	Objects     int     `json:"objects"`         // prepared before the timed phase (0 for put)
	GetRatio    float64 `json:"get_ratio"`       // mixed only
	Verify      bool    `json:"verify"`          // GET bodies were hashed and compared
	Prepare     float64 `json:"prepare_seconds"` // uploading the prepared objects
	Seconds     float64 `json:"seconds"`         // the timed phase, until its last operation ended
	// Retried counts the responses of the timed phase the client retried:
	// status 429 or 5xx, such as 503 SlowDown from a server shedding load.
	// A retried operation that then succeeded is a success, its latency
	// including the retries; one that ran out of tries is an error.
	Retried int64 `json:"retried_responses"`

	// Total sums every operation type; Ops has one entry per type that ran
	// (PUT, GET, LIST), in that order.
	Total OpStats   `json:"total"`
	Ops   []OpStats `json:"ops"`

	// FirstErrors holds the first few error messages, in order.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// OpStats is one operation type's (or all operations') count, throughput
// and latency over the timed phase.
type OpStats struct {
	Op        string  `json:"op"`             // PUT, GET, LIST, or "all" for Total
	Count     int64   `json:"count"`          // successful operations
	Errors    int64   `json:"errors"`         // failed ones, including GETs with wrong bytes
	Bytes     int64   `json:"bytes"`          // object bytes moved by successful operations
	MiBPerSec float64 `json:"mib_per_s"`      // Bytes / 2^20 / Seconds
	OpsPerSec float64 `json:"ops_per_s"`      // Count / Seconds
	Keys      int64   `json:"keys,omitempty"` // LIST: keys the pages held
	// Latency is from starting the request to reading the last byte of
	// the response, in milliseconds.
	Latency Latency `json:"latency_ms"`
}

// Errors returns the number of failed operations.
func (r *Result) Errors() int64 { return r.Total.Errors }

// WriteTable writes r as an aligned table.
func WriteTable(w io.Writer, r *Result) error {
	var b strings.Builder
	verify := "on"
	if !r.Verify {
		verify = "off"
	}
	fmt.Fprintf(&b, "workload %s  size %s  concurrency %d  endpoint %s  bucket %s\n",
		r.Workload, FormatSize(r.ObjectSize), r.Concurrency, r.Endpoint, r.Bucket)
	fmt.Fprintf(&b, "timed phase %.2fs", r.Seconds)
	if r.Objects > 0 {
		fmt.Fprintf(&b, "  prepared %d objects in %.2fs", r.Objects, r.Prepare)
	}
	if r.Workload == WorkloadMixed {
		fmt.Fprintf(&b, "  get ratio %.2f", r.GetRatio)
	}
	fmt.Fprintf(&b, "  verify %s\n\n", verify)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tops\terrors\tMiB/s\tops/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	rows := r.Ops
	if len(r.Ops) > 1 {
		rows = append(append([]OpStats(nil), r.Ops...), r.Total)
	}
	for _, s := range rows {
		l := s.Latency
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", s.Op, s.Count, s.Errors,
			s.MiBPerSec, s.OpsPerSec, Millis(l.P50), Millis(l.P90), Millis(l.P99), Millis(l.P999), Millis(l.Max))
	}
	tw.Flush()
	for _, s := range r.Ops {
		if s.Keys > 0 && r.Seconds > 0 {
			fmt.Fprintf(&b, "\n%s: %d keys listed, %.0f keys/s\n", s.Op, s.Keys, float64(s.Keys)/r.Seconds)
		}
	}
	if r.Retried > 0 {
		fmt.Fprintf(&b, "\nthe server answered %d requests with 429 or 5xx, which were retried\n", r.Retried)
	}
	if r.Total.Errors > 0 {
		fmt.Fprintf(&b, "\n%d errors; the first:\n", r.Total.Errors)
		for _, e := range r.FirstErrors {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Millis formats milliseconds with three significant digits or more, as
// the report's latency columns show them.
func Millis(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
