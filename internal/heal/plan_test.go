package heal

import (
	"reflect"
	"testing"
)

func states(m map[string]NodeState) func(string) NodeState {
	return func(id string) NodeState { return m[id] }
}

func TestPlanStripe(t *testing.T) {
	up := map[string]NodeState{"a": NodeUp, "b": NodeUp, "c": NodeUp, "d": NodeUp, "e": NodeUp, "f": NodeUp, "g": NodeUp}
	with := func(changes map[string]NodeState) map[string]NodeState {
		out := map[string]NodeState{}
		for k, v := range up {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	six := []string{"a", "b", "c", "d", "e", "f"}
	for _, tc := range []struct {
		name      string
		cur, want []string
		spare     []string
		nodes     map[string]NodeState
		plan      Plan
	}{
		{name: "healthy", cur: six, want: six, nodes: up, plan: Plan{Available: 6}},
		{name: "healthy, shards in another order", cur: []string{"f", "e", "d", "c", "b", "a"}, want: six, nodes: up,
			plan: Plan{Available: 6}},
		{name: "a shard stored nowhere", cur: []string{"a", "b", "", "d", "e", "f"}, want: six, nodes: up,
			plan: Plan{Available: 5, Missing: 1, Rebuild: []Placed{{2, "c"}}}},
		{name: "a node removed: its shard rebuilt where the layout wants it now",
			cur: six, want: []string{"a", "b", "g", "d", "e", "f"}, nodes: with(map[string]NodeState{"c": NodeGone}),
			plan: Plan{Available: 5, Missing: 1, Rebuild: []Placed{{2, "g"}}}},
		{name: "a node down within its grace: nothing moves",
			cur: six, want: six, nodes: with(map[string]NodeState{"c": NodeDown}),
			plan: Plan{Available: 5, Missing: 1}},
		{name: "down nodes leave the stripe at K: rebuilt on spare nodes",
			cur: six, want: six, spare: []string{"a", "b", "g", "d", "h", "f"},
			nodes: with(map[string]NodeState{"c": NodeDown, "e": NodeDown, "h": NodeUp}),
			plan:  Plan{Available: 4, Missing: 2, Rebuild: []Placed{{2, "g"}, {4, "h"}}}},
		{name: "fewer than K available: nothing to rebuild from",
			cur: []string{"a", "", "", "", "e", "f"}, want: six, nodes: up,
			plan: Plan{Available: 3, Missing: 3, Waiting: 3}},
		{name: "a new node takes one shard: one move",
			cur: six, want: []string{"a", "b", "g", "d", "e", "f"}, nodes: up,
			plan: Plan{Available: 6, Move: []Move{{2, "c", "g"}}}},
		{name: "a draining node: its shard moves",
			cur: six, want: []string{"a", "b", "g", "d", "e", "f"}, nodes: with(map[string]NodeState{"c": NodeDraining}),
			plan: Plan{Available: 6, Move: []Move{{2, "c", "g"}}, Draining: 1}},
		{name: "written while c was down, c back: two moves",
			cur: []string{"a", "a", "a", "b", "b", "b"}, want: []string{"a", "a", "b", "b", "c", "c"}, nodes: up,
			plan: Plan{Available: 6, Move: []Move{{2, "a", "c"}, {5, "b", "c"}}}},
		{name: "written while c was down, c still down: nothing to do",
			cur: []string{"a", "a", "a", "b", "b", "b"}, want: []string{"a", "a", "b", "b", "c", "c"},
			nodes: with(map[string]NodeState{"c": NodeDown}),
			plan:  Plan{Available: 6}},
		{name: "a shard on a gone node and a move: rebuild first",
			cur: []string{"a", "b", "x", "d", "e", "f"}, want: []string{"a", "b", "g", "d", "e", "c"},
			nodes: with(map[string]NodeState{"x": NodeGone}),
			plan:  Plan{Available: 5, Missing: 1, Rebuild: []Placed{{2, "g"}}, Move: []Move{{5, "f", "c"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := planStripe(4, tc.cur, tc.want, tc.spare, states(tc.nodes))
			if !reflect.DeepEqual(got, tc.plan) {
				t.Errorf("plan\n got %+v\nwant %+v", got, tc.plan)
			}
		})
	}
}
