package layout

import (
	"fmt"
	"slices"

	"cairn/internal/meta"
	"cairn/placement"
)

// This file is the one answer to "where does this chunk live": the gateway
// places shards with Ring (LiveRing while nodes are down) and finds them
// with StripeNodes, the admin API reports placement with StripeNodes, and
// healing decides where a stripe's shards belong with Ring. Every caller
// that turns a layout into placement goes through here, so that their
// answers agree.

// Nodes returns the nodes of l that placement may give shards to, as
// placement sees them (ID, zone, weight), in l's order: every node of l
// that is neither Removed nor Draining and whose weight is not 0 or less. (A weight that is
// NaN or infinite, which no layout made by this package has, is kept for
// Ring to refuse rather than silently dropped.) A node that is down but
// still in l (within its grace period) is eligible: placement does not
// know liveness, and readers route around the node instead. A draining
// node is not eligible: its shards move off it. The Addr of a node
// plays no part. Nodes returns nil when no node of l is eligible.
//
// Remove sets a removed node's weight to 0, so a removed node would get
// no shards from placement anyway; Nodes leaves it out explicitly, so that
// the contract does not rest on that.
func Nodes(l *meta.Layout) []placement.Node {
	var out []placement.Node
	for _, n := range l.Nodes {
		if n.Removed || n.Draining || n.Weight <= 0 {
			continue
		}
		out = append(out, placement.Node{ID: n.ID, Zone: n.Zone, Weight: n.Weight})
	}
	return out
}

// Ring returns the placement ring of l: Nodes(l) under l's placement key.
// Ring(l).Place(StripeID(stripe, chunk CID), k+m) is where l wants a
// stripe's shards; a
// stripe that records no nodes has shard i on its [i] under the layout it
// was placed under (StripeNodes; docs/format.md, Placement). Build it once
// per layout version;
// the ring is immutable and safe for concurrent use.
//
// Errors, naming l's version and wrapping placement's:
// placement.ErrNoNodes when no node of l is eligible,
// placement.ErrInvalidNode for an eligible node with an empty or
// duplicate ID or a weight that is NaN or infinite.
func Ring(l *meta.Layout) (*placement.Ring, error) {
	r, err := placement.NewRing(l.PlacementKey, Nodes(l))
	if err != nil {
		return nil, fmt.Errorf("layout version %d: %w", l.Version, err)
	}
	return r, nil
}

// Zones returns the number of zones of Nodes(l): the Z of placement's
// per-zone cap ceil((k+m)/Z).
func Zones(l *meta.Layout) int {
	zones := map[string]bool{}
	for _, n := range Nodes(l) {
		zones[n.Zone] = true
	}
	return len(zones)
}

// LiveRing returns the ring that new stripes are placed on while the
// nodes of l for which down returns true are known to be down: the ring of
// Nodes(l) without them, under l's placement key. With fewer nodes up than
// a stripe has shards, nodes take several shards each (placement.Place),
// so a write goes on as long as one eligible node is up; what such a
// stripe lacks in spread, repair and rebalance restore once the nodes are
// back or gone. A stripe placed on a LiveRing is not where Ring(l) puts
// it, so it must record its nodes (meta.Stripe.Nodes).
//
// Errors are Ring's: placement.ErrNoNodes when every eligible node is
// down, in which case the caller places on Ring(l) as if none were.
func LiveRing(l *meta.Layout, down func(id string) bool) (*placement.Ring, error) {
	var live []placement.Node
	for _, n := range Nodes(l) {
		if !down(n.ID) {
			live = append(live, n)
		}
	}
	r, err := placement.NewRing(l.PlacementKey, live)
	if err != nil {
		return nil, fmt.Errorf("layout version %d without its down nodes: %w", l.Version, err)
	}
	return r, nil
}

// StripeID is what a stripe is placed by, the key of Ring(l).Place: the
// keyed name of a sealed stripe (meta.Stripe.Name), so that placement
// says nothing of the chunk either, else the chunk's CID.
func StripeID(st *meta.Stripe, chunkCID []byte) []byte {
	if st.Name != nil {
		return st.Name
	}
	return chunkCID
}

// StripeNodes returns the storage node of each shard of a chunk's stripe,
// in shard order: the nodes the stripe records (meta.Stripe.Nodes, where
// "" is a shard stored nowhere, which a reader counts as missing without
// asking any node) or, for a stripe that records none (written before
// stripes recorded their nodes), where placement puts its shards under
// its layout version, ring(st.Layout).Place(StripeID(st, chunkCID), K+M). ring returns
// the Ring of a layout version, which callers build once per version; it
// is not called for a stripe that records its nodes.
//
// It is the one answer to "where are this stripe's shards": the gateway
// reads with it and the admin API reports it. The result is the caller's
// to keep.
func StripeNodes(st *meta.Stripe, chunkCID []byte, ring func(version uint64) (*placement.Ring, error)) ([]string, error) {
	n := st.K + st.M
	if st.Nodes != nil {
		if len(st.Nodes) != n {
			return nil, fmt.Errorf("the stripe records %d nodes for %d+%d shards", len(st.Nodes), st.K, st.M)
		}
		return slices.Clone(st.Nodes), nil
	}
	r, err := ring(st.Layout)
	if err != nil {
		return nil, err
	}
	nodes, err := r.Place(StripeID(st, chunkCID), n)
	if err != nil {
		return nil, fmt.Errorf("layout version %d: %w", st.Layout, err)
	}
	return nodes, nil
}
