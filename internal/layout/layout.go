// Package layout decides which storage nodes take part in placement, from
// what membership observes. It is pure: the metadata leader feeds it the
// current layout, its observations and the time, and stores what it
// returns as the next layout version. Gossip views differ from node to node
// for a moment; the layout does not, because only the leader changes it and
// every change goes through Raft.
//
// It is also the one place that turns a layout into placement: Nodes says
// which of a layout's nodes may get shards, Ring is the placement ring
// that every gateway, the admin API and healing use to answer "where does
// this chunk live" under a layout version, LiveRing is that ring without
// the nodes known to be down (where new stripes go meanwhile), and
// StripeNodes says where a stripe's shards are: the nodes it records, or
// its layout version's placement.
//
// Change is its one function with I/O: the compare-and-set, retried when
// another writer came first, by which operators (approve, remove, drain)
// and the metadata leader's auditor (ejections) store the next layout.
package layout

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"cairn/internal/meta"
)

// Observation is what membership says of one storage node.
type Observation struct {
	ID     string
	Zone   string
	Weight float64
	Addr   string // node API address
	Alive  bool
	// DownSince is when the node was first seen failed or gone; zero while
	// it is alive.
	DownSince time.Time
}

// Policy is how the cluster admits and drops nodes.
type Policy struct {
	// AutoAdmit adds every alive storage node that membership reports;
	// without it a node joins the layout only through Approve.
	AutoAdmit bool
	// Grace is how long a failed node stays in the layout, so that a reboot
	// does not start a repair storm. Reads route around it at once anyway.
	Grace time.Duration
}

// DefaultGrace is the default time a failed node keeps its place.
const DefaultGrace = 10 * time.Minute

// Errors of Approve, Remove and Drain.
var (
	ErrUnknownNode = errors.New("layout: no such storage node")
	ErrAlreadyIn   = errors.New("layout: node is already in the layout")
	ErrRemoved     = errors.New("layout: node is removed")
)

// Initial is the layout of a new cluster before any node takes part:
// version 0 (never stored), no nodes, the placement key chosen for good.
func Initial(placementKey []byte) *meta.Layout {
	return &meta.Layout{V: meta.FormatVersion, PlacementKey: slices.Clone(placementKey)}
}

// Next returns the layout that should follow cur (Initial for a new
// cluster) given what membership observes, and whether it differs from cur. It
// admits alive nodes (with AutoAdmit), follows a member's new address,
// zone or weight, and drops a node only on evidence: observed down for
// longer than Grace. A node membership does not mention at all is kept, so
// that a new leader whose gossip view is still filling in removes nothing.
// Removed nodes are never admitted again by Next.
func Next(cur *meta.Layout, obs []Observation, p Policy, now time.Time) (*meta.Layout, bool) {
	next := clone(cur)
	byID := make(map[string]int, len(next.Nodes))
	for i, n := range next.Nodes {
		byID[n.ID] = i
	}
	var drop []string
	for _, o := range obs {
		i, in := byID[o.ID]
		switch {
		case !in && o.Alive && p.AutoAdmit:
			next.Nodes = append(next.Nodes, node(o))
			byID[o.ID] = len(next.Nodes) - 1
		case in && next.Nodes[i].Removed:
		case in && o.Alive:
			n := &next.Nodes[i]
			n.Addr, n.Zone, n.Weight = o.Addr, o.Zone, o.Weight
		case in && !o.DownSince.IsZero() && now.Sub(o.DownSince) > p.Grace:
			drop = append(drop, o.ID)
		}
	}
	next.Nodes = slices.DeleteFunc(next.Nodes, func(n meta.LayoutNode) bool { return slices.Contains(drop, n.ID) })
	return finish(cur, next)
}

// Approve returns cur with the observed node admitted (approval mode).
func Approve(cur *meta.Layout, o Observation) (*meta.Layout, error) {
	next := clone(cur)
	for i, n := range next.Nodes {
		if n.ID != o.ID {
			continue
		}
		if !n.Removed {
			return nil, fmt.Errorf("%w: %s", ErrAlreadyIn, o.ID)
		}
		next.Nodes[i] = node(o) // approving a removed node takes it back
		l, _ := finish(cur, next)
		return l, nil
	}
	next.Nodes = append(next.Nodes, node(o))
	l, _ := finish(cur, next)
	return l, nil
}

// Remove returns cur with the node marked removed: it gets no new shards
// and is not admitted again unless approved. Stripes placed under earlier
// layout versions still name it, so reads look there first (and route
// around it when it is gone).
func Remove(cur *meta.Layout, id string) (*meta.Layout, error) {
	next := clone(cur)
	for i, n := range next.Nodes {
		if n.ID == id && !n.Removed {
			next.Nodes[i].Removed = true
			next.Nodes[i].Weight = 0
			l, _ := finish(cur, next)
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownNode, id)
}

// Drain returns cur with the node marked draining: it gets no new shards,
// keeps serving those it holds, and healing moves them to the nodes that
// take shards. On a node already draining it returns cur itself (same
// version: nothing to store). It refuses a node the layout does not list
// (ErrUnknownNode) or lists as removed (ErrRemoved: its shards are rebuilt
// elsewhere already, there is nothing to move).
func Drain(cur *meta.Layout, id string) (*meta.Layout, error) {
	for i, n := range cur.Nodes {
		switch {
		case n.ID != id:
			continue
		case n.Removed:
			return nil, fmt.Errorf("%w: %s", ErrRemoved, id)
		case n.Draining:
			return cur, nil
		}
		next := clone(cur)
		next.Nodes[i].Draining = true
		l, _ := finish(cur, next)
		return l, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownNode, id)
}

func node(o Observation) meta.LayoutNode {
	return meta.LayoutNode{ID: o.ID, Zone: o.Zone, Weight: o.Weight, Addr: o.Addr}
}

func clone(cur *meta.Layout) *meta.Layout {
	next := *cur
	next.Nodes = slices.Clone(cur.Nodes)
	next.PlacementKey = slices.Clone(cur.PlacementKey)
	next.Redeemed = slices.Clone(cur.Redeemed)
	return &next
}

// finish sorts next, and bumps its version if it differs from cur.
func finish(cur, next *meta.Layout) (*meta.Layout, bool) {
	slices.SortFunc(next.Nodes, func(a, b meta.LayoutNode) int { return cmp.Compare(a.ID, b.ID) })
	if slices.Equal(cur.Nodes, next.Nodes) && slices.Equal(cur.Redeemed, next.Redeemed) {
		return cur, false
	}
	next.Version = cur.Version + 1
	return next, true
}

// ErrRedeemed means a join invite was used already.
var ErrRedeemed = errors.New("layout: the invite was used already")

// Redeem returns cur with the join invite id recorded as used by node, and
// the invites expired by now forgotten (their tokens are refused on their
// expiry anyway). It refuses an invite used before (ErrRedeemed) and a node
// ID the layout lists, removed or not (ErrAlreadyIn): an enrolled node
// gets a certificate, and one ID never gets a second.
func Redeem(cur *meta.Layout, id, node string, expires, now time.Time) (*meta.Layout, error) {
	for _, r := range cur.Redeemed {
		if r.ID == id {
			return nil, fmt.Errorf("%w: %s", ErrRedeemed, id)
		}
		if r.Node == node {
			return nil, fmt.Errorf("%w: %s enrolled already", ErrAlreadyIn, node)
		}
	}
	for _, n := range cur.Nodes {
		if n.ID == node {
			return nil, fmt.Errorf("%w: %s", ErrAlreadyIn, node)
		}
	}
	next := clone(cur)
	next.Redeemed = slices.DeleteFunc(next.Redeemed, func(r meta.Redeemed) bool { return now.After(r.Expires) })
	next.Redeemed = append(next.Redeemed, meta.Redeemed{ID: id, Node: node, Expires: expires.UTC()})
	l, _ := finish(cur, next)
	return l, nil
}
