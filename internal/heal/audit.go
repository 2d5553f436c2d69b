package heal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"cairn/internal/blob"
	"cairn/internal/meta"
)

// The auditor checks, continually and at random, that the storage nodes
// still hold their shards intact, before a read needs them: it reads
// random live chunk records, and for each one shard from its node, which
// it compares with the sum the writer recorded (meta.Stripe.Sums, of
// sealed stripes). What
// it finds goes into the nodes' reputations (reputation.go), and a shard
// found missing or corrupt is marked stored nowhere, for the next pass
// to rebuild at once. It runs on the metadata leader beside the passes,
// with the healer's node clients, byte rate and view of the nodes.

// auditPage is how many chunk records the auditor reads at once, from a
// random key: it audits one shard of each.
const auditPage = 64

// auditViewAge is how long the auditor keeps a view of the layout and of
// which nodes are up before it reads them again.
const auditViewAge = 2 * time.Second

// auditResult is what an audit found.
type auditResult uint8

const (
	// auditPassed: the node returned the shard, of its size and sum.
	auditPassed auditResult = iota
	// auditMissing: the node answered that it does not hold the shard.
	auditMissing
	// auditCorrupt: the node returned the shard with the wrong size or
	// sum, or said its own copy is corrupt.
	auditCorrupt
	// auditUnreachable: the node did not answer (down, a timeout, a 5xx):
	// liveness, gossip's business, not counted against it.
	auditUnreachable
	// auditStale: the audit failed, but the chunk's record no longer
	// names the node for the shard (moved, repaired, collected): not
	// counted.
	auditStale
	numAuditResults
)

var auditResultNames = [numAuditResults]string{"passed", "missing", "corrupt", "unreachable", "stale"}

func (r auditResult) String() string { return auditResultNames[r] }

// failed reports whether r counts against the node.
func (r auditResult) failed() bool { return r == auditMissing || r == auditCorrupt }

// auditTask is one shard to audit: shard i of chunk c on node.
type auditTask struct {
	c     meta.ChunkInfo
	shard int
	node  string
	sum   []byte
}

// auditor is the Healer's: see the comment at the top of this file.
type auditor struct {
	h   *Healer
	lim *rate.Limiter // audits per second

	// Of the producer (run's goroutine) only.
	view     *view
	viewAt   time.Time
	like     []byte           // a chunk CID seen, the shape of random keys
	selected map[string]int64 // audits started per node, to spread them

	mu      sync.Mutex
	pending map[string]*meta.ReputationDelta // what audits found since the last flush, per node
	marks   map[string]string                // ejections not yet recorded: node -> reason
	refusal string                           // why the latest ejection was refused
	refused map[string]time.Time             // when a refusal was last logged, per node

	counts         [numAuditResults]atomic.Int64
	noSum, ejected atomic.Int64
}

func newAuditor(h *Healer) *auditor {
	return &auditor{
		h:        h,
		lim:      rate.NewLimiter(rate.Limit(h.cfg.AuditRate), 1),
		selected: map[string]int64{},
		pending:  map[string]*meta.ReputationDelta{},
		marks:    map[string]string{},
		refused:  map[string]time.Time{},
	}
}

// run audits while this node leads, and flushes and weighs what it found
// every ReputationFlush, until ctx ends.
func (a *auditor) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		t := time.NewTicker(a.h.cfg.ReputationFlush)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if !a.h.leading() {
				a.forget()
				continue
			}
			a.flush(ctx)
			a.judge(ctx)
		}
	})
	for ctx.Err() == nil {
		if !a.h.leading() {
			a.view = nil
			sleep(ctx, time.Second)
			continue
		}
		n, err := a.round(ctx)
		if err != nil && ctx.Err() == nil {
			a.h.cfg.Logger.Info("audit: round failed", "err", err)
		}
		if n == 0 {
			sleep(ctx, time.Second) // nothing to audit (yet): look again soon
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// round picks a page of random live chunk records and audits one shard
// of each, at the audit rate, AuditConcurrency at a time. It returns the
// audits it made.
func (a *auditor) round(ctx context.Context) (int, error) {
	if a.view == nil || a.h.cfg.Now().Sub(a.viewAt) > auditViewAge {
		v, err := a.h.view(ctx)
		if err != nil {
			return 0, err
		}
		a.view, a.viewAt = v, a.h.cfg.Now()
	}
	if a.view == nil {
		return 0, nil // no layout yet
	}
	tasks, err := a.sample(ctx, a.view)
	if err != nil {
		return 0, err
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(a.h.cfg.AuditConcurrency)
	n := 0
	for _, t := range tasks {
		if err := a.lim.Wait(ectx); err != nil {
			break
		}
		if err := a.h.lim.WaitN(ectx, min(t.c.Stripe.ShardSize, a.h.lim.Burst())); err != nil {
			break
		}
		n++
		eg.Go(func() error {
			a.record(ectx, t, a.audit(ectx, t))
			return nil
		})
	}
	return n, eg.Wait()
}

// sample reads auditPage chunk records from a random key (wrapping
// around the table's end) and picks one shard of each live one to audit:
// a shard with a recorded sum on a node that is up, of those the one
// whose node has been audited least, so that audits spread evenly over
// the nodes whatever they hold.
func (a *auditor) sample(ctx context.Context, v *view) ([]auditTask, error) {
	after := randomAfter(a.like)
	page, err := a.page(ctx, after, auditPage)
	if err != nil {
		return nil, err
	}
	if len(page) < auditPage && after != nil {
		more, err := a.page(ctx, nil, auditPage-len(page))
		if err != nil {
			return nil, err
		}
		page = append(page, more...)
	}
	var tasks []auditTask
	seen := map[string]bool{}
	for i := range page {
		c := &page[i]
		if c.State != meta.ChunkLive || c.Stripe.K == 0 || seen[string(c.CID)] {
			continue
		}
		seen[string(c.CID)] = true
		a.like = c.CID
		sums := c.Stripe.Sums
		if sums == nil {
			a.noSum.Add(1)
			continue
		}
		best, bestN, ties := -1, int64(0), 0
		for j, node := range c.Stripe.Nodes {
			s := v.state(node)
			if node == "" || (s != NodeUp && s != NodeDraining) || j >= len(sums) || !a.h.cfg.Sealer.CanCheckShardSum(sums[j]) || j >= len(c.Stripe.Shards) {
				continue
			}
			switch n := a.selected[node]; {
			case best < 0 || n < bestN:
				best, bestN, ties = j, n, 1
			case n == bestN:
				ties++
				if rand.IntN(ties) == 0 { // each of the least audited alike
					best = j
				}
			}
		}
		if best < 0 {
			continue
		}
		node := c.Stripe.Nodes[best]
		a.selected[node]++
		tasks = append(tasks, auditTask{c: *c, shard: best, node: node, sum: sums[best]})
	}
	return tasks, nil
}

func (a *auditor) page(ctx context.Context, after []byte, limit int) ([]meta.ChunkInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, a.h.cfg.Timeout)
	defer cancel()
	page, _, err := a.h.cfg.Meta.Chunks(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read chunk records: %w", err)
	}
	return page, nil
}

// randomAfter returns a key spread uniformly over the chunk table: like (a
// chunk CID; nil: none known yet, and so nil, the table's start) with a
// random digest. Chunk CIDs share their prefix (version, codec, hash
// function and length), so the records after a random digest are a
// uniform pick.
func randomAfter(like []byte) []byte {
	c, err := cid.Cast(like)
	if err != nil {
		return nil
	}
	n := c.Prefix().MhLength
	if n <= 0 || n > len(like) {
		return nil
	}
	out := bytes.Clone(like)
	for i := len(out) - n; i < len(out); i++ {
		out[i] = byte(rand.Uint32())
	}
	return out
}

// audit reads the task's shard from its node and compares it with its
// recorded size and sum. A failure is confirmed against the chunk's
// record, read again: one that no longer names the node for the shard is
// stale (the shard moved, was repaired or collected meanwhile). A
// confirmed failure marks the shard stored nowhere, for the next pass to
// rebuild.
func (a *auditor) audit(ctx context.Context, t auditTask) auditResult {
	st := &t.c.Stripe
	id, err := cid.Cast(st.Shards[t.shard])
	if err != nil {
		return auditStale // not a shard anybody can read: the record's business
	}
	store, err := a.h.cfg.Nodes.Shards(t.node)
	if err != nil {
		return auditUnreachable
	}
	gctx, cancel := context.WithTimeout(ctx, a.h.cfg.Timeout)
	b, err := store.Get(gctx, id, make([]byte, 0, st.ShardSize))
	cancel()
	var res auditResult
	switch {
	case err == nil && len(b) == st.ShardSize && a.h.cfg.Sealer.CheckShardSum(t.sum, b) == nil:
		return auditPassed
	case err == nil:
		res = auditCorrupt
	case errors.Is(err, blob.ErrNotFound):
		res = auditMissing
	case errors.Is(err, blob.ErrCorrupt):
		res = auditCorrupt // the node found its own copy rotten
	default:
		return auditUnreachable
	}
	if ctx.Err() != nil {
		return auditUnreachable
	}
	if !a.confirm(ctx, t, res) {
		return auditStale
	}
	return res
}

// confirm reads the chunk's record again and, if it still names the
// audited node for the shard (under the same name and sum), marks the
// shard stored nowhere. It reports whether the failure stands: a record
// that changed after the read failed is taken as the reason it failed.
func (a *auditor) confirm(ctx context.Context, t auditTask, res auditResult) bool {
	ctx, cancel := context.WithTimeout(ctx, a.h.cfg.Timeout)
	defer cancel()
	ci, err := a.h.cfg.Meta.Chunk(ctx, t.c.CID)
	if err != nil || ci == nil || ci.State != meta.ChunkLive {
		return false
	}
	st := &ci.Stripe
	sums := st.Sums
	if t.shard >= len(st.Nodes) || st.Nodes[t.shard] != t.node || t.shard >= len(st.Shards) ||
		!bytes.Equal(st.Shards[t.shard], t.c.Stripe.Shards[t.shard]) || t.shard >= len(sums) || !bytes.Equal(sums[t.shard], t.sum) {
		return false
	}
	next := slices.Clone(st.Nodes)
	next[t.shard] = ""
	err = a.h.cfg.Meta.SetStripeNodes(ctx, ci.CID, st.Nodes, next, st.Layout)
	switch {
	case err == nil:
		a.h.cfg.Logger.Info("audit: shard "+res.String()+" on its node; marked stored nowhere, to be rebuilt",
			"chunk", cidString(ci.CID), "shard", t.shard, "node", t.node)
	case !errors.Is(err, meta.ErrStripeChanged):
		a.h.cfg.Logger.Info("audit: failed shard not marked; the next audit or pass finds it", "chunk", cidString(ci.CID),
			"shard", t.shard, "node", t.node, "err", err)
	}
	return true
}

// record counts an audit's result: in the totals and metrics, and, for
// those that say something of the node, in its pending reputation.
func (a *auditor) record(ctx context.Context, t auditTask, res auditResult) {
	if ctx.Err() != nil && res == auditUnreachable {
		return // interrupted: it found nothing
	}
	a.counts[res].Add(1)
	a.h.m.audits.WithLabelValues(res.String()).Inc()
	if res != auditStale {
		a.h.m.nodeAudits.WithLabelValues(t.node, res.String()).Inc()
	}
	if res != auditPassed && !res.failed() {
		return
	}
	now := a.h.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.pending[t.node]
	if d == nil {
		d = &meta.ReputationDelta{Node: t.node}
		a.pending[t.node] = d
	}
	d.LastAudit = now
	switch res {
	case auditPassed:
		d.Passed++
	case auditMissing:
		d.Missing++
		d.LastFailure = now
	case auditCorrupt:
		d.Corrupt++
		d.LastFailure = now
	}
}
