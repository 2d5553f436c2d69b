package placement

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var testKey = []byte("cairn test cluster secret")

// stripeID returns a 36-byte stripe ID (the length of a binary CIDv1 with
// a sha2-256 multihash) for stripe number i.
func stripeID(i int) []byte {
	id := make([]byte, 36)
	copy(id, []byte{0x01, 0x55, 0x12, 0x20})
	binary.BigEndian.PutUint64(id[4:], uint64(i))
	return id
}

// mixedNodes returns count nodes with weights 1, 2, 3, 4, 1, 2, ... spread
// over zones z0..z(zones-1) so that every zone gets every weight.
func mixedNodes(count, zones int) []Node {
	nodes := make([]Node, count)
	for i := range nodes {
		nodes[i] = Node{
			ID:     fmt.Sprintf("node-%02d", i),
			Zone:   fmt.Sprintf("z%d", i%zones),
			Weight: float64(1 + (i/zones)%4),
		}
	}
	return nodes
}

func mustRing(t testing.TB, nodes []Node) *Ring {
	t.Helper()
	r, err := NewRing(testKey, nodes)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPlace(t testing.TB, r *Ring, stripe []byte, n int) []string {
	t.Helper()
	p, err := r.Place(stripe, n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeterministic(t *testing.T) {
	nodes := mixedNodes(13, 3)
	nodes = append(nodes, Node{ID: "zero", Zone: "z9", Weight: 0}, Node{ID: "neg", Zone: "z9", Weight: -1})
	rng := rand.New(rand.NewPCG(1, 2))
	ring := mustRing(t, nodes)
	for s := range 300 {
		stripe := stripeID(s)
		for _, n := range []int{1, 2, 4, 6, 12, 16, 20, 40} {
			want, err := Place(testKey, nodes, stripe, n)
			if err != nil {
				t.Fatal(err)
			}
			if again := mustPlace(t, ring, stripe, n); !slices.Equal(again, want) {
				t.Fatalf("stripe %d n=%d: Ring.Place %v, Place %v", s, n, again, want)
			}
			shuffled := slices.Clone(nodes)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, err := Place(testKey, shuffled, stripe, n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("stripe %d n=%d: order of nodes changed the result: %v vs %v", s, n, got, want)
			}
			if slices.Contains(want, "zero") || slices.Contains(want, "neg") {
				t.Fatalf("node without weight chosen: %v", want)
			}
		}
		rank := Rank(testKey, nodes, stripe)
		if len(rank) != 13 {
			t.Fatalf("Rank has %d nodes, want the 13 eligible ones", len(rank))
		}
		shuffled := slices.Clone(nodes)
		slices.Reverse(shuffled)
		if r2 := Rank(testKey, shuffled, stripe); !slices.Equal(rank, r2) {
			t.Fatalf("order of nodes changed Rank: %v vs %v", rank, r2)
		}
		if p1 := mustPlace(t, ring, stripe, 1); rank[0] != p1[0] {
			t.Fatalf("Rank[0] = %s, Place(n=1) = %s", rank[0], p1[0])
		}
	}
	// A different key gives a different placement.
	a, _ := Place(testKey, nodes, stripeID(1), 6)
	b, _ := Place([]byte("another secret"), nodes, stripeID(1), 6)
	c, _ := Place([]byte("another secret"), nodes, stripeID(2), 6)
	if slices.Equal(a, b) && slices.Equal(b, c) {
		t.Fatalf("key has no effect: %v %v %v", a, b, c)
	}
}

// TestAgainstReference checks the fast selection against refPlace on
// random member sets, including ones where zone caps cannot be met and
// ones with fewer nodes than shards.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 3000 {
		nodes := randomNodes(rng, 1+rng.IntN(30), 1+rng.IntN(6))
		n := 1 + rng.IntN(24)
		stripe := stripeID(iter)
		got, err := Place(testKey, nodes, stripe, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := refPlace(testKey, nodes, stripe, n); !slices.Equal(got, want) {
			t.Fatalf("iteration %d, %d nodes, n=%d:\nfast %v\nref  %v", iter, len(nodes), n, got, want)
		}
	}
	// Member sets where the zone cap fixes each zone's count: Z zones of at
	// least c nodes each and n = Z*c, or some zones smaller than the cap.
	fixed := 0
	for iter := range 2000 {
		Z, c := 1+rng.IntN(6), 1+rng.IntN(4)
		var nodes []Node
		for z := range Z {
			for i := range c + rng.IntN(4) {
				nodes = append(nodes, Node{ID: fmt.Sprintf("z%d-n%d", z, i), Zone: fmt.Sprintf("z%d", z), Weight: 0.5 + 4*rng.Float64()})
			}
		}
		n := Z * c
		if rng.IntN(3) == 0 && n > 1 {
			n-- // not fixed unless a zone is small
		}
		stripe := stripeID(iter)
		got, err := Place(testKey, nodes, stripe, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := refPlace(testKey, nodes, stripe, n); !slices.Equal(got, want) {
			t.Fatalf("fixed-count iteration %d, %d nodes, n=%d:\nfast %v\nref  %v", iter, len(nodes), n, got, want)
		}
		if n == Z*c {
			fixed++
		}
	}
	t.Logf("%d of 2000 member sets had fixed zone counts", fixed)

	// Fewer nodes than shards over two or more zones, where nodes double
	// up under the cap. Count the member sets that exercise each bound.
	var moreThanEven, extraContested int
	for iter := range 2000 {
		nodes, n := fewNodes(rng)
		stripe := stripeID(iter)
		got, err := Place(testKey, nodes, stripe, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := refPlace(testKey, nodes, stripe, n); !slices.Equal(got, want) {
			t.Fatalf("fewer-nodes iteration %d, %d nodes, n=%d:\nfast %v\nref  %v", iter, len(nodes), n, got, want)
		}
		u, contested := fewNodesBounds(nodes, n)
		if u > (n+len(nodes)-1)/len(nodes) {
			moreThanEven++
		}
		if contested {
			extraContested++
		}
	}
	t.Logf("fewer nodes than shards: %d of 2000 member sets need more than ceil(n/N) shards on a node, in %d the zones compete for extra shards",
		moreThanEven, extraContested)
	if moreThanEven < 100 || extraContested < 100 {
		t.Errorf("the fewer-nodes member sets do not exercise both bounds")
	}
}

// fewNodes returns a member set of 2 to 5 zones of 1 to 3 nodes each and
// a stripe width above its number of nodes.
func fewNodes(rng *rand.Rand) ([]Node, int) {
	var nodes []Node
	for z := range 2 + rng.IntN(4) {
		for i := range 1 + rng.IntN(3) {
			nodes = append(nodes, Node{ID: fmt.Sprintf("z%d-n%d", z, i), Zone: fmt.Sprintf("z%d", z), Weight: 0.5 + 4*rng.Float64()})
		}
	}
	return nodes, len(nodes) + 1 + rng.IntN(12)
}

// fewNodesBounds returns, for nodes all eligible and fewer than n, the
// most shards Place may put on a node, and whether the zones can take more
// shards than n under their bounds (so that a race decides the counts).
func fewNodesBounds(nodes []Node, n int) (perNode int, contested bool) {
	size := map[string]int{}
	for _, nd := range nodes {
		size[nd.Zone]++
	}
	zcap := (n + len(size) - 1) / len(size)
	for perNode = 1; ; perNode++ {
		hold := 0
		for _, c := range size {
			hold += min(zcap, perNode*c)
		}
		if hold >= n {
			return perNode, hold > n
		}
	}
}

// randomNodes returns count nodes over up to zones zones with random
// weights, a few of them not eligible.
func randomNodes(rng *rand.Rand, count, zones int) []Node {
	nodes := make([]Node, count)
	for i := range nodes {
		w := 0.5 + 10*rng.Float64()
		if rng.IntN(10) == 0 {
			w = 0
		}
		nodes[i] = Node{ID: fmt.Sprintf("n%d-%x", i, rng.Uint32()), Zone: fmt.Sprintf("z%d", rng.IntN(zones)), Weight: w}
	}
	if eligible := slices.ContainsFunc(nodes, func(n Node) bool { return n.Weight > 0 }); !eligible {
		nodes[0].Weight = 1
	}
	return nodes
}

// TestPlacementInvariants fuzzes member sets and checks what Place
// promises (see checkInvariants).
func TestPlacementInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 4000 {
		nodes := randomNodes(rng, 1+rng.IntN(40), 1+rng.IntN(8))
		n := 1 + rng.IntN(20)
		checkInvariants(t, nodes, stripeID(iter), n)
	}
	for iter := range 2000 {
		nodes, n := fewNodes(rng)
		checkInvariants(t, nodes, stripeID(iter), n)
	}
}

// checkInvariants places one stripe and checks the guarantees of doc.go:
// n results, all eligible; distinct nodes when there are at least n; no
// zone above MaxPerZone, nor above the cap ceil(n/Z) when the zones can
// hold n under it (always with fewer than n nodes, where nodes double up);
// and with fewer than n nodes, as many distinct nodes as the cap allows in
// every zone, a zone's shards spread evenly over its nodes, and no node
// above the fewest shards per node that lets the zones hold n under the
// cap.
func checkInvariants(t *testing.T, nodes []Node, stripe []byte, n int) {
	t.Helper()
	got, err := Place(testKey, nodes, stripe, n)
	if err != nil {
		t.Fatal(err)
	}
	zoneOf := map[string]string{}
	zoneSize := map[string]int{}
	for _, nd := range nodes {
		if nd.Weight > 0 {
			zoneOf[nd.ID] = nd.Zone
			zoneSize[nd.Zone]++
		}
	}
	N, Z := len(zoneOf), len(zoneSize)
	zcap := (n + Z - 1) / Z
	if len(got) != n {
		t.Fatalf("got %d nodes, want %d", len(got), n)
	}
	uses := map[string]int{}
	perZone := map[string]int{}
	for _, id := range got {
		if _, ok := zoneOf[id]; !ok {
			t.Fatalf("placed on %q, which is not an eligible node", id)
		}
		uses[id]++
		perZone[zoneOf[id]]++
	}
	oneEach := 0 // what the zones hold under the cap with one shard per node
	for _, c := range zoneSize {
		oneEach += min(c, zcap)
	}
	capMet := N < n || oneEach >= n
	mpz := MaxPerZone(nodes, n)
	for z, c := range perZone {
		if c > mpz {
			t.Fatalf("zone %s holds %d shards, MaxPerZone says %d: %v", z, c, mpz, got)
		}
		if capMet && c > zcap {
			t.Fatalf("%d nodes, zones %v, n=%d: zone %s holds %d shards, above the cap %d: %v", N, zoneSize, n, z, c, zcap, got)
		}
	}
	if capMet && mpz != zcap {
		t.Fatalf("MaxPerZone = %d, want the cap %d", mpz, zcap)
	}
	if N >= n {
		if len(uses) != n {
			t.Fatalf("%d nodes, n=%d: only %d distinct nodes: %v", N, n, len(uses), got)
		}
		return
	}
	perNode := 1 // the fewest shards per node that let the zones hold n
	for {
		hold := 0
		for _, c := range zoneSize {
			hold += min(zcap, perNode*c)
		}
		if hold >= n {
			break
		}
		perNode++
	}
	lo, hi, used := map[string]int{}, map[string]int{}, map[string]int{}
	for id, z := range zoneOf {
		u := uses[id]
		if u > perNode {
			t.Fatalf("%d nodes, zones %v, n=%d: node %s holds %d shards, limit %d: %v", N, zoneSize, n, id, u, perNode, got)
		}
		if _, ok := lo[z]; !ok {
			lo[z], hi[z] = u, u
		}
		lo[z], hi[z] = min(lo[z], u), max(hi[z], u)
		if u > 0 {
			used[z]++
		}
	}
	for z, c := range zoneSize {
		if hi[z]-lo[z] > 1 {
			t.Fatalf("zone %s: its nodes hold from %d to %d shards: %v", z, lo[z], hi[z], got)
		}
		if used[z] != min(c, zcap) {
			t.Fatalf("zone %s: %d of its %d nodes hold shards, want %d (cap %d): %v", z, used[z], c, min(c, zcap), zcap, got)
		}
	}
}

// TestZoneCapOverNodeSpread: a 4+2 cluster of three zones that has lost
// one or two of its six nodes still holds two shards per zone in every
// stripe; the lone node of a zone takes both of its zone's shards.
func TestZoneCapOverNodeSpread(t *testing.T) {
	for _, tc := range []struct {
		name  string
		zones []int // nodes per zone
		node  []int // shards every stripe puts on each node of the zone
	}{
		{"5 nodes", []int{2, 2, 1}, []int{1, 1, 2}},
		{"4 nodes", []int{1, 2, 1}, []int{2, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nodes []Node
			for z, c := range tc.zones {
				for i := range c {
					nodes = append(nodes, Node{ID: fmt.Sprintf("%c%d", 'a'+z, i), Zone: string(rune('a' + z)), Weight: float64(1 + i)})
				}
			}
			ring := mustRing(t, nodes)
			if got := ring.MaxPerZone(6); got != 2 {
				t.Errorf("Ring.MaxPerZone(6) = %d, want 2", got)
			}
			if got := MaxPerZone(nodes, 6); got != 2 {
				t.Errorf("MaxPerZone = %d, want 2", got)
			}
			if !ZoneSafe(nodes, 4, 2) {
				t.Errorf("ZoneSafe(4, 2) = false")
			}
			for s := range 2000 {
				per := map[string]int{}
				for _, id := range mustPlace(t, ring, stripeID(s), 6) {
					per[id]++
				}
				for _, nd := range nodes {
					z := int(nd.Zone[0] - 'a')
					if per[nd.ID] != tc.node[z] {
						t.Fatalf("stripe %d: node %s holds %d shards, want %d: %v", s, nd.ID, per[nd.ID], tc.node[z], per)
					}
				}
			}
		})
	}
}

// TestMaxPerZoneTight checks that MaxPerZone is reached, not only an upper
// bound, on small member sets where every ranking turns up quickly.
func TestMaxPerZoneTight(t *testing.T) {
	cases := []struct {
		zones []int // nodes per zone
		n     int
	}{
		{[]int{3, 3}, 4},          // cap 2 met
		{[]int{5, 1}, 6},          // cap 3 not met: one zone takes 5
		{[]int{4, 1, 1}, 6},       // cap 2: 4 taken, 2 more from the big zone
		{[]int{1, 1, 1, 1, 1}, 4}, // more zones than shards
		{[]int{6, 2, 2}, 6},
		// Fewer nodes than shards: nodes double up to keep the cap.
		{[]int{2, 1}, 6},       // cap 3: the lone node takes 3
		{[]int{2, 2, 1}, 6},    // cap 2 with 2 on the lone node
		{[]int{1, 2, 1}, 6},    // cap 2 with 2 on each lone node
		{[]int{1, 1, 1, 1}, 6}, // cap 2: two zones get 2, two get 1
		{[]int{3}, 6},          // one zone takes all
	}
	for _, tc := range cases {
		var nodes []Node
		for z, c := range tc.zones {
			for i := range c {
				nodes = append(nodes, Node{ID: fmt.Sprintf("z%d-%d", z, i), Zone: fmt.Sprintf("z%d", z), Weight: 1})
			}
		}
		want := MaxPerZone(nodes, tc.n)
		seen := 0
		ring := mustRing(t, nodes)
		for s := range 5000 {
			per := map[string]int{}
			for _, id := range mustPlace(t, ring, stripeID(s), tc.n) {
				per[id[:2]]++
			}
			for _, c := range per {
				seen = max(seen, c)
			}
		}
		t.Logf("zones %v, n=%d: MaxPerZone %d, most seen in 5000 stripes %d", tc.zones, tc.n, want, seen)
		if seen != want {
			t.Errorf("zones %v, n=%d: MaxPerZone %d but the most any zone got was %d", tc.zones, tc.n, want, seen)
		}
	}
}

// shares places stripes stripes of n shards and returns each node's count.
func shares(t testing.TB, nodes []Node, stripes, n int) map[string]int {
	ring := mustRing(t, nodes)
	count := map[string]int{}
	for s := range stripes {
		for _, id := range mustPlace(t, ring, stripeID(s), n) {
			count[id]++
		}
	}
	return count
}

// worstDeviation returns the largest relative deviation of a node's count
// from its weight's share of all stripes*n shards, and that node.
func worstDeviation(nodes []Node, count map[string]int, stripes, n int) (float64, string) {
	var total float64
	for _, nd := range nodes {
		total += nd.Weight
	}
	worst, who := 0.0, ""
	for _, nd := range nodes {
		want := float64(stripes*n) * nd.Weight / total
		if d := math.Abs(float64(count[nd.ID])-want) / want; d > worst {
			worst, who = d, nd.ID
		}
	}
	return worst, who
}

// propertyStripes is how many stripes the statistical tests place: 100,000,
// or 20,000 with -short or -race (the race detector makes them slow and
// finds nothing in this single-goroutine code; TestConcurrentPlace is the
// one it is for).
func propertyStripes(t *testing.T) int {
	if testing.Short() || raceEnabled {
		t.Log("-short or -race: 20,000 stripes instead of 100,000; bounds are set for 100,000")
		return 20_000
	}
	return 100_000
}

func TestWeightProportional(t *testing.T) {
	stripes := propertyStripes(t)
	nodes := mixedNodes(20, 1)
	for _, tc := range []struct {
		n         int
		effective bool // place with EffectiveWeights
		bound     float64
	}{
		{1, false, 0.05},
		{6, false, 0.08},
		{6, true, 0.05},
	} {
		placed := nodes
		if tc.effective {
			placed = EffectiveWeights(nodes, tc.n)
		}
		count := shares(t, placed, stripes, tc.n)
		worst, who := worstDeviation(nodes, count, stripes, tc.n)
		t.Logf("20 nodes, weights 1-4, one zone, n=%d, effective weights %v, %d stripes: worst deviation from weight share %.2f%% (%s)", tc.n, tc.effective, stripes, 100*worst, who)
		byWeight := map[float64][2]int{}
		for _, nd := range nodes {
			c := byWeight[nd.Weight]
			byWeight[nd.Weight] = [2]int{c[0] + count[nd.ID], c[1] + 1}
		}
		for _, w := range []float64{1, 2, 3, 4} {
			c := byWeight[w]
			t.Logf("  weight %v: %.4f of shards per node, weight share %.4f", w, float64(c[0])/float64(c[1])/float64(stripes*tc.n), w/50)
		}
		bound := tc.bound
		if stripes < 100_000 {
			bound *= 2.5 // sampling noise grows as 1/sqrt(stripes)
		}
		if worst > bound {
			t.Errorf("n=%d: worst deviation %.2f%% > %.1f%%", tc.n, 100*worst, 100*bound)
		}
	}
}

// TestZoneShares: with three zones for 4+2, every zone holds two shards of
// each stripe, and a node's share is its weight's share of its zone's two.
func TestZoneShares(t *testing.T) {
	stripes := propertyStripes(t)
	nodes := mixedNodes(21, 3)
	zoneWeight := map[string]float64{}
	for _, nd := range nodes {
		zoneWeight[nd.Zone] += nd.Weight
	}
	for _, tc := range []struct {
		effective bool
		bound     float64
	}{{false, 0.10}, {true, 0.07}} {
		placed := nodes
		if tc.effective {
			placed = EffectiveWeights(nodes, 6)
		}
		count := shares(t, placed, stripes, 6)
		worst := 0.0
		for _, nd := range nodes {
			want := float64(2*stripes) * nd.Weight / zoneWeight[nd.Zone]
			worst = max(worst, math.Abs(float64(count[nd.ID])/want-1))
		}
		t.Logf("21 nodes, weights 1-4, 3 zones, n=6, effective weights %v: worst deviation from the share of the zone's 2 shards %.2f%%", tc.effective, 100*worst)
		bound := tc.bound
		if stripes < 100_000 {
			bound *= 2.5
		}
		if worst > bound {
			t.Errorf("worst deviation %.2f%% > %.1f%%", 100*worst, 100*bound)
		}
	}
}

// TestConcurrentPlace places from many goroutines on one Ring (which pools
// its scratch space) and compares with sequential results; run with -race.
func TestConcurrentPlace(t *testing.T) {
	ring := mustRing(t, mixedNodes(30, 5))
	want := make([][]string, 200)
	for s := range want {
		want[s] = mustPlace(t, ring, stripeID(s), 6)
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for k := range 2000 {
				s := (k*7 + g) % len(want)
				got, err := ring.Place(stripeID(s), 6)
				if err == nil && !slices.Equal(got, want[s]) {
					err = fmt.Errorf("stripe %d: %v, want %v", s, got, want[s])
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
