package meta

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Reputations: one record per storage node, of what the metadata
// leader's audits (package heal) and the readers found of it. The auditor
// adds its findings in batches (AddReputation: one raft entry for every
// node's counts of a few seconds), not one entry per audit.

// Reputation is a storage node's record: what audits and reads found of
// it, and whether it was ejected from the layout for it.
type Reputation struct {
	V    int    `json:"v"`
	Node string `json:"node"`
	// Totals since the record was created. Passed counts the audits that
	// found the shard intact; Missing those the node answered "not found"
	// for a shard it was recorded to hold; Corrupt those that got bytes
	// of the wrong size or sum. Lies counts the reads that caught the
	// node returning wrong bytes as good ones.
	Passed  int64 `json:"passed"`
	Missing int64 `json:"missing"`
	Corrupt int64 `json:"corrupt"`
	Lies    int64 `json:"lies"`
	// LastAudit is when the node was last audited, LastFailure when an
	// audit or a read last caught it (zero: never).
	LastAudit   time.Time `json:"last_audit,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	// WindowChecks and WindowFailures are the recent evidence, which the
	// ejection rule weighs: every audit and every read caught lying is a
	// check, and each of those that failed a failure. When WindowChecks
	// passes ReputationWindow both are halved (rounding down), so that
	// old evidence counts less and a node that starts failing after a
	// long good life is not shielded by it.
	WindowChecks   int64 `json:"window_checks"`
	WindowFailures int64 `json:"window_failures"`
	// Ejected: the auditor took the node out of the layout (EjectedAt,
	// by the proposer's clock) for EjectReason.
	Ejected     bool      `json:"ejected,omitempty"`
	EjectedAt   time.Time `json:"ejected_at,omitzero"`
	EjectReason string    `json:"eject_reason,omitempty"`
}

// Failed returns the audits that failed: Missing + Corrupt.
func (r *Reputation) Failed() int64 { return r.Missing + r.Corrupt }

// ReputationWindow is how many recent checks a reputation's window holds
// before it is halved.
const ReputationWindow = 1000

// ReputationDelta is what audits and reads found of one node since the
// last batch, to add to its record.
type ReputationDelta struct {
	Node                           string
	Passed, Missing, Corrupt, Lies int64
	// LastAudit and LastFailure are the latest of the batch; zero: none.
	// A record keeps the later of its own and these.
	LastAudit, LastFailure time.Time
	// Eject marks the node ejected, for Reason, at the command's time.
	// Pardon clears that mark and the window: an operator took the node
	// back into the layout (storectl node approve). Not both.
	Eject  bool
	Reason string
	Pardon bool
}

// maxReputationBatch bounds the deltas of one AddReputation.
const maxReputationBatch = 10000

// maxReasonLen bounds an ejection reason.
const maxReasonLen = 1024

const (
	repEject  = 1
	repPardon = 2
)

// AddReputation adds the deltas to their nodes' records (creating those
// that have none), in one raft entry; none proposes nothing.
func (s *Store) AddReputation(ctx context.Context, deltas []ReputationDelta) error {
	err := checkReputationDeltas(deltas)
	if err == nil && len(deltas) == 0 {
		return nil
	}
	if err == nil {
		e := newCmd(opAddReputation, s.cfg.Now(), 64*len(deltas))
		e.uvarint(uint64(len(deltas)))
		for i := range deltas {
			appendReputationDelta(e, &deltas[i])
		}
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("add reputation: %w", err)
	}
	return nil
}

func checkReputationDeltas(deltas []ReputationDelta) error {
	if len(deltas) > maxReputationBatch {
		return fmt.Errorf("%w: %d deltas, at most %d", ErrInvalidArgument, len(deltas), maxReputationBatch)
	}
	for i := range deltas {
		d := &deltas[i]
		if err := checkName("node ID", d.Node, maxIDLen); err != nil {
			return err
		}
		switch {
		case d.Passed < 0 || d.Missing < 0 || d.Corrupt < 0 || d.Lies < 0:
			return fmt.Errorf("%w: negative counts for node %s", ErrInvalidArgument, d.Node)
		case d.Eject && d.Pardon:
			return fmt.Errorf("%w: node %s both ejected and pardoned", ErrInvalidArgument, d.Node)
		case len(d.Reason) > maxReasonLen:
			return fmt.Errorf("%w: ejection reason longer than %d bytes", ErrInvalidArgument, maxReasonLen)
		}
	}
	return nil
}

// A delta in a command is
//
//	bytes    node ID
//	uvarint  passed, missing, corrupt, lies
//	8 bytes  last audit, then last failure (timeKey; 0 for none)
//	byte     flags: 1 eject, 2 pardon
//	bytes    reason
func appendReputationDelta(e *enc, d *ReputationDelta) {
	e.str(d.Node)
	e.uvarint(uint64(d.Passed))
	e.uvarint(uint64(d.Missing))
	e.uvarint(uint64(d.Corrupt))
	e.uvarint(uint64(d.Lies))
	e.b = append(e.b, optTimeKey(d.LastAudit)...)
	e.b = append(e.b, optTimeKey(d.LastFailure)...)
	var flags byte
	if d.Eject {
		flags |= repEject
	}
	if d.Pardon {
		flags |= repPardon
	}
	e.b = append(e.b, flags)
	e.str(d.Reason)
}

// optTimeKey is timeKey, with 0 for the zero time.
func optTimeKey(t time.Time) []byte {
	if t.IsZero() {
		return u64(0)
	}
	return timeKey(t)
}

func readOptTime(d *dec) time.Time {
	if d.err != nil || len(d.b) < 8 {
		d.err = errCorrupt
		return time.Time{}
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(v)).UTC()
}

func readReputationDelta(d *dec) ReputationDelta {
	var r ReputationDelta
	r.Node = d.str()
	r.Passed, r.Missing, r.Corrupt, r.Lies = int64(d.uvarint()), int64(d.uvarint()), int64(d.uvarint()), int64(d.uvarint())
	r.LastAudit, r.LastFailure = readOptTime(d), readOptTime(d)
	if d.err != nil || len(d.b) < 1 {
		d.err = errCorrupt
		return r
	}
	flags := d.b[0]
	d.b = d.b[1:]
	r.Eject, r.Pardon = flags&repEject != 0, flags&repPardon != 0
	r.Reason = d.str()
	return r
}

func (w *wtx) addReputation(d *dec) error {
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	deltas := make([]ReputationDelta, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		deltas = append(deltas, readReputationDelta(d))
	}
	if err := args(d); err != nil {
		return err
	}
	b := w.tx.Bucket(bReputation)
	for i := range deltas {
		delta := &deltas[i]
		r := Reputation{V: FormatVersion, Node: delta.Node}
		if v := b.Get([]byte(delta.Node)); v != nil {
			if err := decodeJSON(v, &r, &r.V); err != nil {
				return fmt.Errorf("reputation of %s: %w", delta.Node, err)
			}
		}
		r.Add(delta, w.now)
		v, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(r.Node), v); err != nil {
			return err
		}
	}
	return nil
}

// Add adds d to r, as the state machine does; now is the command's time.
// Pure, so that every replica computes the same record.
func (r *Reputation) Add(d *ReputationDelta, now time.Time) {
	r.Passed += d.Passed
	r.Missing += d.Missing
	r.Corrupt += d.Corrupt
	r.Lies += d.Lies
	if d.LastAudit.After(r.LastAudit) {
		r.LastAudit = d.LastAudit
	}
	if d.LastFailure.After(r.LastFailure) {
		r.LastFailure = d.LastFailure
	}
	switch {
	case d.Pardon:
		r.Ejected, r.EjectedAt, r.EjectReason = false, time.Time{}, ""
		r.WindowChecks, r.WindowFailures = 0, 0
	case d.Eject:
		r.Ejected, r.EjectedAt, r.EjectReason = true, now, d.Reason
	}
	failures := d.Missing + d.Corrupt + d.Lies
	r.WindowChecks += d.Passed + failures
	r.WindowFailures += failures
	for r.WindowChecks > ReputationWindow {
		r.WindowChecks /= 2
		r.WindowFailures /= 2
	}
}

// Reputations returns every storage node's record, by node ID.
func (s *Store) Reputations(ctx context.Context) ([]Reputation, error) {
	var out []Reputation
	err := s.read(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bReputation).ForEach(func(k, v []byte) error {
			var r Reputation
			if err := decodeJSON(v, &r, &r.V); err != nil {
				return fmt.Errorf("reputation of %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reputations: %w", err)
	}
	slices.SortFunc(out, func(a, b Reputation) int { return cmp.Compare(a.Node, b.Node) })
	return out, nil
}
