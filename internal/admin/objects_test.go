package admin_test

import (
	"slices"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/layout"
)

func TestObjectStat(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	const key = "a b/c d/ünï.txt"
	obj := c.PutObject("photos", key, 3)
	// A later layout with another node: the chunks stay where layout
	// version 1 put them.
	c.AddStorage("n7", "z1", 4)
	c.SetLayout("n1", "n2", "n3", "n4", "n5", "n6", "n7")
	l1, err := c.Store.LayoutVersion(bg, 1)
	must(t, err)

	// Where each shard should be: where the gateway looks for it.
	zone := map[string]string{}
	for _, n := range l1.Nodes {
		zone[n.ID] = n.Zone
	}
	ring, err := layout.Ring(l1)
	must(t, err)
	want := make([][]string, len(obj.Chunks))
	for i, ch := range obj.Chunks {
		want[i], err = ring.Place(ch.CID, 6)
		must(t, err)
	}
	// Chunk 0's shard 2 is lost; a node holding a shard of chunk 1 cannot
	// be reached.
	c.Nodes.Get(want[0][2]).Drop(mustCast(t, obj.Chunks[0].Stripe.Shards[2]))
	unreachable := want[1][4]
	if unreachable == want[0][2] {
		unreachable = want[1][5]
	}
	c.Nodes.Get(unreachable).SetUnreachable(true)

	got, err := cl.ObjectStat(bg, "photos", key)
	must(t, err)
	if got.Bucket != "photos" || got.Key != key || got.Size != obj.Size || got.ETag != obj.ETag || got.CID != obj.CID ||
		!got.Modified.Equal(obj.Modified) || got.ContentType != obj.ContentType || len(got.Chunks) != 3 {
		t.Fatalf("stat %+v\nobject %+v", got, obj)
	}
	if len(got.Layouts) != 1 || got.Layouts[0].Version != 1 || len(got.Layouts[0].Nodes) != 6 {
		t.Fatalf("layouts %+v", got.Layouts)
	}
	var off int64
	for i, ch := range got.Chunks {
		mc := obj.Chunks[i]
		if ch.Index != i || ch.Offset != off || ch.CID != mustCast(t, mc.CID).String() || ch.Size != mc.Size || ch.K != 4 || ch.M != 2 ||
			ch.LayoutVersion != 1 || ch.ShardSize != mc.Stripe.ShardSize || ch.Error != "" || len(ch.Shards) != 6 {
			t.Fatalf("chunk %d: %+v", i, ch)
		}
		off += mc.Size
		for j, sh := range ch.Shards {
			role := adminapi.RoleData
			if j >= 4 {
				role = adminapi.RoleParity
			}
			if sh.Index != j || sh.Role != role || sh.CID != mustCast(t, mc.Stripe.Shards[j]).String() ||
				sh.Node != want[i][j] || sh.Zone != zone[want[i][j]] {
				t.Fatalf("chunk %d shard %d: %+v, want node %s", i, j, sh, want[i][j])
			}
			switch {
			case sh.Node == unreachable:
				if sh.Present != nil || sh.Error == "" {
					t.Fatalf("chunk %d shard %d on an unreachable node: %+v", i, j, sh)
				}
			case i == 0 && j == 2:
				if sh.Present == nil || *sh.Present || sh.Error != "" {
					t.Fatalf("lost shard: %+v", sh)
				}
			default:
				if sh.Present == nil || !*sh.Present || sh.Error != "" {
					t.Fatalf("chunk %d shard %d: %+v, want present", i, j, sh)
				}
			}
		}
	}
}

// TestObjectStatRecordedNodes: a stripe that records its nodes is shown
// where it records them, not where its layout version's placement puts
// it, and a shard recorded on no node is missing, with no node asked.
func TestObjectStatRecordedNodes(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	obj := c.PutObject("photos", "moved", 1)
	ch := obj.Chunks[0]
	l1, err := c.Store.LayoutVersion(bg, 1)
	must(t, err)
	ring, err := layout.Ring(l1)
	must(t, err)
	placed, err := ring.Place(ch.CID, 6)
	must(t, err)
	// Shard 0 moved to the node of shard 1; shard 1 is stored nowhere.
	s0 := mustCast(t, ch.Stripe.Shards[0])
	c.Nodes.Get(placed[0]).Drop(s0)
	c.Nodes.Get(placed[1]).Put(s0)
	nodes := slices.Clone(placed)
	nodes[0], nodes[1] = placed[1], ""
	must(t, c.Store.SetStripeNodes(bg, ch.CID, nil, nodes, 1))

	got, err := c.Client().ObjectStat(bg, "photos", "moved")
	must(t, err)
	zone := map[string]string{}
	for _, n := range l1.Nodes {
		zone[n.ID] = n.Zone
	}
	for j, sh := range got.Chunks[0].Shards {
		switch {
		case j == 1:
			if sh.Node != "" || sh.Zone != "" || sh.Present == nil || *sh.Present || sh.Error != "" {
				t.Fatalf("shard recorded on no node: %+v", sh)
			}
		case sh.Node != nodes[j] || sh.Zone != zone[nodes[j]] || sh.Present == nil || !*sh.Present:
			t.Fatalf("shard %d: %+v, want present on %s", j, sh, nodes[j])
		}
	}
}

func mustCast(t testing.TB, b []byte) cid.Cid {
	t.Helper()
	id, err := cid.Cast(b)
	must(t, err)
	return id
}

// Any key can be named: slashes, dots, spaces, percent signs, unicode.
func TestObjectStatKeys(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	for _, key := range []string{
		"plain", "a/b/c", "a//b", "/leading", "trailing/", ".", "..", "../x", "a/./b", "a/../b",
		"with space", "100%", "%2F", "q?x=1#frag", "ünïcødé/日本", "+plus&amp;", "back\\slash",
	} {
		t.Run(key, func(t *testing.T) {
			c.PutObject("keys", key, 1)
			got, err := cl.ObjectStat(bg, "keys", key)
			must(t, err)
			if got.Key != key || got.Bucket != "keys" {
				t.Fatalf("stat of %q: bucket %q key %q", key, got.Bucket, got.Key)
			}
		})
	}
}

func TestObjectStatErrors(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	_, err := cl.ObjectStat(bg, "nothing", "k")
	wantCode(t, err, 404, adminapi.CodeNoSuchBucket)
	c.PutObject("photos", "cat", 1)
	_, err = cl.ObjectStat(bg, "photos", "dog")
	wantCode(t, err, 404, adminapi.CodeNoSuchKey)

	// A chunk placed under a layout version the store does not have: the
	// chunk says so, the rest of the object is shown.
	obj := c.PutObject("photos", "odd", 2)
	// A chunk the store has no record of yet, so that its stripe is the
	// manifest's.
	obj.Chunks[1].CID = erasure.ChunkCID([]byte("a chunk stored nowhere else")).Bytes()
	obj.Chunks[1].Stripe.Layout = 99
	must(t, c.Store.PutObject(bg, obj))
	got, err := cl.ObjectStat(bg, "photos", "odd")
	must(t, err)
	if got.Chunks[0].Error != "" || got.Chunks[1].Error == "" || got.Chunks[1].Shards[0].Node != "" || got.Chunks[1].Shards[0].Present != nil {
		t.Fatalf("chunks %+v", got.Chunks)
	}
	if got.Chunks[1].Shards[0].CID != mustCast(t, obj.Chunks[1].Stripe.Shards[0]).String() {
		t.Fatalf("shard CIDs of an unplaced chunk: %+v", got.Chunks[1].Shards)
	}
}
