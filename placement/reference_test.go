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
	zoneSet := map[string]bool{}
	for _, m := range ms {
		zoneSet[m.zone] = true
	}
	zcap := (n + len(zoneSet) - 1) / len(zoneSet)

	var pairs []pair
	for i, m := range ms {
		pairs = append(pairs, refPairs(k0, k1, m.id, m.w, i, stripeID, n)...)
	}
	sortPairs(pairs)

	// Fixed zone counts: zones race for slots with equal weights, then each
	// zone's nodes race for the zone's slots.
	var zones []string
	size := map[string]int{}
	for _, m := range ms {
		if size[m.zone] == 0 {
			zones = append(zones, m.zone)
		}
		size[m.zone]++
	}
	slices.Sort(zones)
	sum := 0
	for _, z := range zones {
		sum += min(size[z], zcap)
	}
	if len(ms) >= n && sum == n {
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
			if own[p.slot] < 0 && count[p.node] < min(size[zones[p.node]], zcap) {
				own[p.slot] = p.node
				count[p.node]++
			}
		}
		out := make([]string, n)
		used := map[int]bool{}
		for _, p := range pairs {
			if out[p.slot] == "" && !used[p.node] && zones[own[p.slot]] == ms[p.node].zone {
				out[p.slot] = ms[p.node].id
				used[p.node] = true
			}
		}
		return out
	}

	out := make([]int, n)
	taken := make([]bool, n)
	uses := make([]int, len(ms))
	perZone := map[string]int{}
	filled := 0
	take := func(p pair) {
		out[p.slot] = p.node
		taken[p.slot] = true
		uses[p.node]++
		perZone[ms[p.node].zone]++
		filled++
	}
	// Phase 1: zone cap; a node met when its zone is full is skipped.
	skipped := make([]bool, len(ms))
	for _, p := range pairs {
		if filled == n {
			break
		}
		if taken[p.slot] || uses[p.node] > 0 || skipped[p.node] {
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
		if !taken[p.slot] && uses[p.node] == 0 && skipped[p.node] {
			take(p)
		}
	}
	// Phase 3: rounds of reuse.
	for round := 2; filled < n; round++ {
		for _, p := range pairs {
			if filled == n {
				break
			}
			if !taken[p.slot] && uses[p.node] < round {
				take(p)
			}
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
