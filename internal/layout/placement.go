package layout

import (
	"fmt"

	"cairn/internal/meta"
	"cairn/placement"
)

// This file is the one answer to "where does this chunk live": the gateway
// places and finds shards with Ring, the admin API reports placement with
// it, and healing decides where a stripe's shards belong with it. Every
// caller that turns a layout into placement goes through here, so that
// their answers agree.

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
// Shard i of a stripe placed under l lives on Ring(l).Place(chunk CID,
// k+m)[i] (docs/format.md, Placement). Build it once per layout version;
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
