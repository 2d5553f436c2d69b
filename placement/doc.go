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
//     (weight > 0), the n shards go to n different nodes.
//   - No zone holds more than ceil(n/Z) shards of a stripe (Z = zones with
//     an eligible node) when the zones can hold n shards under that cap:
//     always with fewer than n eligible nodes (nodes then double up, see
//     below), and with at least n when the zones have enough nodes to hold
//     n at one shard per node. When they have not, the remaining shards go
//     to the best-scored nodes of the full zones, and MaxPerZone says how
//     many one zone can then hold.
//   - With fewer than n eligible nodes, the cap wins over spreading shards
//     over nodes, and a node takes several shards of a stripe only as the
//     cap needs: every zone puts a shard on min(its nodes, cap) of its
//     nodes, spreads its shards over its nodes as evenly as it can (each
//     takes floor or ceil of the zone's shards over its nodes), and no
//     node takes more than the fewest shards per node that let the zones
//     hold n under the cap. So 4+2 on three zones of 2, 2 and 1 nodes puts
//     2 shards in each zone, both of zone 3's on its one node; with one
//     zone, every node takes floor(n/N) or ceil(n/N) of the n shards. A
//     node's shards are within its zone's, so MaxPerZone <= m (ZoneSafe)
//     also means that losing any one node loses at most m shards. The price
//     is paid where the cap is above m anyway: 4+2 on two zones of 2 and 1
//     nodes puts 3 shards on the lone node, where spreading over nodes put
//     2 on each.
//   - Each shard's node is chosen by a race that is exactly weight-
//     proportional. A node's share of whole stripes deviates slightly for
//     n > 1, because a stripe needs n distinct nodes (see EffectiveWeights).
//   - Adding or removing a node moves little more than the shards that
//     node gains or held (measured in the tests, 4+2: +2% to +4% for 20
//     nodes in one zone; +3% to +12% when the cap fixes every zone's count,
//     as with three zones; about +30% when four zones compete under a cap
//     of 2). Losing nodes but no zone in three zones that hold their cap
//     moves shards only within the zones that lost nodes, even below n
//     nodes: for 4+2 on two nodes per zone only the lost nodes' shards;
//     for 8+4 on four per zone +40% to +60%, as the zone's remaining nodes
//     pass shards among themselves.
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
// be met. Because each slot has its own race, a node that joins takes over
// the slots it wins and the other slots keep their nodes; had the nodes
// been ranked once and shard i given to the i-th, every shard below a new
// node's rank would shift to another node (three times the movement for
// 4+2).
//
// The zones race first instead when the cap fixes how many shards each
// zone holds (at least n nodes and the zones can hold exactly n under the
// cap at one shard per node, as with three zones for 4+2 or four zones for
// 8+4), and whenever there are fewer nodes than slots. The zones race for
// the slots with equal weights: a zone takes a free slot while it has
// fewer than min(its nodes, cap), and beyond that, with fewer than n nodes,
// while it has fewer than min(cap, u * its nodes) and the zones have not
// yet taken all n - sum(min(nodes, cap)) slots that need a node to double
// up; u is the fewest shards per node that let the zones hold n under the
// cap. Then each zone's nodes race for its slots, in rounds in which every
// node takes at most one more. A node joining or leaving then moves shards
// only within its zone (the zone race does not change while the zones'
// bounds do not: a 4+2 cluster of three zones of two nodes that loses a
// node, or two in different zones, moves only the lost nodes' shards); in
// a flat race it would also pull slots from zone to zone under the cap.
// The price is paid when a layout change turns this mode on or off (a zone
// lost, a zone falling below the cap while there are still at least n
// nodes, Z growing past n/cap): then most shards move.
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
//
// Version 1 changed once without one: for member sets with fewer eligible
// nodes than shards, where every node used to take floor(n/N) or
// ceil(n/N) shards whatever its zone, the zone cap now wins (small.txt
// and fewnodes.txt changed; no member set with at least n nodes did).
// A stripe that records its nodes is found where they are; one that
// records none and was placed under a layout version with fewer eligible
// nodes than its shards, in two or more zones, is now looked for on the
// wrong nodes.
package placement
