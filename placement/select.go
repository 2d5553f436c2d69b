package placement

import "math/bits"

// This file is the selection itself: one weighted rendezvous race per
// shard slot, with stratified per-node variates, resolved into distinct
// nodes by a greedy matching. See doc.go for why it looks like this.

// cand is one node's state while a stripe is placed. A node ranks the n
// slots in a random order (its band order): in band b its variate for the
// slot is h = (n-1-b+v)/n, so each slot's variate is uniform on (0, 1), as
// a fair race needs, while the node is strong in one slot, weaker in the
// next, and so on. Its score for the slot is weight / -ln(h).
type cand struct {
	score float64   // score of (this node, slot)
	v     float64   // the node's uniform variate for this stripe
	seed  uint64    // keyed hash of (node, stripe); seeds the band order
	prg   uint64    // band-order generator state
	mask  [4]uint64 // slots already given a band
	band  int       // current band
	slot  int       // slot of the current band
	uses  int       // shards taken
}

// start (re)starts the node's band order at band 0.
func (c *cand) start(n int, w float64) {
	c.prg = c.seed
	c.mask = [4]uint64{}
	c.band = -1
	c.next(n, w)
}

// next moves to the node's next band. It must not be called past band n-1.
func (c *cand) next(n int, w float64) {
	c.band++
	c.slot = c.pick(bounded(splitmix64(&c.prg), n-c.band))
	h := (float64(n-1-c.band) + c.v) / float64(n)
	c.score = w / -ln(h)
}

// pick returns the r-th (from 0) slot without a band, and gives it one.
func (c *cand) pick(r int) int {
	for w := 0; ; w++ {
		free := ^c.mask[w]
		if pc := bits.OnesCount64(free); r >= pc {
			r -= pc
			continue
		}
		for ; r > 0; r-- {
			free &= free - 1
		}
		b := bits.TrailingZeros64(free)
		c.mask[w] |= 1 << b
		return w*64 + b
	}
}

type scratch struct {
	cands   []cand
	zcands  []cand  // zone-level races (fixed-count mode)
	own     []int32 // slot -> zone (fixed-count mode)
	heap    []int32 // node indices, best (score, then lowest index) first
	skipped []int32
	out     []int32 // slot -> node index
	taken   []bool  // per slot
	zones   []int   // shards per zone
}

func (r *Ring) getScratch(n int) *scratch {
	s, _ := r.scratch.Get().(*scratch)
	if s == nil {
		N := len(r.members)
		s = &scratch{
			cands:   make([]cand, N),
			zcands:  make([]cand, len(r.zoneSize)),
			heap:    make([]int32, 0, N),
			skipped: make([]int32, 0, N),
			zones:   make([]int, len(r.zoneSize)),
		}
	}
	if cap(s.out) < n {
		s.out = make([]int32, n)
		s.own = make([]int32, n)
		s.taken = make([]bool, n)
	}
	s.out = s.out[:n]
	s.own = s.own[:n]
	s.taken = s.taken[:n]
	clear(s.taken)
	clear(s.zones)
	return s
}

// place fills s.out with the node of each of the n slots.
func (r *Ring) place(s *scratch, stripeID []byte, n int) {
	var msg stripeMsg
	msg.init(stripeID)
	s.heap = s.heap[:0]
	for i := range r.members {
		m := &r.members[i]
		c := &s.cands[i]
		c.seed = msg.hash(&m.prefix)
		c.v = unit(c.seed)
		c.uses = 0
		c.start(n, m.weight)
		s.heap = append(s.heap, int32(i))
	}
	zcap := (n + len(r.zoneSize) - 1) / len(r.zoneSize)
	if u, extra, ok := r.zoneShares(n, zcap); ok {
		r.placeByZone(s, &msg, n, zcap, u, extra)
		return
	}

	// Phase 1: greedy over (node, slot) pairs in descending score: a pair
	// is taken when its slot is free, its node unused and its zone below
	// the cap. A node whose zone is full is set aside for phase 2.
	s.skipped = s.skipped[:0]
	filled := r.match(s, n, func(i int32) bool {
		if s.zones[r.members[i].zone] >= zcap {
			s.skipped = append(s.skipped, i)
			return false
		}
		return true
	}, 0)
	if filled == n {
		return
	}
	// Phase 2: the cap cannot be met with one shard per node; the nodes it
	// set aside fill the remaining slots, still in score order. There are
	// at least n nodes here (zoneShares takes every member set with fewer),
	// and every node is either placed or set aside, so this fills them all.
	s.heap = append(s.heap[:0], s.skipped...)
	r.match(s, n, nil, filled)
}

// zoneShares reports whether the zones race first for the slots (see
// placeByZone), and how many slots each zone may take there: zone z takes
// at least min(size, zcap) of them, so that as many of its nodes hold a
// shard as the cap allows, and at most min(zcap, u*size), with size its
// number of nodes; extra is how many slots all zones together take beyond
// their first bound, each going to a node that already holds a shard.
//
// The zones race first in two cases:
//
//   - There are at least n nodes, and the zones hold exactly n shards under
//     the cap with one shard per node (as with 3 zones of 2 or more nodes
//     for 4+2): then u = 1, extra = 0, and every zone's count is fixed.
//   - There are fewer nodes than n: some nodes must take several shards,
//     and the cap wins over spreading shards over nodes. A zone whose nodes
//     are fewer than its share doubles them up; u is the fewest shards per
//     node that lets the zones hold n under the cap (any zone can, now that
//     nodes double, so the cap is always met when there are two or more
//     zones; with one, the cap is n).
//
// Otherwise (at least n nodes, and the cap does not fix the counts, or
// cannot be met with one shard per node) the flat race of place decides.
func (r *Ring) zoneShares(n, zcap int) (u, extra int, ok bool) {
	base := 0
	for _, c := range r.zoneSize {
		base += min(c, zcap)
	}
	N := len(r.members)
	if N >= n {
		return 1, 0, base == n
	}
	// u*N >= n is needed, and u = zcap is always enough (Z*zcap >= n).
	for u = (n + N - 1) / N; ; u++ {
		hold := 0
		for _, c := range r.zoneSize {
			hold += min(zcap, u*c)
		}
		if hold >= n {
			return u, n - base, true
		}
	}
}

// placeByZone places a stripe zone first. The zones race for the slots
// with equal weights, each taking as many as zoneShares allows: a zone
// takes a free slot while it has fewer than min(size, zcap), and beyond
// that while it has fewer than min(zcap, u*size) and the extra slots are
// not all taken. Then each zone's nodes race for that zone's slots, every
// node taking one slot per round, so a zone's shards spread over its
// nodes as evenly as they can. A node joining or leaving a zone then moves
// shards only within its zone, where a flat race would also pull slots
// from zone to zone.
func (r *Ring) placeByZone(s *scratch, msg *stripeMsg, n, zcap, u, extra int) {
	h := s.heap[:0]
	for z := range r.zoneSize {
		c := &s.zcands[z]
		c.seed = msg.hash(&r.zonePre[z])
		c.v = unit(c.seed)
		c.uses = 0
		c.start(n, 1)
		h = append(h, int32(z))
	}
	zc := s.zcands
	heapify(zc, h)
	pop := func() {
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		down(zc, h, 0)
	}
	for filled := 0; filled < n; {
		z := h[0]
		c := &zc[z]
		if s.taken[c.slot] {
			// Some slot is free and c has not reached it yet, so c has a
			// next band.
			c.next(n, 1)
			down(zc, h, 0)
			continue
		}
		size := r.zoneSize[z]
		beyond := c.uses >= min(size, zcap)
		if beyond && extra == 0 {
			pop() // the extra slots went to other zones
			continue
		}
		if beyond {
			extra--
		}
		s.taken[c.slot] = true
		s.own[c.slot] = z
		c.uses++
		filled++
		if c.uses == min(zcap, u*size) {
			pop()
		}
	}
	for z, mem := range r.zoneMem {
		for j := range s.taken {
			s.taken[j] = s.own[j] != int32(z)
		}
		filled := n - zc[z].uses
		for round := 0; filled < n; round++ {
			if round > 0 {
				for _, i := range mem {
					s.cands[i].start(n, r.members[i].weight)
				}
			}
			s.heap = append(h[:0], mem...)
			filled = r.match(s, n, nil, filled)
			h = s.heap
		}
	}
	s.heap = h
}

// match runs the greedy over the nodes in s.heap until n slots are filled
// or the heap is empty, and returns the number of filled slots. A popped
// node whose slot is taken moves to its next band and goes back; a node
// with a free slot takes it unless admit (if not nil) refuses. A node
// takes at most one slot per call.
func (r *Ring) match(s *scratch, n int, admit func(int32) bool, filled int) int {
	h := s.heap
	cs := s.cands
	heapify(cs, h)
	for filled < n && len(h) > 0 {
		i := h[0]
		c := &s.cands[i]
		if s.taken[c.slot] {
			// Some slot is free and c has not reached it yet (slots only
			// ever become taken), so c has a next band.
			c.next(n, r.members[i].weight)
			down(cs, h, 0)
			continue
		}
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		down(cs, h, 0)
		if admit != nil && !admit(i) {
			continue
		}
		s.out[c.slot] = i
		s.taken[c.slot] = true
		s.zones[r.members[i].zone]++
		c.uses++
		filled++
	}
	s.heap = h
	return filled
}

// The heap holds indices into a []cand, best first: higher score, then
// lower index (members are sorted by ID, zones by name, so ties go to the
// smaller ID on every machine).

func better(cs []cand, i, j int32) bool {
	a, b := cs[i].score, cs[j].score
	return a > b || a == b && i < j
}

func heapify(cs []cand, h []int32) {
	for k := len(h)/2 - 1; k >= 0; k-- {
		down(cs, h, k)
	}
}

func down(cs []cand, h []int32, k int) {
	for {
		l := 2*k + 1
		if l >= len(h) {
			return
		}
		best := l
		if rr := l + 1; rr < len(h) && better(cs, h[rr], h[l]) {
			best = rr
		}
		if !better(cs, h[best], h[k]) {
			return
		}
		h[k], h[best] = h[best], h[k]
		k = best
	}
}
