package upkeep

import (
	"context"
	"sync"
	"time"

	"cairn/internal/blob"
)

// Upkeep scrubs and compacts one store; Run drives it. Safe for
// concurrent use.
type Upkeep struct {
	cfg  Config
	m    *upkeepMetrics
	kick chan struct{} // ScrubNow wakes the scrub loop

	mu        sync.Mutex
	requested bool
	cur       *savedPass // the pass in progress; owned by the scrub loop, read under mu
	last      *Pass
	passes    int64
}

// New returns an Upkeep for cfg; Run starts it.
func New(cfg Config) (*Upkeep, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u := &Upkeep{cfg: cfg, kick: make(chan struct{}, 1)}
	m, err := newMetrics(cfg.Metrics, u)
	if err != nil {
		return nil, err
	}
	u.m = m
	return u, nil
}

// Run scrubs and compacts the store until ctx ends, and returns ctx's
// error once both have stopped. It saves the scrub's progress as it
// goes, and last when ctx ends.
func (u *Upkeep) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { u.compactLoop(ctx) })
	u.scrubLoop(ctx)
	wg.Wait()
	return context.Cause(ctx)
}

// ScrubNow asks for a full scrub pass at once, at MaxScrubRate, in place
// of the pass in progress (which is dropped: the new one checks
// everything). It does not wait. It returns false, and changes nothing,
// when a pass asked for this way has not ended yet.
func (u *Upkeep) ScrubNow() bool {
	u.mu.Lock()
	if u.requested || u.cur != nil && u.cur.Requested {
		u.mu.Unlock()
		return false
	}
	u.requested = true
	u.mu.Unlock()
	select {
	case u.kick <- struct{}{}:
	default:
	}
	return true
}

// Status returns what the scrub is doing.
func (u *Upkeep) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := Status{Interval: u.cfg.ScrubInterval, Requested: u.requested, Passes: u.passes}
	if u.cur != nil {
		p := u.cur.Pass
		s.Current = &p
	} else {
		s.Next = u.nextStart()
	}
	if u.last != nil {
		p := *u.last
		s.Last = &p
	}
	return s
}

// nextStart is when the next scheduled pass begins: an interval after
// the latest began, or now if none did. Call with mu held.
func (u *Upkeep) nextStart() time.Time {
	if u.last == nil {
		return u.cfg.Now()
	}
	return u.last.Started.Add(u.cfg.ScrubInterval)
}

// scrubLoop runs passes until ctx ends.
func (u *Upkeep) scrubLoop(ctx context.Context) {
	log := u.cfg.Logger
	st, err := loadState(u.cfg.StateFile)
	if err != nil {
		log.Warn("scrub: state not read; the scrub begins afresh", "err", err)
	}
	u.mu.Lock()
	u.cur, u.last = st.Current, st.Last
	u.mu.Unlock()
	if st.Current != nil {
		log.Debug("scrub: resuming a pass", "started", st.Current.Started, "progress", st.Current.Progress())
	}
	defer u.save()
	for ctx.Err() == nil {
		if u.takeRequest() {
			u.begin(ctx, true)
		}
		u.mu.Lock()
		p, next := u.cur, u.nextStart()
		u.mu.Unlock()
		if p == nil {
			if !u.wait(ctx, next.Sub(u.cfg.Now())) {
				continue // asked for a pass, or ctx ended
			}
			u.begin(ctx, false)
			continue
		}
		u.piece(ctx, p)
	}
}

// takeRequest reports whether ScrubNow asked for a pass, and clears the
// request.
func (u *Upkeep) takeRequest() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.requested
	u.requested = false
	return r
}

// wait waits for d; it returns false if ScrubNow or ctx ended it first.
func (u *Upkeep) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-u.kick:
		return false
	case <-t.C:
		return true
	}
}

// begin starts a pass, dropping the one in progress.
func (u *Upkeep) begin(ctx context.Context, requested bool) {
	var held int64
	if us, err := u.cfg.Store.Usage(ctx); err == nil {
		held = us.Bytes
	}
	p := &savedPass{Pass: Pass{Started: u.cfg.Now(), Requested: requested, Held: held}}
	u.mu.Lock()
	old := u.cur
	u.cur = p
	u.mu.Unlock()
	if old != nil {
		u.cfg.Logger.Info("scrub: pass in progress dropped for a pass asked for", "started", old.Started, "progress", old.Progress())
	}
	u.cfg.Logger.Debug("scrub: pass begins", "requested", requested, "held_bytes", held)
	u.save()
}

// rate is the bound on p's reads now: MaxScrubRate for a pass asked for;
// for a scheduled one, the bytes it has left over the time left until
// four fifths of the interval after it began, within the bounds.
func (u *Upkeep) rate(p *Pass) int64 {
	if p.Requested {
		return u.cfg.MaxScrubRate
	}
	left := p.Started.Add(u.cfg.ScrubInterval * 4 / 5).Sub(u.cfg.Now())
	if left <= 0 {
		return u.cfg.MaxScrubRate
	}
	r := int64(float64(max(p.Held-p.Bytes, 0)) / left.Seconds())
	return min(max(r, u.cfg.MinScrubRate), u.cfg.MaxScrubRate)
}

// piece scrubs p for a Checkpoint at most, or until the pass ends,
// ScrubNow asks for another, or ctx ends; then it saves where p got to.
func (u *Upkeep) piece(ctx context.Context, p *savedPass) {
	rate := u.rate(&p.Pass)
	pctx, cancel := context.WithTimeout(ctx, u.cfg.Checkpoint)
	kicked := make(chan bool, 1)
	go func() {
		select {
		case <-u.kick:
			cancel()
			kicked <- true
		case <-pctx.Done():
			kicked <- false
		}
	}()
	st, err := u.cfg.Store.Scrub(pctx, blob.ScrubOptions{BytesPerSecond: rate, From: p.Cursor}, u.report)
	cancel()
	if <-kicked {
		// Look at the request at the top of the loop; put the kick back
		// in case it was not ScrubNow's (it always is, but a lost wakeup
		// would stall the loop).
		select {
		case u.kick <- struct{}{}:
		default:
		}
	}
	u.count(st)
	u.mu.Lock()
	p.Rate = rate
	p.Shards += st.Shards
	p.Bytes += st.Bytes
	p.Unverifiable += st.Unverifiable
	p.Corrupt += st.Corrupt
	p.Unreadable += st.Unreadable
	p.Rewritten += st.Rewritten
	u.mu.Unlock()
	switch {
	case err == nil:
		u.finish(p)
	case pctx.Err() != nil:
		// Stopped for a checkpoint, a request or the end: resume from Next.
		u.mu.Lock()
		p.Cursor = st.Next
		u.mu.Unlock()
		u.save()
	case p.Cursor != "":
		// A cursor the store does not take (the storage directory was
		// replaced by another kind of store): go through it from the
		// beginning.
		u.cfg.Logger.Info("scrub: cannot resume the pass where it stopped; going through the store from the beginning", "err", err)
		u.mu.Lock()
		p.Cursor = ""
		u.mu.Unlock()
		u.save()
	default:
		u.cfg.Logger.Warn("scrub: pass failed; trying again later", "err", err)
		u.wait(ctx, u.cfg.Checkpoint)
	}
}

// finish records p as the latest complete pass.
func (u *Upkeep) finish(p *savedPass) {
	u.mu.Lock()
	p.Ended = u.cfg.Now()
	last := p.Pass
	u.last, u.cur = &last, nil
	u.passes++
	u.mu.Unlock()
	trigger := triggerSchedule
	if last.Requested {
		trigger = triggerRequest
	}
	u.m.passes.WithLabelValues(trigger).Inc()
	level := u.cfg.Logger.Debug
	if last.Shards > 0 {
		level = u.cfg.Logger.Info
	}
	if last.Corrupt > 0 || last.Unreadable > 0 {
		level = u.cfg.Logger.Warn
	}
	level("scrub: pass done", "requested", last.Requested, "shards", last.Shards, "bytes", last.Bytes,
		"corrupt", last.Corrupt, "unreadable", last.Unreadable, "rewritten", last.Rewritten,
		"unverifiable", last.Unverifiable, "took", last.Ended.Sub(last.Started).Round(time.Millisecond))
	u.save()
}

// report logs and counts one finding, as the store reports it.
func (u *Upkeep) report(f blob.ScrubFinding) {
	msg := "scrub: shard corrupt, quarantined; healing rebuilds it from its stripe"
	if f.Fault == blob.FaultUnreadable {
		msg = "scrub: shard unreadable; kept"
	}
	u.cfg.Logger.Warn(msg, "shard", f.CID, "fault", f.Fault.String(), "err", f.Err)
	u.m.faults.WithLabelValues(f.Fault.String()).Inc()
}

// count adds a piece's figures to the counters (faults are counted as
// they are reported).
func (u *Upkeep) count(st blob.ScrubStats) {
	u.m.shards.Add(float64(st.Shards))
	u.m.bytes.Add(float64(st.Bytes))
	u.m.unverifiable.Add(float64(st.Unverifiable))
	u.m.rewritten.Add(float64(st.Rewritten))
}

// save writes the state file.
func (u *Upkeep) save() {
	u.mu.Lock()
	var s state
	if u.cur != nil {
		c := *u.cur
		s.Current = &c
	}
	s.Last = u.last
	u.mu.Unlock()
	if err := saveState(u.cfg.StateFile, s); err != nil {
		u.cfg.Logger.Warn("scrub: state not saved; a restart begins the pass again", "err", err)
	}
}

// compactLoop compacts the store every CompactInterval until ctx ends.
func (u *Upkeep) compactLoop(ctx context.Context) {
	t := time.NewTicker(u.cfg.CompactInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u.compact(ctx)
	}
}

// compact compacts the store once.
func (u *Upkeep) compact(ctx context.Context) {
	log := u.cfg.Logger
	st, err := u.cfg.Store.Compact(ctx)
	u.m.filesRemoved.Add(float64(st.Removed))
	u.m.freed.Add(float64(st.Freed))
	u.m.written.Add(float64(st.Written))
	u.m.compactBad.Add(float64(len(st.Corrupt)))
	for _, id := range st.Corrupt {
		log.Warn("compact: shard corrupt, quarantined; healing rebuilds it from its stripe", "shard", id)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return
	case err != nil:
		u.m.compactions.WithLabelValues("failed").Inc()
		log.Warn("compact: failed; trying again later", "err", err)
		return
	}
	u.m.compactions.WithLabelValues("ok").Inc()
	if st.Removed > 0 {
		log.Info("compact: space given back", "files_removed", st.Removed, "freed_bytes", st.Freed,
			"written_bytes", st.Written, "moved_shards", st.Moved, "took", st.Duration.Round(time.Millisecond))
	}
}
