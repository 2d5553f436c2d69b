package node

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestReleaseOnTicks drives the idle release policy tick by tick: a
// release follows the end of a burst, once; a request still running
// delays it; background activity at or under the quiet level neither
// starts a burst nor holds a release back.
func TestReleaseOnTicks(t *testing.T) {
	type step struct {
		ops     int64 // operations in the interval ending at this tick
		busy    bool
		release bool // a release is expected at this tick
	}
	for _, c := range []struct {
		name  string
		quiet int64
		steps []step
	}{
		{"burst then idle", 0, []step{{5, false, false}, {0, false, true}, {0, false, false}, {0, false, false}}},
		{"nothing ever", 0, []step{{0, false, false}, {0, false, false}}},
		{"running request delays", 0, []step{{3, true, false}, {0, true, false}, {0, true, false}, {0, false, true}}},
		{"second burst", 0, []step{{1, false, false}, {0, false, true}, {2, false, false}, {0, false, true}}},
		{"background is quiet", 10, []step{{10, false, false}, {7, false, false}, {10, false, false}}},
		{"burst over background", 10, []step{{500, false, false}, {300, false, false}, {8, false, true}, {9, false, false}, {11, false, false}, {3, false, true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			type reading struct {
				n    int64
				busy bool
				step int
			}
			tick := make(chan time.Time)
			readings := make(chan reading)
			var step int  // the step the loop last read; only the loop uses it
			var got []int // steps at which release ran; read after the loop ends
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				activity := func() (int64, bool) {
					r := <-readings
					step = r.step
					return r.n, r.busy
				}
				releaseOnTicks(ctx, tick, activity, c.quiet, func() { got = append(got, step) })
			}()
			var n int64
			var want []int
			for i, s := range c.steps {
				n += s.ops
				// The loop takes a tick only once it has acted on the
				// last reading, so steps never overlap.
				tick <- time.Time{}
				readings <- reading{n, s.busy, i}
				if s.release {
					want = append(want, i)
				}
			}
			cancel() // the loop acts on the last reading, then ends

			<-done
			if !slices.Equal(got, want) {
				t.Fatalf("released at steps %v, want %v", got, want)
			}
		})
	}
}
