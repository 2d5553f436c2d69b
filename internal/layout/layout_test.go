package layout

import (
	"errors"
	"testing"
	"time"

	"cairn/internal/meta"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func alive(id, zone string) Observation {
	return Observation{ID: id, Zone: zone, Weight: 1, Addr: id + ":7070", Alive: true}
}

func down(id, zone string, since time.Time) Observation {
	return Observation{ID: id, Zone: zone, Weight: 1, Addr: id + ":7070", DownSince: since}
}

func ids(l *meta.Layout) (out []string) {
	for _, n := range l.Nodes {
		s := n.ID
		if n.Removed {
			s += "(removed)"
		}
		out = append(out, s)
	}
	return out
}

func eq(a []string, b ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNext(t *testing.T) {
	auto := Policy{AutoAdmit: true, Grace: DefaultGrace}
	l0 := Initial([]byte("key"))

	// Admission, sorted, version 1, key kept.
	l1, changed := Next(l0, []Observation{alive("c", "z2"), alive("a", "z1"), alive("b", "z1")}, auto, t0)
	if !changed || l1.Version != 1 || !eq(ids(l1), "a", "b", "c") || string(l1.PlacementKey) != "key" {
		t.Fatalf("admit: changed=%v %+v", changed, l1)
	}
	// The same observations change nothing.
	if l, changed := Next(l1, []Observation{alive("b", "z1"), alive("a", "z1"), alive("c", "z2")}, auto, t0); changed || l != l1 {
		t.Fatalf("no-op: changed=%v version %d", changed, l.Version)
	}
	// Without auto-admit a new node waits for approval.
	if _, changed := Next(l1, []Observation{alive("d", "z3")}, Policy{Grace: DefaultGrace}, t0); changed {
		t.Fatal("a node was admitted without approval")
	}
	// A new address is followed.
	moved := alive("b", "z1")
	moved.Addr = "elsewhere:7070"
	l2, changed := Next(l1, []Observation{moved}, auto, t0)
	if !changed || l2.Version != 2 || l2.Nodes[1].Addr != "elsewhere:7070" {
		t.Fatalf("address change: %+v", l2)
	}
	// Down within the grace period: kept; past it: dropped; unmentioned: kept.
	if _, changed := Next(l2, []Observation{down("a", "z1", t0)}, auto, t0.Add(DefaultGrace)); changed {
		t.Fatal("a node was dropped within its grace period")
	}
	l3, changed := Next(l2, []Observation{down("a", "z1", t0)}, auto, t0.Add(DefaultGrace+time.Second))
	if !changed || l3.Version != 3 || !eq(ids(l3), "b", "c") {
		t.Fatalf("drop after grace: %v", ids(l3))
	}
	if _, changed := Next(l3, nil, auto, t0.Add(time.Hour)); changed {
		t.Fatal("an empty gossip view removed nodes")
	}
	// The input layout is never modified.
	if !eq(ids(l2), "a", "b", "c") || l2.Version != 2 {
		t.Fatalf("Next modified its input: %v", ids(l2))
	}
}

func TestApproveRemove(t *testing.T) {
	l1, _ := Next(Initial([]byte("k")), []Observation{alive("a", "z1")}, Policy{AutoAdmit: true}, t0)
	l2, err := Approve(l1, alive("b", "z2"))
	if err != nil || l2.Version != 2 || !eq(ids(l2), "a", "b") {
		t.Fatalf("approve: %v %v", ids(l2), err)
	}
	if _, err := Approve(l2, alive("b", "z2")); !errors.Is(err, ErrAlreadyIn) {
		t.Fatalf("approve twice: %v", err)
	}
	l3, err := Remove(l2, "a")
	if err != nil || l3.Version != 3 || !eq(ids(l3), "a(removed)", "b") || l3.Nodes[0].Weight != 0 {
		t.Fatalf("remove: %+v %v", l3, err)
	}
	if _, err := Remove(l3, "a"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("remove twice: %v", err)
	}
	if _, err := Remove(l3, "zz"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("remove unknown: %v", err)
	}
	// A removed node that is alive is not re-admitted automatically...
	if _, changed := Next(l3, []Observation{alive("a", "z1"), alive("b", "z2")}, Policy{AutoAdmit: true}, t0); changed {
		t.Fatal("a removed node came back by itself")
	}
	// ...but approval takes it back.
	l4, err := Approve(l3, alive("a", "z1"))
	if err != nil || !eq(ids(l4), "a", "b") || l4.Nodes[0].Weight != 1 {
		t.Fatalf("re-approve: %v %v", ids(l4), err)
	}
}

func TestDrain(t *testing.T) {
	l1, _ := Next(Initial([]byte("k")), []Observation{alive("a", "z1"), alive("b", "z2"), alive("c", "z3")}, Policy{AutoAdmit: true}, t0)
	l2, err := Drain(l1, "b")
	if err != nil || l2.Version != l1.Version+1 || !l2.Nodes[1].Draining || l2.Nodes[1].Weight != 1 {
		t.Fatalf("drain: %+v %v", l2, err)
	}
	if l1.Nodes[1].Draining {
		t.Fatal("Drain changed the layout it was given")
	}
	if got := Nodes(l2); len(got) != 2 || got[0].ID != "a" || got[1].ID != "c" {
		t.Fatalf("placement still takes %v", got)
	}
	// Idempotent: the same layout, nothing to store.
	if l3, err := Drain(l2, "b"); err != nil || l3 != l2 {
		t.Fatalf("drain twice: %+v %v", l3, err)
	}
	if _, err := Drain(l2, "zz"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("drain unknown: %v", err)
	}
	l4, err := Remove(l2, "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Drain(l4, "c"); !errors.Is(err, ErrRemoved) {
		t.Fatalf("drain removed: %v", err)
	}
	// A draining node that gossip still sees alive stays draining.
	l5, changed := Next(l2, []Observation{alive("a", "z1"), alive("b", "z2"), alive("c", "z3")}, Policy{AutoAdmit: true}, t0)
	if changed || !l5.Nodes[1].Draining {
		t.Fatalf("Next undid the drain: %+v", l5)
	}
}
