package blob

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"golang.org/x/time/rate"
)

// Scrubber re-reads and checks every shard a store holds.
type Scrubber interface {
	// Scrub reads every shard the store holds and checks it as Get does.
	// A shard that fails is moved to quarantine exactly as Get moves it:
	// from then on the store does not hold it (Has says false), and
	// repair can put it back. Every shard found corrupt or unreadable is
	// passed to report, one at a time, from Scrub's goroutine (report may
	// be nil).
	//
	// A store that can tell a damaged record from damaged content (a
	// LogStore: its record header) writes a shard whose content is right
	// again (ScrubStats.Rewritten) and keeps it.
	//
	// It reads at most opts.BytesPerSecond, and stops when ctx ends, with
	// ctx's error and the stats so far, whose Next resumes the pass. It
	// holds no lock of the whole store across the pass, only a shard's
	// own lock while it quarantines or rewrites that shard, so Put, Get,
	// Delete and Compact go on meanwhile; shards put or deleted during a
	// pass may or may not be checked by it. Safe for concurrent use.
	Scrub(ctx context.Context, opts ScrubOptions, report func(ScrubFinding)) (ScrubStats, error)
}

// ScrubOptions tune one scrub pass; the zero value checks everything as
// fast as the disk goes.
type ScrubOptions struct {
	// BytesPerSecond bounds how fast the pass reads from the disk (what
	// it reads: a LogStore's whole records, a DirStore's files); 0 or
	// less is no bound. A pass over B bytes takes about B/BytesPerSecond.
	BytesPerSecond int64
	// From resumes a pass after the last shard an earlier one checked:
	// the Next of its ScrubStats, from the same store. "" starts at the
	// beginning. Shards written since may sort before it: the next whole
	// pass checks them.
	From string
	// Clock paces and times the pass; nil is the system clock.
	Clock Clock
}

// Clock is the time a scrub paces itself by.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// ScrubStats is what one pass did.
type ScrubStats struct {
	Shards int64 // shards read (whatever they were found to be)
	Bytes  int64 // bytes of their content
	// Unverifiable counts the shards read that the store has nothing to
	// check against (a DirStore's shard names: erasure.ShardName hashes
	// nothing, and a version 1 file has no checksum): they were found
	// readable, not found right.
	Unverifiable int64
	Corrupt      int64 // shards quarantined (each reported)
	Unreadable   int64 // shards that could not be read (each reported)
	// Rewritten counts the shards whose content was right but whose
	// record was damaged (a LogStore's record header): the store wrote
	// them again, and holds them still.
	Rewritten int64
	Duration  time.Duration
	// Next resumes the pass (ScrubOptions.From) when it stopped early;
	// "" when it went through the whole store.
	Next string
}

// Fault is what a scrub found wrong with a shard.
type Fault int

const (
	// FaultCorrupt: the shard's bytes (or its record) did not match its
	// checksum or CID. It was moved to quarantine; the store no longer
	// holds it.
	FaultCorrupt Fault = iota + 1
	// FaultUnreadable: reading it failed (an I/O error, say). The store
	// still holds it; Get will most likely fail too.
	FaultUnreadable
)

func (f Fault) String() string {
	switch f {
	case FaultCorrupt:
		return "corrupt"
	case FaultUnreadable:
		return "unreadable"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// ScrubFinding is one shard a scrub found wrong.
type ScrubFinding struct {
	CID   cid.Cid
	Fault Fault
	Err   error // what the check or the read said
}

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxPaceBurst is the most a pacer lets through without waiting, and
// the piece it charges large reads in.
const maxPaceBurst = 1 << 20

// pacer holds a scrub to its rate: a token bucket of bytes, on the
// scrub's clock.
type pacer struct {
	clock Clock
	lim   *rate.Limiter // nil: no bound
	burst int64
}

func newPacer(opts ScrubOptions) *pacer {
	p := &pacer{clock: opts.Clock}
	if p.clock == nil {
		p.clock = systemClock{}
	}
	if opts.BytesPerSecond > 0 {
		p.burst = min(opts.BytesPerSecond, maxPaceBurst)
		p.lim = rate.NewLimiter(rate.Limit(opts.BytesPerSecond), int(p.burst))
		// Start empty: a pass begins at its rate, not with a burst.
		p.lim.ReserveN(p.clock.Now(), int(p.burst))
	}
	return p
}

// wait returns when n more bytes may be read, or ctx ends.
func (p *pacer) wait(ctx context.Context, n int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for p.lim != nil && n > 0 {
		c := min(n, p.burst)
		now := p.clock.Now()
		r := p.lim.ReserveN(now, int(c))
		if d := r.DelayFrom(now); d > 0 {
			if err := p.clock.Sleep(ctx, d); err != nil {
				r.CancelAt(p.clock.Now())
				return err
			}
		}
		n -= c
	}
	return nil
}
