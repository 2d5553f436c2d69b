package heal

// NodeState is how healing sees a storage node that holds or may take
// shards.
type NodeState uint8

const (
	// NodeGone: not in the current layout (removed, its grace expired, or
	// never there). Its shards count as lost.
	NodeGone NodeState = iota
	// NodeUp: in the layout and alive: serves shards and takes new ones.
	NodeUp
	// NodeDown: in the layout but not alive, within its grace period. Its
	// shards are unavailable, not lost: they are rebuilt elsewhere only
	// when the stripe has no redundancy left without them, so that a
	// reboot causes no repair storm. It takes no shards meanwhile.
	NodeDown
	// NodeDraining: alive and in the layout, but leaving it: serves its
	// shards while they move elsewhere, takes none.
	NodeDraining
)

// Plan is what a stripe needs: computed from where its shards are and
// where the current layout wants them, without I/O (planStripe).
type Plan struct {
	// Available counts the shards on nodes that serve them now (up or
	// draining).
	Available int
	// Missing is the stripe's width less Available: 0 is healthy; more
	// than the parity count is unreadable.
	Missing int
	// Rebuild lists the shards to rebuild from any K available ones, each
	// with the node to write it to.
	Rebuild []Placed
	// Move lists available shards to copy to another node (rebalance,
	// drain): copy, record, then delete the old copy.
	Move []Move
	// Waiting counts the shards that need work that cannot be done now
	// (their place is on a node that is down, or too few shards are
	// available to rebuild them).
	Waiting int
	// Draining counts the shards on draining nodes.
	Draining int
}

// Placed is a shard index and the node it goes to.
type Placed struct {
	Shard int
	Node  string
}

// Move is a shard to copy From one node To another.
type Move struct {
	Shard    int
	From, To string
}

// Busy reports whether the plan has work to do now.
func (p *Plan) Busy() bool { return len(p.Rebuild) > 0 || len(p.Move) > 0 }

// planStripe plans one stripe of k data shards. cur names the node of
// each shard ("" for a shard stored nowhere). want is where the current
// layout puts the stripe's shards (its placement ring's answer, as a
// multiset: which shard goes where does not matter, as stripes record
// their nodes); spare is where a ring of only the nodes that take shards
// now puts them, for shards whose wanted node is down. state tells each
// node's state (a node it does not know is NodeGone).
//
// A shard stays where it is if its node is wanted (each wanted slot keeps
// one shard), so a layout change moves only the shards whose node left
// the wanted set: the least that the new placement allows. A shard that is
// stored nowhere or on a gone node is rebuilt on a wanted node that takes
// shards; an available shard on an unwanted node (a new node took its
// place, or its node drains) moves to one. Shards on down nodes are left
// alone, unless the stripe's available shards are K or fewer: then they
// are rebuilt on live nodes too (wanted ones first, else spare ones).
func planStripe(k int, cur, want, spare []string, state func(string) NodeState) Plan {
	n := len(cur)
	var p Plan
	st := make([]NodeState, n)
	for i, node := range cur {
		if node != "" {
			st[i] = state(node)
		}
		if st[i] == NodeUp || st[i] == NodeDraining {
			p.Available++
		}
		if st[i] == NodeDraining {
			p.Draining++
		}
	}
	p.Missing = n - p.Available
	urgent := p.Available <= k && p.Missing > 0

	// Wanted slots still free, as a multiset.
	free := map[string]int{}
	for _, w := range want {
		free[w]++
	}
	keep := make([]bool, n)
	for i, node := range cur {
		if (st[i] == NodeUp || st[i] == NodeDown) && free[node] > 0 {
			free[node]--
			keep[i] = true
		}
	}
	// Shards on down nodes that are kept wait for their node, unless the
	// stripe is urgent.
	var lost, misplaced []int
	for i := range cur {
		switch {
		case keep[i] && st[i] == NodeDown && urgent:
			lost = append(lost, i)
			free[cur[i]]++ // its slot is on a down node: not a target now
		case keep[i]:
		case st[i] == NodeUp || st[i] == NodeDraining:
			misplaced = append(misplaced, i)
		case st[i] == NodeDown && !urgent:
			p.Waiting++ // on a down node, and not where it belongs: see when it is back
		default:
			lost = append(lost, i)
		}
	}
	// Targets: free wanted slots on nodes that take shards now, in want's
	// order (so that equal inputs give equal plans).
	var targets []string
	for _, w := range want {
		if free[w] > 0 && state(w) == NodeUp {
			free[w]--
			targets = append(targets, w)
		}
	}
	if len(lost) > 0 && p.Available < k {
		p.Waiting += len(lost) // nothing to rebuild from
		lost = nil
	}
	for _, i := range lost {
		if len(targets) == 0 {
			break
		}
		p.Rebuild = append(p.Rebuild, Placed{Shard: i, Node: targets[0]})
		targets = targets[1:]
	}
	if rest := len(lost) - len(p.Rebuild); rest > 0 {
		// Wanted nodes are down: rebuild on the spare ring's nodes that
		// hold no shard of the stripe yet, rather than leave the stripe
		// short.
		holding := map[string]int{}
		for i, node := range cur {
			if st[i] == NodeUp || st[i] == NodeDraining {
				holding[node]++
			}
		}
		for _, r := range p.Rebuild {
			holding[r.Node]++
		}
		for _, s := range spare {
			if rest == 0 {
				break
			}
			if holding[s] > 0 {
				holding[s]--
				continue
			}
			if state(s) != NodeUp {
				continue
			}
			p.Rebuild = append(p.Rebuild, Placed{Shard: lost[len(p.Rebuild)], Node: s})
			rest--
		}
		p.Waiting += rest
	}
	for _, i := range misplaced {
		if len(targets) == 0 {
			if st[i] == NodeDraining {
				p.Waiting++ // nowhere to go yet
			}
			continue
		}
		p.Move = append(p.Move, Move{Shard: i, From: cur[i], To: targets[0]})
		targets = targets[1:]
	}
	return p
}
