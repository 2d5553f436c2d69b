package heal

import (
	"slices"
	"time"

	"cairn/internal/meta"
)

// Tally is what a pass found in the chunk table.
type Tally struct {
	// Stripes counts the live stripes scanned.
	Stripes int64 `json:"stripes"`
	// Healthy counts the stripes with every shard available.
	Healthy int64 `json:"healthy"`
	// Missing counts, by the number of shards they lack (1, 2, ...), the
	// stripes that still have at least K.
	Missing map[int]int64 `json:"missing"`
	// Unreadable counts the stripes with fewer than K shards available.
	Unreadable int64 `json:"unreadable"`
	// RepairShards and RepairBytes: shards to rebuild (and their bytes)
	// that the pass could start on.
	RepairShards int64 `json:"repair_shards"`
	RepairBytes  int64 `json:"repair_bytes"`
	// RebalanceShards and RebalanceBytes: shards to move to where the
	// layout wants them (rebalance and drain).
	RebalanceShards int64 `json:"rebalance_shards"`
	RebalanceBytes  int64 `json:"rebalance_bytes"`
	// Waiting counts shards that need work that cannot start yet: their
	// node is down within its grace period and the stripe still has
	// redundancy, or no node can take them.
	Waiting int64 `json:"waiting"`
	// Draining counts the shards on draining nodes; DrainingByNode the
	// same per draining node of the layout (0 once it holds none).
	Draining       int64            `json:"draining"`
	DrainingByNode map[string]int64 `json:"draining_by_node"`
	// Critical counts, per node, the readable stripes that would have
	// fewer than K shards available without it: the auditor ejects no
	// node with any.
	Critical map[string]int64 `json:"critical_by_node"`
	// Sealed and Unsealed count the live stripes by whether they code
	// their chunk sealed (Stripe.Seal) or in plaintext.
	Sealed   int64 `json:"sealed"`
	Unsealed int64 `json:"unsealed"`
}

// add counts a stripe: its record c, its plan p, the node of each shard
// cur and the nodes' states.
func (t *Tally) add(c *meta.ChunkInfo, p *Plan, cur []string, state func(string) NodeState) {
	t.Stripes++
	if c.Stripe.Seal != 0 {
		t.Sealed++
	} else {
		t.Unsealed++
	}
	switch {
	case p.Missing == 0:
		t.Healthy++
	case p.Available < c.Stripe.K:
		t.Unreadable++
	default:
		t.Missing[p.Missing]++
	}
	size := int64(c.Stripe.ShardSize)
	t.RepairShards += int64(len(p.Rebuild))
	t.RepairBytes += int64(len(p.Rebuild)) * size
	t.RebalanceShards += int64(len(p.Move))
	t.RebalanceBytes += int64(len(p.Move)) * size
	t.Waiting += int64(p.Waiting)
	t.Draining += int64(p.Draining)
	if p.Draining > 0 {
		for _, node := range cur {
			if node != "" && state(node) == NodeDraining {
				t.DrainingByNode[node]++
			}
		}
	}
	if p.Available < c.Stripe.K {
		return
	}
	for i, node := range cur {
		if !serves(node, state) || slices.Index(cur, node) != i {
			continue // not available, or counted at its first shard
		}
		held := 0
		for _, n := range cur[i:] {
			if n == node {
				held++
			}
		}
		if p.Available-held < c.Stripe.K {
			t.Critical[node]++
		}
	}
}

// serves reports whether node serves the shards it holds now.
func serves(node string, state func(string) NodeState) bool {
	s := state(node)
	return node != "" && (s == NodeUp || s == NodeDraining)
}

// Status is what the healer did and found, for storectl and /metrics.
type Status struct {
	// Passes counts the passes over the chunk table since the healer
	// started (those whose scan completed); Scanning is true while one
	// reads it, Healing while one heals what it found.
	Passes   uint64 `json:"passes"`
	Scanning bool   `json:"scanning"`
	Healing  bool   `json:"healing"`
	// PassStarted is when the latest pass began; Scanned when its scan
	// ended, which is when Tally was true; PassEnded when it ended (zero
	// while it runs, or before the first).
	PassStarted time.Time `json:"pass_started"`
	Scanned     time.Time `json:"scanned"`
	PassEnded   time.Time `json:"pass_ended"`
	// LayoutVersion is the layout the latest pass healed towards.
	LayoutVersion uint64 `json:"layout_version"`
	Tally         Tally  `json:"tally"`

	// Totals since the healer started.
	RepairedShards int64 `json:"repaired_shards"`
	RepairedBytes  int64 `json:"repaired_bytes"`
	MovedShards    int64 `json:"moved_shards"`
	MovedBytes     int64 `json:"moved_bytes"`
	FailedShards   int64 `json:"failed_shards"`

	// Garbage collection: the garbage chunks the latest pass found old
	// enough to collect (or being collected), and since the healer
	// started, the chunks collected (their shards deleted, their records
	// forgotten) and the stray shards deleted.
	GarbageChunks   int64 `json:"garbage_chunks"`
	CollectedChunks int64 `json:"collected_chunks"`
	StraysDeleted   int64 `json:"strays_deleted"`

	// RateLimit is the configured bound, bytes per second (0: none).
	RateLimit int64 `json:"rate_limit"`
	// Rate is the bytes per second written over the last few seconds.
	Rate float64 `json:"rate"`
	// Remaining is the bytes of the latest pass's work not yet done:
	// RepairRemaining to rebuild plus RebalanceRemaining to move. ETA is
	// how long that takes at Rate (0 when idle or unknown).
	Remaining          int64         `json:"remaining"`
	RepairRemaining    int64         `json:"repair_remaining"`
	RebalanceRemaining int64         `json:"rebalance_remaining"`
	ETA                time.Duration `json:"eta"`
	// DrainRemaining is, per node of Tally.DrainingByNode, the shards it
	// still holds: the latest scan's count less those moved off it since.
	DrainRemaining map[string]int64 `json:"drain_remaining"`

	// The seal migration: SealMigration is the flag as the latest pass
	// read it (meta's SetSealMigration: seal every live unsealed stripe);
	// SealedStripes and SealFailed count, since the healer started, the
	// stripes it sealed (their records swapped) and those it could not
	// this pass; UnsealedRemaining is the latest scan's Tally.Unsealed
	// less the stripes sealed since.
	SealMigration     bool  `json:"seal_migration"`
	SealedStripes     int64 `json:"sealed_stripes"`
	SealFailed        int64 `json:"seal_failed"`
	UnsealedRemaining int64 `json:"unsealed_remaining"`

	// Audit is what the auditor did since the healer started.
	Audit AuditStatus `json:"audit"`
}

// AuditStatus is what the auditor did since the healer started; each
// node's record is its reputation (meta.Reputation).
type AuditStatus struct {
	// RateLimit is the configured rate, shards audited per second over
	// the cluster (0: audits are off).
	RateLimit float64 `json:"rate_limit"`
	// Audits by result: Passed (the shard's size and sum were right),
	// Missing and Corrupt (failed, and counted against the node),
	// Unreachable (the node did not answer: not counted) and Stale (the
	// chunk's record changed under the audit: not counted).
	Passed      int64 `json:"passed"`
	Missing     int64 `json:"missing"`
	Corrupt     int64 `json:"corrupt"`
	Unreachable int64 `json:"unreachable"`
	Stale       int64 `json:"stale"`
	// NoSum counts the chunk records sampled that could not be audited:
	// written before stripes recorded their shards' sums.
	NoSum int64 `json:"no_sum"`
	// EjectThreshold and EjectRatio are the ejection rule (0: never);
	// Ejected counts the nodes ejected, and Refusal says why the latest
	// ejection the rule called for was not made ("" if none was).
	EjectThreshold int     `json:"eject_threshold"`
	EjectRatio     float64 `json:"eject_ratio"`
	Ejected        int64   `json:"ejected"`
	Refusal        string  `json:"refusal,omitempty"`
}

// Healthy reports whether the latest pass found every stripe whole and
// where the layout wants it, with nothing left to do.
func (s *Status) Healthy() bool {
	t := &s.Tally
	return s.Passes > 0 && t.Healthy == t.Stripes && t.RepairShards == 0 && t.RebalanceShards == 0 && t.Waiting == 0 && t.Draining == 0
}

func (h *Healer) setStatus(f func(*Status)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.status)
}

// Status returns what the healer did and found.
func (h *Healer) Status() Status {
	h.mu.Lock()
	s := h.status
	s.Tally.Missing = cloneMap(s.Tally.Missing)
	s.Tally.DrainingByNode = cloneMap(s.Tally.DrainingByNode)
	s.Tally.Critical = cloneMap(s.Tally.Critical)
	s.DrainRemaining = make(map[string]int64, len(s.Tally.DrainingByNode))
	for node, n := range s.Tally.DrainingByNode {
		s.DrainRemaining[node] = max(0, n-h.drained[node])
	}
	h.mu.Unlock()
	s.RepairedShards = h.repairedShards.Load()
	s.RepairedBytes = h.repairedBytes.Load()
	s.MovedShards = h.movedShards.Load()
	s.MovedBytes = h.movedBytes.Load()
	s.FailedShards = h.failedShards.Load()
	s.CollectedChunks = h.collected.Load()
	s.StraysDeleted = h.straysDeleted.Load()
	s.RateLimit = h.cfg.Rate
	s.Rate = h.rate()
	s.RepairRemaining = max(0, s.Tally.RepairBytes-(h.repairedBytes.Load()-h.repairedAtScan.Load()))
	s.RebalanceRemaining = max(0, s.Tally.RebalanceBytes-(h.movedBytes.Load()-h.movedAtScan.Load()))
	s.SealedStripes = h.sealedStripes.Load()
	s.SealFailed = h.sealFailed.Load()
	s.UnsealedRemaining = max(0, s.Tally.Unsealed-(h.sealedStripes.Load()-h.sealedAtScan.Load()))
	s.Remaining = s.RepairRemaining + s.RebalanceRemaining
	if s.Rate > 0 && s.Remaining > 0 {
		s.ETA = time.Duration(float64(s.Remaining) / s.Rate * float64(time.Second))
	}
	if a := h.audit; a != nil {
		s.Audit = a.status()
	}
	return s
}

func (a *auditor) status() AuditStatus {
	s := AuditStatus{
		RateLimit:   a.h.cfg.AuditRate,
		Passed:      a.counts[auditPassed].Load(),
		Missing:     a.counts[auditMissing].Load(),
		Corrupt:     a.counts[auditCorrupt].Load(),
		Unreachable: a.counts[auditUnreachable].Load(),
		Stale:       a.counts[auditStale].Load(),
		NoSum:       a.noSum.Load(),
		Ejected:     a.ejected.Load(),
	}
	if a.h.cfg.EjectThreshold > 0 {
		s.EjectThreshold, s.EjectRatio = a.h.cfg.EjectThreshold, a.h.cfg.EjectRatio
	}
	a.mu.Lock()
	s.Refusal = a.refusal
	a.mu.Unlock()
	return s
}

func cloneMap[K comparable](m map[K]int64) map[K]int64 {
	out := make(map[K]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// rateWindow is how far back Rate looks.
const rateWindow = 10 * time.Second

type sample struct {
	at    time.Time
	bytes int64
}

// written records bytes written by repair or rebalance, for Rate.
func (h *Healer) written(n int64) {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, sample{now, n})
	for len(h.samples) > 0 && now.Sub(h.samples[0].at) > rateWindow {
		h.samples = h.samples[1:]
	}
}

func (h *Healer) rate() float64 {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	var sum int64
	for _, s := range h.samples {
		if now.Sub(s.at) <= rateWindow {
			sum += s.bytes
		}
	}
	return float64(sum) / rateWindow.Seconds()
}
