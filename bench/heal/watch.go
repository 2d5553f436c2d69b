package heal

import "time"

// repairWatch follows one repair through scrapes of the metadata leader's
// healing metrics, from the removal of a node at t0; before is what the
// metrics said just before it. It reads no clock: observe takes each
// scrape with its time.
type repairWatch struct {
	t0     time.Time
	before healState

	// planned is the bytes to rebuild that the first pass after the
	// removal found (its tally's cairn_heal_waiting_bytes): the repair's
	// work.
	planned float64
	// rebuilt is the bytes repair recorded since t0, at the latest scrape.
	rebuilt float64
	// first and last are the first and the latest scrape that saw rebuilt
	// grow; passesAtLast the passes counter then (the pass doing the work
	// counted itself when its scan ended).
	first, last  time.Time
	passesAtLast float64
	// healthy is the scrape that saw a pass that began after the last
	// rebuilt byte find nothing to do.
	healthy time.Time
}

// observe takes one scrape, made at at.
func (w *repairWatch) observe(at time.Time, h healState) {
	if grown := h.RepairedBytes - w.before.RepairedBytes; grown > w.rebuilt {
		if w.first.IsZero() {
			w.first = at
		}
		w.last, w.rebuilt, w.passesAtLast = at, grown, h.Passes
	}
	// Before the removal's pass, the dead node's shards wait for it
	// (within its grace period) and count in no waiting bytes.
	if w.planned == 0 && h.Passes > w.before.Passes && h.WaitingBytes > 0 {
		w.planned = h.WaitingBytes
	}
	if w.healthy.IsZero() && w.rebuilt > 0 && h.Passes > w.passesAtLast && h.idle() {
		w.healthy = at
	}
}

// started reports whether repair recorded a rebuilt shard.
func (w *repairWatch) started() bool { return !w.first.IsZero() }

// planDone reports whether repair rebuilt the bytes its pass planned.
func (w *repairWatch) planDone() bool { return w.planned > 0 && w.rebuilt >= w.planned }

// done reports whether a pass after the repair found every stripe whole.
func (w *repairWatch) done() bool { return !w.healthy.IsZero() }

// since is the time from the removal to t, in seconds; 0 for a zero t.
func (w *repairWatch) since(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return t.Sub(w.t0).Seconds()
}
