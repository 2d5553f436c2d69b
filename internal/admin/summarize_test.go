package admin

import (
	"testing"

	"cairn/internal/admin/adminapi"
)

// TestSummarizeCountsAFileSystemOnce: nodes whose shards are on one file
// system (the dev cluster, several nodes on one disk) share its capacity
// and free space; zones and totals count them once, and add up what each
// node holds.
func TestSummarizeCountsAFileSystemOnce(t *testing.T) {
	const gib = 1 << 30
	disk := func(fs string, used int64) *adminapi.Usage {
		return &adminapi.Usage{Capacity: 252 * gib, Free: 100 * gib, Used: used, Shards: used / gib, FS: fs}
	}
	nodes := []adminapi.Node{
		{ID: "a1", Zone: "a", InLayout: true, Usage: disk("host1:803", 1*gib)},
		{ID: "a2", Zone: "a", InLayout: true, Usage: disk("host1:803", 2*gib)},
		{ID: "b1", Zone: "b", InLayout: true, Usage: disk("host1:803", 3*gib)},
		{ID: "b2", Zone: "b", InLayout: true, Usage: disk("host2:803", 4*gib)}, // another machine, same device number
		{ID: "c1", Zone: "c", InLayout: true, Usage: disk("", 5*gib)},          // says nothing of its file system
		{ID: "c2", Zone: "c", InLayout: true, Usage: disk("", 6*gib)},
	}
	zones, tot := summarize(nodes)
	if want := (adminapi.Totals{Capacity: 4 * 252 * gib, Free: 4 * 100 * gib, Used: 21 * gib, Shards: 21}); tot != want {
		t.Errorf("totals %+v, want %+v (host1's disk once, host2's, and the two that do not say)", tot, want)
	}
	want := map[string][2]int64{"a": {252 * gib, 3 * gib}, "b": {2 * 252 * gib, 7 * gib}, "c": {2 * 252 * gib, 11 * gib}}
	for _, z := range zones {
		if w := want[z.Name]; z.Capacity != w[0] || z.Used != w[1] {
			t.Errorf("zone %s: capacity %d used %d, want %d and %d", z.Name, z.Capacity, z.Used, w[0], w[1])
		}
	}
}
