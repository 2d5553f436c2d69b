package layout

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"cairn/internal/meta"
	"cairn/placement"
)

func TestNodes(t *testing.T) {
	for _, c := range []struct {
		name  string
		nodes []meta.LayoutNode
		want  []placement.Node
		zones int
	}{
		{name: "empty"},
		{
			name: "every node takes data, in the layout's order, address dropped",
			nodes: []meta.LayoutNode{
				{ID: "b", Zone: "z2", Weight: 2, Addr: "b:7070"},
				{ID: "a", Zone: "z1", Weight: 1, Addr: "a:7070"},
				{ID: "c", Zone: "z1", Weight: 0.5},
			},
			want:  []placement.Node{{ID: "b", Zone: "z2", Weight: 2}, {ID: "a", Zone: "z1", Weight: 1}, {ID: "c", Zone: "z1", Weight: 0.5}},
			zones: 2,
		},
		{
			name: "removed and weightless nodes are left out",
			nodes: []meta.LayoutNode{
				{ID: "a", Zone: "z1", Weight: 1},
				{ID: "b", Zone: "z2", Weight: 0, Removed: true},
				{ID: "c", Zone: "z3", Weight: 0},
				{ID: "d", Zone: "z4", Weight: -1},
			},
			want:  []placement.Node{{ID: "a", Zone: "z1", Weight: 1}},
			zones: 1,
		},
		{
			// Not made by Remove, which zeroes the weight: the flag alone
			// is enough.
			name:  "removed with a weight",
			nodes: []meta.LayoutNode{{ID: "a", Zone: "z1", Weight: 1}, {ID: "b", Zone: "z2", Weight: 3, Removed: true}},
			want:  []placement.Node{{ID: "a", Zone: "z1", Weight: 1}},
			zones: 1,
		},
		{
			name:  "nobody takes data",
			nodes: []meta.LayoutNode{{ID: "a", Zone: "z1", Removed: true}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := &meta.Layout{Version: 3, Nodes: c.nodes, PlacementKey: []byte("k")}
			if got := Nodes(l); !slices.Equal(got, c.want) {
				t.Errorf("Nodes = %v, want %v", got, c.want)
			}
			if got := Zones(l); got != c.zones {
				t.Errorf("Zones = %d, want %d", got, c.zones)
			}
		})
	}
}

func TestRing(t *testing.T) {
	obs := []Observation{alive("a", "z1"), alive("b", "z1"), alive("c", "z2"), alive("d", "z2"), alive("e", "z3"), alive("f", "z3"), alive("g", "z3")}
	l1, _ := Next(Initial([]byte("placement key")), obs, Policy{AutoAdmit: true, Grace: DefaultGrace}, t0)
	l2, err := Remove(l1, "c")
	if err != nil {
		t.Fatal(err)
	}
	// Before Ring, callers gave placement every node of the layout, removed
	// ones too (their weight is 0): for the layouts this package makes,
	// Ring gives the same answer, so no stripe already placed moves.
	all := func(l *meta.Layout) []placement.Node {
		var out []placement.Node
		for _, n := range l.Nodes {
			out = append(out, placement.Node{ID: n.ID, Zone: n.Zone, Weight: n.Weight})
		}
		return out
	}
	onC := 0 // stripes of l1 with a shard on c: the premise of the check on l2
	for _, l := range []*meta.Layout{l1, l2} {
		r, err := Ring(l)
		if err != nil {
			t.Fatal(err)
		}
		if r.Len() != len(Nodes(l)) || r.Zones() != Zones(l) {
			t.Fatalf("layout %d: ring of %d nodes in %d zones, want %d in %d", l.Version, r.Len(), r.Zones(), len(Nodes(l)), Zones(l))
		}
		for i := range 200 {
			stripe := fmt.Appendf(nil, "stripe %d", i)
			got, err := r.Place(stripe, 6)
			if err != nil {
				t.Fatal(err)
			}
			want, err := placement.Place(l.PlacementKey, all(l), stripe, 6)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("layout %d, %s: Ring places on %v, placement over every node on %v", l.Version, stripe, got, want)
			}
			switch {
			case l == l1 && slices.Contains(got, "c"):
				onC++
			case l == l2 && slices.Contains(got, "c"):
				t.Fatalf("%s: a shard on removed node c: %v", stripe, got)
			}
		}
	}
	if onC < 100 {
		t.Fatalf("only %d of 200 stripes had a shard on c before its removal", onC)
	}
	// The key is the layout's: another key places elsewhere.
	other := *l1
	other.PlacementKey = []byte("another key")
	r1, _ := Ring(l1)
	r2, _ := Ring(&other)
	if slices.Equal(r1.Rank([]byte("s")), r2.Rank([]byte("s"))) && slices.Equal(r1.Rank([]byte("t")), r2.Rank([]byte("t"))) {
		t.Error("the placement key makes no difference")
	}
}

func TestRingErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		nodes []meta.LayoutNode
		want  error
	}{
		{"no nodes", nil, placement.ErrNoNodes},
		{"only removed", []meta.LayoutNode{{ID: "a", Removed: true}}, placement.ErrNoNodes},
		{"duplicate", []meta.LayoutNode{{ID: "a", Weight: 1}, {ID: "a", Weight: 1}}, placement.ErrInvalidNode},
		{"empty ID", []meta.LayoutNode{{ID: "", Weight: 1}}, placement.ErrInvalidNode},
		{"NaN weight", []meta.LayoutNode{{ID: "a", Weight: math.NaN()}}, placement.ErrInvalidNode},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Ring(&meta.Layout{Version: 7, Nodes: c.nodes})
			if r != nil || !errors.Is(err, c.want) || !strings.HasPrefix(err.Error(), "layout version 7: ") {
				t.Errorf("Ring = %v, %v; want %v naming layout version 7", r, err, c.want)
			}
		})
	}
}

// TestLiveRing: with nodes down, every shard of every stripe goes to a
// node that is up, all K+M of them even when fewer nodes are up than a
// stripe has shards (the README's three nodes in three zones, one down);
// with none down it places as Ring does; with all down it fails.
func TestLiveRing(t *testing.T) {
	l3, _ := Next(Initial([]byte("k")), []Observation{alive("a", "za"), alive("b", "zb"), alive("c", "zc")}, Policy{AutoAdmit: true}, t0)
	l6, _ := Next(Initial([]byte("k")), []Observation{
		alive("a", "z1"), alive("b", "z1"), alive("c", "z2"), alive("d", "z2"), alive("e", "z3"), alive("f", "z3"),
	}, Policy{AutoAdmit: true}, t0)
	downOf := func(ids ...string) func(string) bool {
		return func(id string) bool { return slices.Contains(ids, id) }
	}
	for _, c := range []struct {
		name    string
		l       *meta.Layout
		down    []string
		maxEach int // the most shards of a stripe one live node may take
	}{
		{"three nodes, one down", l3, []string{"b"}, 3},
		{"three nodes, two down", l3, []string{"a", "c"}, 6},
		{"six nodes, one down", l6, []string{"d"}, 2},
		{"six nodes, a zone down", l6, []string{"c", "d"}, 2},
		{"none down", l6, nil, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := LiveRing(c.l, downOf(c.down...))
			if err != nil {
				t.Fatal(err)
			}
			full, _ := Ring(c.l)
			for i := range 200 {
				stripe := fmt.Appendf(nil, "stripe %d", i)
				got, err := r.Place(stripe, 6)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 6 {
					t.Fatalf("%s: %d nodes for 6 shards", stripe, len(got))
				}
				per := map[string]int{}
				for _, id := range got {
					if slices.Contains(c.down, id) {
						t.Fatalf("%s: a shard on down node %s: %v", stripe, id, got)
					}
					per[id]++
				}
				for id, k := range per {
					if k > c.maxEach {
						t.Fatalf("%s: %d shards on %s, want at most %d: %v", stripe, k, id, c.maxEach, got)
					}
				}
				if c.down == nil {
					want, _ := full.Place(stripe, 6)
					if !slices.Equal(got, want) {
						t.Fatalf("%s: nothing down, yet LiveRing places on %v, Ring on %v", stripe, got, want)
					}
				}
			}
		})
	}
	if _, err := LiveRing(l3, downOf("a", "b", "c")); !errors.Is(err, placement.ErrNoNodes) {
		t.Errorf("every node down: %v, want ErrNoNodes", err)
	}
}

func TestStripeNodes(t *testing.T) {
	l, _ := Next(Initial([]byte("k")), []Observation{alive("a", "za"), alive("b", "zb"), alive("c", "zc")}, Policy{AutoAdmit: true}, t0)
	ring, _ := Ring(l)
	asked := 0
	rings := func(v uint64) (*placement.Ring, error) {
		asked++
		if v != l.Version {
			return nil, fmt.Errorf("no layout version %d", v)
		}
		return ring, nil
	}
	chunk := []byte("chunk")

	// Recorded nodes, holes included, are the answer; no ring is built.
	rec := &meta.Stripe{K: 2, M: 1, Layout: 99, Nodes: []string{"b", "", "a"}}
	got, err := StripeNodes(rec, chunk, rings)
	if err != nil || !slices.Equal(got, rec.Nodes) || asked != 0 {
		t.Fatalf("recorded: %v %v (rings asked %d times)", got, err, asked)
	}
	got[0] = "changed"
	if rec.Nodes[0] != "b" {
		t.Fatal("the result shares the stripe's slice")
	}
	if _, err := StripeNodes(&meta.Stripe{K: 2, M: 1, Nodes: []string{"a"}}, chunk, rings); err == nil {
		t.Fatal("1 node recorded for 3 shards: no error")
	}

	// No nodes recorded: placement under the stripe's layout version.
	got, err = StripeNodes(&meta.Stripe{K: 4, M: 2, Layout: l.Version}, chunk, rings)
	want, _ := ring.Place(chunk, 6)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("placed: %v %v, want %v", got, err, want)
	}
	if _, err := StripeNodes(&meta.Stripe{K: 4, M: 2, Layout: 5}, chunk, rings); err == nil || !strings.Contains(err.Error(), "no layout version 5") {
		t.Fatalf("unknown layout version: %v", err)
	}
}
