package placement

import (
	"fmt"
	"slices"
	"testing"
)

// moved counts the shards, over stripes stripes of n, whose node differs
// between two member sets, and the shards that before sat on the nodes
// gone.
func moved(t *testing.T, before, after []Node, stripes, n int, effective bool, gone ...string) (changed, onGone, toNew int) {
	if effective {
		before, after = EffectiveWeights(before, n), EffectiveWeights(after, n)
	}
	rb, ra := mustRing(t, before), mustRing(t, after)
	for s := range stripes {
		id := stripeID(s)
		pb, pa := mustPlace(t, rb, id, n), mustPlace(t, ra, id, n)
		for i := range pb {
			if slices.Contains(gone, pb[i]) {
				onGone++
			}
			if pb[i] != pa[i] {
				changed++
				if pa[i] == "new" {
					toNew++
				}
			}
		}
	}
	return changed, onGone, toNew
}

// TestMinimalMovement adds a node to and removes a node from a 20-node
// cluster and counts the shards that change node, for 4+2 stripes.
//
// Adding: the theoretical minimum is the new node's share of all shards,
// n*stripes*w/W. Removing: the minimum is the shards the node held; the
// excess is shards that other nodes pass among themselves (a shard's slot
// race had its winner taken by another slot, and zone caps).
func TestMinimalMovement(t *testing.T) {
	const n = 6
	stripes := propertyStripes(t)
	for _, tc := range []struct {
		nodes, zones       int
		effective          bool    // place with EffectiveWeights of each member set
		addBound, remBound float64 // allowed excess over the minimum
	}{
		{20, 1, false, 0.10, 0.10},
		{20, 1, true, 0.10, 0.10},
		{20, 4, false, 0.40, 0.40}, // cap 2 of 6 with 4 zones: counts vary per stripe
		{21, 3, false, 0.10, 0.10}, // cap 2 with 3 zones: every zone holds exactly 2
		{20, 2, false, 0.10, 0.10}, // cap 3 with 2 zones: every zone holds exactly 3
	} {
		t.Run(fmt.Sprintf("nodes=%d,zones=%d,effective=%v", tc.nodes, tc.zones, tc.effective), func(t *testing.T) {
			nodes := mixedNodes(tc.nodes, tc.zones)
			var W float64
			for _, nd := range nodes {
				W += nd.Weight
			}
			// Add a node of average weight in zone z0.
			added := append(slices.Clone(nodes), Node{ID: "new", Zone: "z0", Weight: 2.5})
			changed, _, toNew := moved(t, nodes, added, stripes, n, tc.effective)
			min := float64(n*stripes) * 2.5 / (W + 2.5)
			excess := float64(changed)/min - 1
			t.Logf("add a node (weight 2.5 of %.1f): %d shards moved, theoretical minimum %.0f, excess %.1f%%; %d went to the new node (excess over that %.1f%%)",
				W+2.5, changed, min, 100*excess, toNew, 100*(float64(changed)/float64(toNew)-1))
			if excess > tc.addBound {
				t.Errorf("adding a node moved %.1f%% more than the minimum, bound %.0f%%", 100*excess, 100*tc.addBound)
			}
			// Remove node-07 (weight 2 with one zone, 1+(7/4)%4 = 2 with four).
			gone := "node-07"
			removed := slices.DeleteFunc(slices.Clone(nodes), func(nd Node) bool { return nd.ID == gone })
			changed, onGone, _ := moved(t, nodes, removed, stripes, n, tc.effective, gone)
			excess = float64(changed)/float64(onGone) - 1
			t.Logf("remove %s: %d shards moved, %d were on it, excess %d (%.1f%%)", gone, changed, onGone, changed-onGone, 100*excess)
			if excess > tc.remBound {
				t.Errorf("removing a node moved %.1f%% more than the shards it held, bound %.0f%%", 100*excess, 100*tc.remBound)
			}
		})
	}
}

// TestMovementFewerNodes: a cluster of three zones whose zones hold
// exactly their cap (4+2 on two nodes per zone, 8+4 on four) loses nodes
// until it has fewer nodes than shards, but no zone. The zones' bounds do
// not change, so neither does the zone race: every shard that moves stays
// in its zone. With two nodes per zone for 4+2 only the lost nodes' shards
// move (the node left in the zone takes both); with 8+4 a zone's
// remaining nodes also pass shards among themselves (as when a zone of
// five loses one of them with 15 nodes: +37%).
func TestMovementFewerNodes(t *testing.T) {
	stripes := propertyStripes(t) / 5
	for _, tc := range []struct {
		n, nodes int
		gone     []string
		bound    float64 // allowed excess over the shards on the nodes that left
	}{
		{6, 6, []string{"node-02"}, 0},
		{6, 6, []string{"node-00", "node-04"}, 0},
		{12, 12, []string{"node-07"}, 0.65},
		{12, 12, []string{"node-01", "node-05", "node-06"}, 0.65},
	} {
		t.Run(fmt.Sprintf("n=%d,nodes=%d,gone=%v", tc.n, tc.nodes, tc.gone), func(t *testing.T) {
			nodes := mixedNodes(tc.nodes, 3)
			left := slices.DeleteFunc(slices.Clone(nodes), func(nd Node) bool { return slices.Contains(tc.gone, nd.ID) })
			if len(left) >= tc.n {
				t.Fatalf("%d nodes left, want fewer than %d", len(left), tc.n)
			}
			zoneOf := map[string]string{}
			for _, nd := range nodes {
				zoneOf[nd.ID] = nd.Zone
			}
			rb, ra := mustRing(t, nodes), mustRing(t, left)
			changed, onGone := 0, 0
			for s := range stripes {
				pb, pa := mustPlace(t, rb, stripeID(s), tc.n), mustPlace(t, ra, stripeID(s), tc.n)
				for i := range pb {
					if slices.Contains(tc.gone, pb[i]) {
						onGone++
					}
					if pb[i] != pa[i] {
						changed++
						if zoneOf[pb[i]] != zoneOf[pa[i]] {
							t.Fatalf("stripe %d: shard %d moved from %s to %s, in another zone", s, i, pb[i], pa[i])
						}
					}
				}
			}
			excess := float64(changed)/float64(onGone) - 1
			t.Logf("%d nodes in 3 zones, n=%d, without %v: %d shards moved, %d were on them, excess %.1f%%", tc.nodes, tc.n, tc.gone, changed, onGone, 100*excess)
			if onGone == 0 || excess > tc.bound {
				t.Errorf("excess %.1f%%, bound %.0f%%", 100*excess, 100*tc.bound)
			}
		})
	}
}
