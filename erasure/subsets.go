package erasure

// ForSubsets calls f with each k-element subset of {0, …, n-1}, as sorted
// indices in lexicographic order, until f returns false: the sets of K
// shards a reader tries when a stripe does not decode to its chunk. f must
// not keep set, which the next call reuses.
func ForSubsets(n, k int, f func(set []int) bool) {
	if k > n || k <= 0 {
		return
	}
	set := make([]int, k)
	for i := range set {
		set[i] = i
	}
	for f(set) {
		i := k - 1
		for i >= 0 && set[i] == n-k+i {
			i--
		}
		if i < 0 {
			return
		}
		set[i]++
		for j := i + 1; j < k; j++ {
			set[j] = set[j-1] + 1
		}
	}
}
