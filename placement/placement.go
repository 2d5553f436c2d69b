package placement

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// MaxShards is the largest stripe width Place accepts (the limit of
// Reed-Solomon over GF(2^8)).
const MaxShards = 256

// Errors returned by Place and NewRing; match them with errors.Is.
var (
	ErrNoNodes     = errors.New("placement: no eligible nodes")
	ErrShardCount  = errors.New("placement: shard count out of range")
	ErrInvalidNode = errors.New("placement: invalid node")
)

// Node is a member of the layout: a storage node with a stable ID, a zone
// (its failure domain) and a weight (its capacity, in any unit shared by
// all nodes). A node with weight <= 0 is a member that receives nothing.
type Node struct {
	ID     string
	Zone   string
	Weight float64
}

// Place returns the IDs of the n nodes that hold the n shards of the stripe
// with this ID: shard i goes to result[i]. key is the cluster secret.
//
// Place is a pure function of its arguments: equal inputs give equal
// outputs on every machine, and the order of nodes does not matter. It
// builds a Ring on every call; callers that place many stripes under one
// layout should build the Ring once (NewRing) and call Ring.Place.
//
// Nodes are chosen by weighted rendezvous hashing, one race per shard, with
// zones as failure domains; see the package documentation for the
// algorithm and its guarantees. In short: every shard goes to a different
// node while there are at least n eligible nodes; no zone receives more
// than ceil(n/Z) shards (Z = number of zones with an eligible node) unless
// there are at least n nodes and too few of them in some zones, in which
// case the extra shards go to the best-ranked nodes of the full zones
// (MaxPerZone tells how many a zone can then get); with fewer than n
// eligible nodes, nodes take several shards each, as many as keeping
// every zone within ceil(n/Z) needs and as evenly as that allows. Nodes
// with weight <= 0 are never chosen.
//
// Errors: ErrNoNodes, ErrShardCount (n < 1 or n > MaxShards),
// ErrInvalidNode (empty or duplicate ID, weight NaN or infinite).
func Place(key []byte, nodes []Node, stripeID []byte, n int) ([]string, error) {
	r, err := NewRing(key, nodes)
	if err != nil {
		return nil, err
	}
	return r.Place(stripeID, n)
}

// Rank returns the IDs of all eligible nodes in descending order of their
// rendezvous score for the stripe, weight / -ln(h) with h the keyed hash of
// (node ID, stripe ID) in (0, 1). Rank(...)[0] is Place(..., 1)[0]. For
// n > 1, Place's nodes are not in general a prefix of Rank (each shard has
// its own race), but high-ranked nodes are the likely holders, so Rank is
// the order in which to look for a shard that is not where Place says (for
// example after a layout change), and it elects a stripe's first live node.
// Rank returns nil when the member set is invalid or has no eligible node.
func Rank(key []byte, nodes []Node, stripeID []byte) []string {
	r, err := NewRing(key, nodes)
	if err != nil {
		return nil
	}
	return r.Rank(stripeID)
}

// MaxPerZone returns the largest number of the n shards of a stripe that
// one zone can receive from Place under this member set, over all stripes:
// the cap ceil(n/Z) (Z = zones with an eligible node) when there are fewer
// than n eligible nodes (nodes then double up to keep it) or the zones
// have enough nodes to meet it at one shard per node, more otherwise. So
// it can rise when a node joins: for 4+2, zones of 2, 2 and 1 nodes give
// 2, zones of 3, 2 and 1 give 3. A cluster survives the loss of any one
// zone, for every stripe, if MaxPerZone(nodes, k+m) <= m (see ZoneSafe).
// It returns 0 for n < 1 and, to stay on the safe side, n for an invalid
// member set or one without eligible nodes.
func MaxPerZone(nodes []Node, n int) int {
	if n < 1 {
		return 0
	}
	r, err := NewRing(nil, nodes)
	if err != nil {
		return n
	}
	return r.MaxPerZone(n)
}

// ZoneSafe reports whether every stripe of k+m shards placed on these
// nodes keeps at least k shards when any one zone is lost:
// MaxPerZone(nodes, k+m) <= m. Then it also keeps k when any one node is
// lost, even where nodes hold several shards of a stripe (fewer nodes than
// k+m): a node's shards are within its zone's.
func ZoneSafe(nodes []Node, k, m int) bool {
	return k >= 1 && m >= 0 && MaxPerZone(nodes, k+m) <= m
}

// Ring is a member set prepared for placement: validated, ordered, and with
// each node's part of the keyed hash already absorbed, so that Ring.Place
// costs a few tens of nanoseconds per node. A Ring is immutable and safe
// for concurrent use; build one per layout version.
type Ring struct {
	k0, k1   uint64
	members  []member   // eligible nodes, sorted by ID
	zoneSize []int      // eligible nodes per zone; zone indices follow sorted zone names
	zoneMem  [][]int32  // eligible nodes per zone, as member indices
	zonePre  []sipState // each zone's part of the zone-level hash
	scratch  sync.Pool
}

type member struct {
	id     string
	zone   int
	weight float64
	prefix sipState
}

// NewRing validates nodes and prepares them for placement under the
// cluster secret key. Nodes with weight <= 0 are kept out. Errors:
// ErrNoNodes, ErrInvalidNode.
func NewRing(key []byte, nodes []Node) (*Ring, error) {
	r := &Ring{}
	r.k0, r.k1 = sipKey(key, nodeDomain)
	all := make([]int, len(nodes))
	for i := range all {
		all[i] = i
	}
	slices.SortFunc(all, func(a, b int) int { return cmp.Compare(nodes[a].ID, nodes[b].ID) })
	eligible := 0
	for j, i := range all {
		nd := &nodes[i]
		if nd.ID == "" {
			return nil, fmt.Errorf("%w: empty ID", ErrInvalidNode)
		}
		if j > 0 && nodes[all[j-1]].ID == nd.ID {
			return nil, fmt.Errorf("%w: duplicate ID %q", ErrInvalidNode, nd.ID)
		}
		if math.IsNaN(nd.Weight) || math.IsInf(nd.Weight, 0) {
			return nil, fmt.Errorf("%w: node %q has weight %v", ErrInvalidNode, nd.ID, nd.Weight)
		}
		if nd.Weight > 0 {
			eligible++
		}
	}
	if eligible == 0 {
		return nil, ErrNoNodes
	}
	zones := make([]string, 0, 8)
	for _, i := range all {
		if nodes[i].Weight > 0 {
			zones = append(zones, nodes[i].Zone)
		}
	}
	slices.Sort(zones)
	zones = slices.Compact(zones)
	r.zoneSize = make([]int, len(zones))
	r.zoneMem = make([][]int32, len(zones))
	r.zonePre = make([]sipState, len(zones))
	zk0, zk1 := sipKey(key, zoneDomain)
	for z, name := range zones {
		r.zonePre[z] = nodePrefix(zk0, zk1, name)
	}
	r.members = make([]member, 0, eligible)
	for _, i := range all {
		nd := &nodes[i]
		if nd.Weight <= 0 {
			continue
		}
		z, _ := slices.BinarySearch(zones, nd.Zone)
		r.zoneSize[z]++
		r.zoneMem[z] = append(r.zoneMem[z], int32(len(r.members)))
		r.members = append(r.members, member{
			id:     nd.ID,
			zone:   z,
			weight: nd.Weight,
			prefix: nodePrefix(r.k0, r.k1, nd.ID),
		})
	}
	return r, nil
}

// Len returns the number of eligible nodes.
func (r *Ring) Len() int { return len(r.members) }

// Zones returns the number of zones with an eligible node.
func (r *Ring) Zones() int { return len(r.zoneSize) }

// Place is the function Place for this member set and key.
func (r *Ring) Place(stripeID []byte, n int) ([]string, error) {
	if n < 1 || n > MaxShards {
		return nil, fmt.Errorf("%w: n = %d, want 1..%d", ErrShardCount, n, MaxShards)
	}
	s := r.getScratch(n)
	defer r.scratch.Put(s)
	r.place(s, stripeID, n)
	out := make([]string, n)
	for j, i := range s.out[:n] {
		out[j] = r.members[i].id
	}
	return out, nil
}

// Rank is the function Rank for this member set and key.
func (r *Ring) Rank(stripeID []byte) []string {
	var msg stripeMsg
	msg.init(stripeID)
	type ranked struct {
		score float64
		i     int
	}
	rs := make([]ranked, len(r.members))
	for i := range r.members {
		m := &r.members[i]
		h := unit(msg.hash(&m.prefix))
		rs[i] = ranked{m.weight / -ln(h), i}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	ids := make([]string, len(rs))
	for k, x := range rs {
		ids[k] = r.members[x.i].id
	}
	return ids
}

// MaxPerZone is the function MaxPerZone for this member set.
func (r *Ring) MaxPerZone(n int) int {
	if n < 1 {
		return 0
	}
	N, Z := len(r.members), len(r.zoneSize)
	zcap := (n + Z - 1) / Z
	if N < n {
		// Nodes double up so that every zone stays within the cap, which
		// they always can; some zone reaches it in every stripe.
		return zcap
	}
	taken := 0
	for _, c := range r.zoneSize {
		taken += min(c, zcap)
	}
	if taken >= n {
		return zcap
	}
	// The cap leaves n-taken shards for the nodes it skipped, and any one
	// zone's skipped nodes may be the best ranked.
	worst := 0
	for _, c := range r.zoneSize {
		worst = max(worst, min(c, zcap)+min(max(c-zcap, 0), n-taken))
	}
	return worst
}
