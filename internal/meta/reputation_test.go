package meta

import (
	"testing"
	"time"
)

// TestReputation: batches of deltas add up per node, times keep the
// latest, ejection and pardon mark and clear, bad batches are refused
// before they are proposed, and the records survive a restart.
func TestReputation(t *testing.T) {
	clk := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clk.now })
	s := n.s
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	rs, err := s.Reputations(bg)
	must(t, err)
	if len(rs) != 0 {
		t.Fatalf("a new store has reputations: %+v", rs)
	}
	must(t, s.AddReputation(bg, []ReputationDelta{
		{Node: "b", Passed: 10, Missing: 1, LastAudit: t0, LastFailure: t0},
		{Node: "a", Passed: 5, LastAudit: t0},
	}))
	must(t, s.AddReputation(bg, []ReputationDelta{
		{Node: "b", Passed: 3, Corrupt: 2, Lies: 1, LastAudit: t0.Add(time.Minute), LastFailure: t0.Add(-time.Hour)},
	}))
	rs, err = s.Reputations(bg)
	must(t, err)
	if len(rs) != 2 || rs[0].Node != "a" || rs[1].Node != "b" {
		t.Fatalf("reputations %+v, want a and b in order", rs)
	}
	b := rs[1]
	if b.V != FormatVersion || b.Passed != 13 || b.Missing != 1 || b.Corrupt != 2 || b.Lies != 1 || b.Failed() != 3 {
		t.Errorf("b's counts: %+v", b)
	}
	if !b.LastAudit.Equal(t0.Add(time.Minute)) || !b.LastFailure.Equal(t0) {
		t.Errorf("b's times: last audit %v, last failure %v (an older failure must not replace a newer)", b.LastAudit, b.LastFailure)
	}
	if b.WindowChecks != 17 || b.WindowFailures != 4 {
		t.Errorf("b's window: %d checks, %d failures, want 17, 4", b.WindowChecks, b.WindowFailures)
	}
	if b.Ejected || !rs[0].LastFailure.IsZero() {
		t.Errorf("unexpected: %+v", rs)
	}

	ejectAt := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clk.set(ejectAt)
	must(t, s.AddReputation(bg, []ReputationDelta{{Node: "b", Eject: true, Reason: "3 of 17 failed"}}))
	rs, _ = s.Reputations(bg)
	if b := rs[1]; !b.Ejected || !b.EjectedAt.Equal(ejectAt) || b.EjectReason != "3 of 17 failed" || b.Passed != 13 {
		t.Fatalf("after ejection: %+v", b)
	}
	n.restart()
	waitLeader(t, n.s)
	s = n.s
	rs, _ = s.Reputations(bg)
	if b := rs[1]; !b.Ejected || b.WindowChecks != 17 {
		t.Fatalf("after a restart: %+v", b)
	}
	must(t, s.AddReputation(bg, []ReputationDelta{{Node: "b", Pardon: true}}))
	rs, _ = s.Reputations(bg)
	if b := rs[1]; b.Ejected || !b.EjectedAt.IsZero() || b.EjectReason != "" || b.WindowChecks != 0 || b.WindowFailures != 0 || b.Passed != 13 {
		t.Fatalf("after a pardon: %+v, want the mark and the window cleared, the totals kept", b)
	}

	for _, bad := range [][]ReputationDelta{
		{{Node: ""}},
		{{Node: "x", Passed: -1}},
		{{Node: "x", Eject: true, Pardon: true}},
		make([]ReputationDelta, maxReputationBatch+1),
	} {
		wantErr(t, s.AddReputation(bg, bad), ErrInvalidArgument)
	}
	must(t, s.AddReputation(bg, nil)) // nothing to add proposes nothing
}

// TestReputationWindow: the window halves once it holds more than
// ReputationWindow checks, so that old evidence weighs less.
func TestReputationWindow(t *testing.T) {
	var r Reputation
	r.Add(&ReputationDelta{Passed: ReputationWindow - 10, Missing: 10}, time.Time{})
	if r.WindowChecks != ReputationWindow || r.WindowFailures != 10 {
		t.Fatalf("window %d/%d before it is full", r.WindowFailures, r.WindowChecks)
	}
	r.Add(&ReputationDelta{Lies: 1}, time.Time{})
	if r.WindowChecks != (ReputationWindow+1)/2 || r.WindowFailures != 11/2 {
		t.Fatalf("window %d/%d after it overflowed, want %d/%d", r.WindowFailures, r.WindowChecks, 11/2, (ReputationWindow+1)/2)
	}
	if r.Passed != ReputationWindow-10 || r.Failed() != 10 || r.Lies != 1 {
		t.Fatalf("totals changed with the window: %+v", r)
	}
	// A huge batch halves as often as it takes.
	r.Add(&ReputationDelta{Passed: 100 * ReputationWindow}, time.Time{})
	if r.WindowChecks > ReputationWindow || r.WindowChecks <= ReputationWindow/2 {
		t.Fatalf("window of %d checks after a huge batch", r.WindowChecks)
	}
}
