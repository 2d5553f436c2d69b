package heal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"cairn/erasure"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/placement"
)

// Healer finds the stripes that lack shards or sit where the layout does
// not want them, and rebuilds or moves their shards. Safe for concurrent
// use; Run drives it.
type Healer struct {
	cfg   Config
	lim   *rate.Limiter
	m     *healMetrics
	audit *auditor // nil: audits are off

	kick chan struct{}

	codecMu sync.Mutex
	codecs  map[[2]int]*erasure.Codec

	// passMu makes passes one at a time; strays is theirs.
	passMu sync.Mutex
	strays map[strayKey]time.Time

	mu      sync.Mutex
	status  Status
	samples []sample // bytes written, for Rate
	// repairedAtScan, movedAtScan and sealedAtScan are repairedBytes,
	// movedBytes and sealedStripes when the latest scan ended.
	repairedAtScan, movedAtScan, sealedAtScan atomic.Int64
	// drained counts the shards moved off each draining node since the
	// latest scan ended (under mu).
	drained map[string]int64

	// Totals since the healer started.
	repairedShards, movedShards, failedShards atomic.Int64
	collected, straysDeleted                  atomic.Int64
	repairedBytes, movedBytes                 atomic.Int64
	sealedStripes, sealFailed                 atomic.Int64
}

// New returns a Healer; Run starts it.
func New(cfg Config) (*Healer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Healer{cfg: cfg, kick: make(chan struct{}, 1), codecs: map[[2]int]*erasure.Codec{}, strays: map[strayKey]time.Time{}}
	h.lim = rate.NewLimiter(rate.Inf, 0)
	if cfg.Rate > 0 {
		// A burst of one second of the rate, and at least one shard of a
		// 1 MiB chunk in a 1+0 stripe.
		h.lim = rate.NewLimiter(rate.Limit(cfg.Rate), int(max(cfg.Rate, 1<<20)))
	}
	m, err := newHealMetrics(cfg.Metrics, h)
	if err != nil {
		return nil, err
	}
	h.m = m
	if cfg.AuditRate > 0 {
		h.audit = newAuditor(h)
	}
	return h, nil
}

// Kick asks for a pass now rather than after Interval (a layout changed,
// an operator asked). It does not wait.
func (h *Healer) Kick() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Run heals until ctx ends: a pass over the chunk table every Interval,
// sooner when kicked or when the layout changes, and audits all the
// while, while Leader says so. It returns ctx's error, once everything it
// started has stopped.
func (h *Healer) Run(ctx context.Context) error {
	if h.audit != nil {
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() { h.audit.run(ctx) })
	}
	t := time.NewTimer(0)
	defer t.Stop()
	watch := time.NewTicker(layoutWatch)
	defer watch.Stop()
	var seen uint64
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		case <-h.kick:
		case <-watch.C:
			if !h.leading() {
				continue
			}
			lctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
			l, err := h.cfg.Meta.Layout(lctx)
			cancel()
			if err != nil || l == nil || l.Version == seen {
				continue
			}
			seen = l.Version
		}
		if h.leading() {
			if err := h.Pass(ctx); err != nil && ctx.Err() == nil {
				h.cfg.Logger.Warn("heal: pass failed", "err", err)
			}
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(h.cfg.Interval)
	}
}

// layoutWatch is how often Run looks for a new layout version.
const layoutWatch = 2 * time.Second

func (h *Healer) leading() bool { return h.cfg.Leader == nil || h.cfg.Leader() }

// work is a stripe to heal, with its plan.
type work struct {
	chunk meta.ChunkInfo
	orig  []string // the nodes its record names (computed for a stripe that names none)
	cur   []string // orig, with "" for the shards their node's inventory lacks
	plan  Plan
}

// view is the layout as one pass sees it.
type view struct {
	l      *meta.Layout
	states map[string]NodeState
	full   *placement.Ring // where the layout wants shards
	live   *placement.Ring // the same over the nodes that take shards now; nil if none
	old    map[uint64]*placement.Ring
}

func (v *view) state(id string) NodeState { return v.states[id] }

// Pass scans the chunk table once and heals what it found, the stripes
// with the fewest available shards first. It returns when the work it
// found is done or ctx ends.
func (h *Healer) Pass(ctx context.Context) error {
	h.passMu.Lock()
	defer h.passMu.Unlock()
	started := h.cfg.Now()
	v, err := h.view(ctx)
	if err != nil {
		return err
	}
	if v == nil {
		return nil // no layout yet
	}
	h.setStatus(func(s *Status) { s.Scanning, s.PassStarted, s.PassEnded = true, started, time.Time{} })
	defer h.setStatus(func(s *Status) { s.Scanning, s.Healing, s.PassEnded = false, false, h.cfg.Now() })
	migrate := h.sealMigration(ctx)
	inv := h.takeInventory(ctx, v)
	q, unsealed, garbage, tally, err := h.scan(ctx, v, inv, migrate)
	h.repairedAtScan.Store(h.repairedBytes.Load())
	h.movedAtScan.Store(h.movedBytes.Load())
	h.sealedAtScan.Store(h.sealedStripes.Load())
	h.setStatus(func(s *Status) {
		s.Scanning = false
		s.SealMigration = migrate
		if err == nil {
			s.GarbageChunks = int64(len(garbage))
			s.Passes++
			s.Healing = true
			s.Tally = tally
			s.Scanned = h.cfg.Now()
			s.LayoutVersion = v.l.Version
			h.drained = map[string]int64{}
		}
	})
	if err != nil {
		return err
	}
	h.m.passes.Inc()
	if err := h.execute(ctx, v, q); err != nil {
		return err
	}
	if err := h.sealAll(ctx, v, unsealed); err != nil {
		return err
	}
	if n, err := h.collectGarbage(ctx, garbage); err != nil {
		return fmt.Errorf("heal: garbage collection: %w", err)
	} else if n > 0 {
		h.collected.Add(int64(n))
		h.cfg.Logger.Info("heal: garbage chunks collected", "chunks", n)
	}
	if n, _ := h.collectStrays(ctx, v, inv); n > 0 {
		h.straysDeleted.Add(int64(n))
	}
	h.cfg.Logger.Debug("heal: pass done", "stripes", tally.Stripes, "rebuild_shards", tally.RepairShards,
		"move_shards", tally.RebalanceShards, "took", h.cfg.Now().Sub(started))
	return nil
}

// view reads the current layout and the nodes' states.
func (h *Healer) view(ctx context.Context) (*view, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	l, err := h.cfg.Meta.Layout(ctx)
	if err != nil {
		return nil, fmt.Errorf("heal: read layout: %w", err)
	}
	if l == nil || len(l.Nodes) == 0 {
		return nil, nil
	}
	v := &view{l: l, states: map[string]NodeState{}, old: map[uint64]*placement.Ring{}}
	liveLayout := *l
	liveLayout.Nodes = nil
	for _, n := range l.Nodes {
		alive := h.cfg.Alive == nil || h.cfg.Alive(n.ID)
		var s NodeState
		switch {
		case n.Removed:
			s = NodeGone
		case !alive:
			s = NodeDown
		case n.Draining:
			s = NodeDraining
		default:
			s = NodeUp
		}
		v.states[n.ID] = s
		if s == NodeUp {
			liveLayout.Nodes = append(liveLayout.Nodes, n)
		}
	}
	if v.full, err = layout.Ring(l); err != nil {
		return nil, fmt.Errorf("heal: %w", err)
	}
	if len(liveLayout.Nodes) > 0 {
		if v.live, err = layout.Ring(&liveLayout); err != nil {
			return nil, fmt.Errorf("heal: live nodes: %w", err)
		}
	}
	v.old[l.Version] = v.full
	return v, nil
}

// stripeNodes returns the node of each shard of a chunk: as its record
// says, or for a stripe that records none, where its layout version placed
// it.
func (h *Healer) stripeNodes(ctx context.Context, v *view, c *meta.ChunkInfo) ([]string, error) {
	return layout.StripeNodes(&c.Stripe, c.CID, func(version uint64) (*placement.Ring, error) {
		if r, ok := v.old[version]; ok {
			return r, nil
		}
		lctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
		l, err := h.cfg.Meta.LayoutVersion(lctx, version)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("layout version %d: %w", version, err)
		}
		r, err := layout.Ring(l)
		if err != nil {
			return nil, err
		}
		v.old[version] = r
		return r, nil
	})
}

// pageSize is how many chunk records a scan reads at once.
const pageSize = 1000

// scan reads the chunk table, plans every live stripe and queues those
// with work to do now, fewest available shards first, at most MaxQueue;
// with migrate, it lists too the live unsealed stripes that have no other
// work (at most MaxQueue), for sealAll. It returns the garbage chunks old
// enough to collect (or whose collection was interrupted), at most
// MaxQueue, and claims in inv every shard a record names.
func (h *Healer) scan(ctx context.Context, v *view, inv *inventory, migrate bool) (*queue, []work, []gcCandidate, Tally, error) {
	q := newQueue(h.cfg.MaxQueue)
	var unsealed []work
	var garbage []gcCandidate
	gcBefore := h.cfg.Now().Add(-h.cfg.GCGrace)
	t := Tally{Missing: map[int]int64{}, DrainingByNode: map[string]int64{}, Critical: map[string]int64{}}
	for id, s := range v.states {
		if s == NodeDraining {
			t.DrainingByNode[id] = 0 // drained, unless a stripe names it
		}
	}
	var after []byte
	for {
		pctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
		page, next, err := h.cfg.Meta.Chunks(pctx, after, pageSize)
		cancel()
		if err != nil {
			return nil, nil, nil, t, fmt.Errorf("heal: read chunk table: %w", err)
		}
		for i := range page {
			c := &page[i]
			if c.Stripe.K == 0 {
				continue
			}
			orig, err := h.stripeNodes(ctx, v, c)
			if err != nil {
				h.cfg.Logger.Warn("heal: stripe without placement", "chunk", cidString(c.CID), "err", err)
				for _, s := range c.Stripe.Shards {
					inv.protect(s) // wherever they are, they are no strays
				}
				continue
			}
			cur, lost := orig, false
			for i, node := range orig {
				if node == "" || i >= len(c.Stripe.Shards) {
					continue
				}
				if !inv.has(node, c.Stripe.Shards[i]) && !h.stillHas(ctx, node, c.Stripe.Shards[i]) {
					if !lost {
						cur, lost = slices.Clone(orig), true
					}
					cur[i] = ""
				}
				inv.claim(node, c.Stripe.Shards[i])
			}
			if c.State != meta.ChunkLive {
				if (c.State == meta.ChunkCollecting || c.Since.Before(gcBefore)) && len(garbage) < h.cfg.MaxQueue {
					garbage = append(garbage, gcCandidate{cid: c.CID, nodes: orig, names: c.Stripe.Shards})
				}
				continue // garbage is collected, not healed
			}
			n := c.Stripe.K + c.Stripe.M
			sid := layout.StripeID(&c.Stripe, c.CID)
			want, err := v.full.Place(sid, n)
			if err != nil {
				return nil, nil, nil, t, fmt.Errorf("heal: place: %w", err)
			}
			var spare []string
			if v.live != nil {
				if spare, err = v.live.Place(sid, n); err != nil {
					return nil, nil, nil, t, fmt.Errorf("heal: place: %w", err)
				}
			}
			p := planStripe(c.Stripe.K, cur, want, spare, v.state)
			t.add(c, &p, cur, v.state)
			switch {
			case p.Busy() || lost:
				q.push(work{chunk: *c, orig: orig, cur: cur, plan: p})
			case migrate && c.Stripe.Seal == 0 && len(unsealed) < h.cfg.MaxQueue:
				// Sealed once its repair or move is done: a later pass.
				unsealed = append(unsealed, work{chunk: *c, orig: orig, cur: cur, plan: p})
			}
		}
		if next == nil {
			return q, unsealed, garbage, t, nil
		}
		after = next
	}
}

// execute heals the queued stripes, Concurrency at a time, fewest
// available shards first.
func (h *Healer) execute(ctx context.Context, v *view, q *queue) error {
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(h.cfg.Concurrency)
	for w := range q.all() {
		if ectx.Err() != nil {
			break
		}
		eg.Go(func() error {
			if err := h.heal(ectx, v, w); err != nil {
				if ectx.Err() != nil {
					return ectx.Err()
				}
				h.cfg.Logger.Warn("heal: stripe not healed this pass", "chunk", cidString(w.chunk.CID), "err", err)
			}
			return nil
		})
	}
	return eg.Wait()
}

// queue keeps the stripes to heal by their available shards, fewest
// first, at most max of them.
type queue struct {
	max     int
	n       int
	buckets map[int][]work
	lo, hi  int
}

func newQueue(max int) *queue {
	return &queue{max: max, buckets: map[int][]work{}, lo: 1 << 30, hi: -1}
}

func (q *queue) push(w work) {
	a := w.plan.Available
	if q.n == q.max {
		if a >= q.hi {
			return // worse off than nothing in the queue: next pass
		}
		b := q.buckets[q.hi]
		q.buckets[q.hi] = b[:len(b)-1]
		q.n--
		for q.hi >= 0 && len(q.buckets[q.hi]) == 0 {
			q.hi--
		}
	}
	q.buckets[a] = append(q.buckets[a], w)
	q.n++
	q.lo, q.hi = min(q.lo, a), max(q.hi, a)
}

// all yields the queued stripes, fewest available shards first.
func (q *queue) all() func(yield func(work) bool) {
	return func(yield func(work) bool) {
		for a := q.lo; a <= q.hi; a++ {
			for _, w := range q.buckets[a] {
				if !yield(w) {
					return
				}
			}
		}
	}
}

func cidString(b []byte) string {
	c, err := cid.Cast(b)
	if err != nil {
		return fmt.Sprintf("%x", b)
	}
	return c.String()
}

// errNoCodec: a stripe shape Reed-Solomon cannot code.
var errNoCodec = errors.New("heal: no codec for the stripe")

func (h *Healer) codec(k, m int) (*erasure.Codec, error) {
	h.codecMu.Lock()
	defer h.codecMu.Unlock()
	key := [2]int{k, m}
	if c, ok := h.codecs[key]; ok {
		return c, nil
	}
	c, err := erasure.NewCodec(k, m)
	if err != nil {
		return nil, fmt.Errorf("%w: %d+%d: %w", errNoCodec, k, m, err)
	}
	h.codecs[key] = c
	return c, nil
}

// stillHas asks a node whether it holds a shard that its inventory, taken
// at the start of the pass, lacked: a shard written (then recorded) after
// the walk is not missing. Only a definite "no" says it is missing.
func (h *Healer) stillHas(ctx context.Context, node string, shard []byte) bool {
	id, err := cid.Cast(shard)
	if err != nil {
		return true
	}
	st, err := h.cfg.Nodes.Shards(node)
	if err != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	ok, err := st.Has(ctx, id)
	return ok || err != nil
}
