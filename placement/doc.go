// Package placement decides which storage nodes hold the shards of a
// stripe: weighted rendezvous hashing with failure domains.
//
// It is a pure package. It imports nothing of the project and reads no
// clock, disk or network; its results are a function of the cluster
// secret, the member set (node ID, zone, weight) and the stripe ID alone,
// equal on every machine and independent of the order in which nodes are
// listed. Every gateway therefore computes the same placement with no
// lookup table, and a stripe placed under a layout version can be found
// again by placing it under that version.
//
// # Use
//
// Build a Ring per layout version and place each stripe with it:
//
//	ring, err := placement.NewRing(clusterSecret, layout.Nodes)
//	...
//	nodes, err := ring.Place(stripeID, k+m) // shard i goes to nodes[i]
//
// Place, Rank and MaxPerZone are the same functions without the Ring; they
// validate and prepare the member set on every call (several times the cost
// of Ring.Place, see the benchmarks), which is fine for tools and tests.
//
// A cluster survives the loss of any zone when MaxPerZone(nodes, k+m) <= m
// (ZoneSafe). Rank orders all nodes for a stripe: it says where to look
// for a shard that is not where Place says (after a layout change) and
// which live node is first for a stripe (the one that checks and repairs
// it).
//
// # Guarantees
//
//   - Every shard gets a node. While there are at least n eligible nodes
//     (weight > 0), the n shards go to n different nodes; with fewer, every
//     node takes floor(n/N) or ceil(n/N) of them.
//   - No zone holds more than ceil(n/Z) shards of a stripe (Z = zones with
//     an eligible node) when the zones have enough nodes for that; when
//     they do not, the remaining shards go to the best-scored nodes of the
//     full zones, and MaxPerZone says how many one zone can then hold.
//   - Each shard's node is chosen by a race that is exactly weight-
//     proportional. A node's share of whole stripes deviates slightly for
//     n > 1, because a stripe needs n distinct nodes (see EffectiveWeights).
//   - Adding or removing a node moves little more than the shards that
//     node gains or held (measured in the tests, 4+2: +2% to +4% for 20
//     nodes in one zone; +3% to +12% when the cap fixes every zone's count,
//     as with three zones; about +30% when four zones compete under a cap
//     of 2).
//
// # Algorithm
//
// For a stripe, every node gets a keyed 64-bit hash of (node ID, stripe
// ID): SipHash-2-4 under a key derived from the cluster secret with
// SHA-256, so nobody without the secret can choose node IDs to win chosen
// stripes. From it come a uniform variate v in (0, 1) and a random order
// of the n shard slots, the node's bands. In its band-b slot the node's
// variate is h = (n-1-b+v)/n and its score weight / -ln(h): each slot's
// variate is uniform, so each slot's race (highest score wins) is an
// exact weighted rendezvous race, while each node is strong in one slot,
// weaker in the next and so on (stratified). That keeps a node from
// winning several slots of one stripe, which is what would otherwise both
// skew shares and move shards between slots when membership changes.
//
// The races are resolved into distinct nodes greedily: (node, slot) pairs
// are taken in descending score, a pair when its slot is free, its node
// unused and its zone below the cap; nodes met when their zone is full are
// set aside, and fill the remaining slots in score order if the cap cannot
// be met; with fewer nodes than slots, every node takes one more slot per
// round. Because each slot has its own race, a node that joins takes over
// the slots it wins and the other slots keep their nodes; had the nodes
// been ranked once and shard i given to the i-th, every shard below a new
// node's rank would shift to another node (three times the movement for
// 4+2).
//
// When the cap fixes how many shards each zone holds (at least n nodes and
// the zones can hold exactly n under the cap, as with three zones for 4+2
// or four zones for 8+4), the zones first race for the slots with equal
// weights, each taking as many as it must hold, and then each zone's nodes
// race for its slots. A node joining or leaving then moves shards only
// within its zone; in a flat race it would also pull slots from zone to
// zone under the cap. The price is paid when a layout change turns this
// mode on or off (a zone lost, a zone falling below the cap, Z growing
// past n/cap): then most shards move.
//
// Scores are compared in float64. The logarithm is this package's own
// (ln), written so that no platform may fuse its multiply-adds, because
// math.Log differs by an ulp between amd64 and other architectures; all
// else is exact-rounded IEEE arithmetic. Ties go to the lower node ID.
//
// # Compatibility
//
// The placement function is part of the storage format: changing any
// output moves data in every cluster. The scenario files in testdata pin
// it; a change that alters them needs a new placement version.
package placement
