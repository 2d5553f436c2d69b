package erasure

import (
	"slices"
	"testing"
)

// TestForSubsets: every k-subset once, sorted, in lexicographic order,
// and the walk stops when told to.
func TestForSubsets(t *testing.T) {
	for _, tc := range []struct{ n, k, want int }{{6, 4, 15}, {5, 5, 1}, {4, 1, 4}, {3, 4, 0}, {3, 0, 0}, {14, 10, 1001}} {
		var prev []int
		seen := 0
		ForSubsets(tc.n, tc.k, func(set []int) bool {
			if len(set) != tc.k || !slices.IsSorted(set) || set[0] < 0 || set[tc.k-1] >= tc.n {
				t.Fatalf("C(%d,%d): bad set %v", tc.n, tc.k, set)
			}
			if prev != nil && slices.Compare(prev, set) >= 0 {
				t.Fatalf("C(%d,%d): %v after %v", tc.n, tc.k, set, prev)
			}
			prev = slices.Clone(set)
			seen++
			return true
		})
		if seen != tc.want {
			t.Errorf("C(%d,%d): %d sets, want %d", tc.n, tc.k, seen, tc.want)
		}
	}
	calls := 0
	ForSubsets(6, 4, func([]int) bool { calls++; return calls < 3 })
	if calls != 3 {
		t.Errorf("the walk went on after false: %d calls", calls)
	}
}
