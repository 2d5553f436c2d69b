package load

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// startProgress writes a progress line for phase to cfg.Progress once a
// second until the returned stop is called; stop writes nothing more and
// returns when the goroutine has ended. The line shows the operations so
// far and their rate, or, when extra is not nil, the byte rate and extra().
func (r *runner) startProgress(phase string, start time.Time, extra func() string) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		lastT, lastBytes, lastOps := start, r.moved.Load(), r.ops()
		printed := false
		for {
			select {
			case <-done:
				if printed && r.cfg.ProgressTTY {
					fmt.Fprintln(r.cfg.Progress)
				}
				return
			case now := <-t.C:
				bytes, ops, errs := r.moved.Load(), r.ops(), r.errorCount()
				dt := now.Sub(lastT).Seconds()
				mibs := float64(bytes-lastBytes) / dt / (1 << 20)
				var line string
				if extra != nil {
					line = fmt.Sprintf("%-7s %5.0fs  %8.1f MiB/s  %s", phase, now.Sub(start).Seconds(), mibs, extra())
				} else {
					line = fmt.Sprintf("%-7s %5.0fs  %8d ops  %8.1f MiB/s  %7.0f ops/s  %d errors",
						phase, now.Sub(start).Seconds(), ops, mibs, float64(ops-lastOps)/dt, errs)
				}
				lastT, lastBytes, lastOps = now, bytes, ops
				if r.cfg.ProgressTTY {
					// Overwrite the previous line and clear what it left.
					fmt.Fprintf(r.cfg.Progress, "\r%s\x1b[K", line)
				} else {
					fmt.Fprintln(r.cfg.Progress, strings.TrimRight(line, " "))
				}
				printed = true
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// ops is the number of operations finished so far, successful or not.
func (r *runner) ops() int64 {
	var n int64
	for i := range r.stats {
		n += r.stats[i].count.Load() + r.stats[i].errors.Load()
	}
	return n
}

// errorCount is the number of failed operations so far.
func (r *runner) errorCount() int64 {
	var n int64
	for i := range r.stats {
		n += r.stats[i].errors.Load()
	}
	return n
}
