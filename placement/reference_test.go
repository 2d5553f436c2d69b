package placement

import (
	"cmp"
	"slices"
)

// refPlace is a plain implementation of Place, written for clarity and not
// speed, that the fast one is checked against: it computes every (node,
// slot) score up front, sorts all pairs, and sweeps them.
func refPlace(key []byte, nodes []Node, stripeID []byte, n int) []string {
	k0, k1 := sipKey(key, nodeDomain)
	type mem struct {
		id   string
		zone string
		w    float64
	}
	var ms []mem
	for _, nd := range nodes {
		if nd.Weight > 0 {
			ms = append(ms, mem{nd.ID, nd.Zone, nd.Weight})
		}
	}
	slices.SortFunc(ms, func(a, b mem) int { return cmp.Compare(a.id, b.id) })
	var zones []string // sorted
	size := map[string]int{}
	for _, m := range ms {
		if size[m.zone] == 0 {
			zones = append(zones, m.zone)
		}
		size[m.zone]++
	}
	slices.Sort(zones)
	zcap := (n + len(zones) - 1) / len(zones)

	var pairs []pair
	for i, m := range ms {
		pairs = append(pairs, refPairs(k0, k1, m.id, m.w, i, stripeID, n)...)
	}
	sortPairs(pairs)

	// Zone first: the zones race for the slots with equal weights, then
	// each zone's nodes race for the zone's slots. A zone takes at least
	// min(its nodes, zcap) slots, at most min(zcap, u*its nodes), and the
	// zones take extra slots beyond their first bound in all. That is the
	// rule when the cap fixes every zone's count with one shard per node
	// (u = 1, extra = 0), and whenever nodes are fewer than shards: then u
	// is the fewest shards per node that lets the zones hold n under the
	// cap, and a node takes several only in a zone with fewer nodes than
	// its share.
	base := 0 // shards the zones hold under the cap, one per node
	for _, z := range zones {
		base += min(size[z], zcap)
	}
	capacity := func(perNode int) int {
		sum := 0
		for _, z := range zones {
			sum += min(zcap, perNode*size[z])
		}
		return sum
	}
	if len(ms) < n || base == n {
		u := 1
		for capacity(u) < n {
			u++
		}
		extra := n - base
		zk0, zk1 := sipKey(key, zoneDomain)
		var zpairs []pair
		for z, name := range zones {
			zpairs = append(zpairs, refPairs(zk0, zk1, name, 1, z, stripeID, n)...)
		}
		sortPairs(zpairs)
		own := make([]int, n)
		for j := range own {
			own[j] = -1
		}
		count := make([]int, len(zones))
		for _, p := range zpairs {
			if own[p.slot] >= 0 {
				continue
			}
			nodes := size[zones[p.node]]
			switch {
			case count[p.node] < min(nodes, zcap):
			case count[p.node] < min(zcap, u*nodes) && extra > 0:
				extra--
			default:
				continue
			}
			own[p.slot] = p.node
			count[p.node]++
		}
		// Rounds: in round r a node takes a slot of its zone if it has
		// fewer than r.
		out := make([]string, n)
		uses := make([]int, len(ms))
		for round := 1; slices.Contains(out, ""); round++ {
			for _, p := range pairs {
				if out[p.slot] == "" && uses[p.node] < round && zones[own[p.slot]] == ms[p.node].zone {
					out[p.slot] = ms[p.node].id
					uses[p.node]++
				}
			}
		}
		return out
	}

	// Otherwise (at least n nodes) one flat race, one shard per node.
	out := make([]int, n)
	taken := make([]bool, n)
	used := make([]bool, len(ms))
	perZone := map[string]int{}
	filled := 0
	take := func(p pair) {
		out[p.slot] = p.node
		taken[p.slot] = true
		used[p.node] = true
		perZone[ms[p.node].zone]++
		filled++
	}
	// Phase 1: zone cap; a node met when its zone is full is skipped.
	skipped := make([]bool, len(ms))
	for _, p := range pairs {
		if filled == n {
			break
		}
		if taken[p.slot] || used[p.node] || skipped[p.node] {
			continue
		}
		if perZone[ms[p.node].zone] >= zcap {
			skipped[p.node] = true
			continue
		}
		take(p)
	}
	// Phase 2: skipped nodes fill what is left.
	for _, p := range pairs {
		if filled == n {
			break
		}
		if !taken[p.slot] && !used[p.node] && skipped[p.node] {
			take(p)
		}
	}
	ids := make([]string, n)
	for j, i := range out {
		ids[j] = ms[i].id
	}
	return ids
}

type pair struct {
	score float64
	node  int
	slot  int
}

// refPairs returns the n (entity, slot) pairs of a node or zone named id.
func refPairs(k0, k1 uint64, id string, w float64, index int, stripeID []byte, n int) []pair {
	// The keyed hash of (id, stripe) over the plain message.
	msg := make([]byte, 8, 8+len(id)+8+len(stripeID))
	msg[0] = byte(len(id))
	msg[1] = byte(len(id) >> 8)
	msg[2] = byte(len(id) >> 16)
	msg[3] = byte(len(id) >> 24)
	msg = append(msg, id...)
	for len(msg)%8 != 0 {
		msg = append(msg, 0)
	}
	msg = append(msg, stripeID...)
	x := siphash(k0, k1, msg)
	v := unit(x)
	// Band order: band b takes the r-th remaining slot, in ascending slot
	// order, r drawn from the generator seeded with x.
	remaining := make([]int, n)
	for j := range remaining {
		remaining[j] = j
	}
	prg := x
	var pairs []pair
	for b := 0; b < n; b++ {
		r := bounded(splitmix64(&prg), n-b)
		slot := remaining[r]
		remaining = slices.Delete(remaining, r, r+1)
		h := (float64(n-1-b) + v) / float64(n)
		pairs = append(pairs, pair{w / -ln(h), index, slot})
	}
	return pairs
}

func sortPairs(pairs []pair) {
	slices.SortStableFunc(pairs, func(a, b pair) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
}
