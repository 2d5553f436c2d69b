package admin_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/cluster"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
)

func TestStatus(t *testing.T) {
	c := sixNodes(t, admintest.Options{Timeout: 300 * time.Millisecond})
	gib := int64(admintest.GiB)
	// n1..n4 answer with their usage; n5 fails; n6 is down in gossip.
	for i, id := range []string{"n1", "n2", "n3", "n4"} {
		c.Nodes.Add(id, []string{"z1", "z1", "z2", "z2"}[i], 1, usage(int64(i+1)*100*gib, int64(i+1)*gib))
	}
	c.Nodes.Add("n5", "z3", 1, usage(gib, 0)).SetErr(errors.New("disk on fire"))
	c.Members.SetStatus("n6", cluster.StatusFailed)
	// n7 is an alive storage node waiting for approval; g1 a gateway.
	c.AddStorage("n7", "z3", 2).SetUsage(usage(10*gib, 0))
	c.Members.Add(cluster.Member{ID: "g1", Roles: []cluster.Role{cluster.RoleGateway, cluster.RoleMeta},
		APIAddr: "g1:7070", S3Addr: "g1:9000", RaftAddr: "g1:7001", Status: cluster.StatusAlive})

	st, err := c.Client().Status(bg)
	must(t, err)
	if st.LayoutVersion != 1 || st.K != 4 || st.M != 2 || st.LayoutError != "" {
		t.Fatalf("layout %d, %d+%d, %q: want 1, 4+2", st.LayoutVersion, st.K, st.M, st.LayoutError)
	}
	var ids []string
	for _, n := range st.Nodes {
		ids = append(ids, n.ID)
	}
	if got := strings.Join(ids, " "); got != "g1 n1 n2 n3 n4 n5 n6 n7" {
		t.Fatalf("nodes %s", got)
	}
	n1 := nodeByID(t, st.Nodes, "n1")
	if n1.Down || !n1.InLayout || n1.Pending || n1.Gossip != "alive" || n1.Zone != "z1" || n1.APIAddr != "n1:7070" ||
		n1.Usage == nil || *n1.Usage != (adminapi.Usage{Capacity: 100 * gib, Used: gib, Free: 99 * gib}) {
		t.Fatalf("n1 %+v (usage %+v)", n1, n1.Usage)
	}
	if n5 := nodeByID(t, st.Nodes, "n5"); n5.Usage != nil || !strings.Contains(n5.Error, "disk on fire") || n5.Down {
		t.Fatalf("n5 (errors) %+v", n5)
	}
	if n6 := nodeByID(t, st.Nodes, "n6"); !n6.Down || n6.Gossip != "failed" || !n6.InLayout || n6.Usage != nil || n6.Error != "" {
		t.Fatalf("n6 (down) %+v", n6)
	}
	if n7 := nodeByID(t, st.Nodes, "n7"); !n7.Pending || n7.InLayout || n7.Weight != 2 || n7.Usage == nil {
		t.Fatalf("n7 (pending) %+v", n7)
	}
	if g1 := nodeByID(t, st.Nodes, "g1"); g1.Pending || g1.InLayout || g1.Usage != nil || g1.Error != "" || g1.S3Addr != "g1:9000" ||
		strings.Join(g1.Roles, ",") != "gateway,meta" {
		t.Fatalf("g1 (gateway) %+v", g1)
	}
	// Totals: n1..n4 and n7.
	want := adminapi.Totals{Capacity: 1010 * gib, Used: 10 * gib, Free: 1000 * gib}
	if st.Totals != want {
		t.Fatalf("totals %+v, want %+v", st.Totals, want)
	}
	wantZones := []adminapi.Zone{
		{Name: "z1", Nodes: 2, Alive: 2, Weight: 2, Capacity: 300 * gib, Used: 3 * gib, Free: 297 * gib},
		{Name: "z2", Nodes: 2, Alive: 2, Weight: 2, Capacity: 700 * gib, Used: 7 * gib, Free: 693 * gib},
		{Name: "z3", Nodes: 2, Alive: 1, Weight: 2},
	}
	if fmt.Sprint(st.Zones) != fmt.Sprint(wantZones) {
		t.Fatalf("zones %+v\nwant  %+v", st.Zones, wantZones)
	}
	if hasWarning(st.Warnings, "zone") {
		t.Fatalf("zone warning for three zones of two nodes: %q", st.Warnings)
	}
	if !hasWarning(st.Warnings, "node n6 is in the layout but down") || !hasWarning(st.Warnings, "storectl node approve n7") {
		t.Fatalf("warnings %q: want n6 down and n7 pending", st.Warnings)
	}

	// GET nodes is the same list.
	nodes, err := c.Client().Nodes(bg)
	must(t, err)
	if !reflect.DeepEqual(nodes, st.Nodes) {
		t.Fatalf("nodes\n%+v\nstatus\n%+v", nodes, st.Nodes)
	}
}

// A layout node gossip has forgotten is listed, unknown and down.
func TestStatusForgottenNode(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	c.Members.Forget("n3")
	st, err := c.Client().Status(bg)
	must(t, err)
	n3 := nodeByID(t, st.Nodes, "n3")
	if n3.Gossip != adminapi.GossipUnknown || !n3.Down || !n3.InLayout || n3.Zone != "z2" || n3.APIAddr != "n3:7070" || n3.Usage != nil {
		t.Fatalf("n3 %+v", n3)
	}
}

// Storage nodes are asked in parallel, each within the timeout: nodes that
// hang cost one timeout, not one each, and do not fail the status.
func TestStatusParallel(t *testing.T) {
	const timeout = 200 * time.Millisecond
	c := sixNodes(t, admintest.Options{Timeout: timeout})
	for _, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
		c.Nodes.Add(id, "z", 1, usage(1, 0)).SetHang(true)
	}
	start := time.Now()
	st, err := c.Client().Status(bg)
	must(t, err)
	if d := time.Since(start); d > 4*timeout {
		t.Fatalf("status took %v with 5 nodes hanging and a timeout of %v: not parallel", d, timeout)
	}
	for _, id := range []string{"n1", "n5"} {
		if n := nodeByID(t, st.Nodes, id); !strings.Contains(n.Error, "deadline") {
			t.Fatalf("%s: %+v, want a deadline error", id, n)
		}
	}
	if n6 := nodeByID(t, st.Nodes, "n6"); n6.Usage == nil {
		t.Fatalf("n6 %+v", n6)
	}
}

func TestStatusWarnings(t *testing.T) {
	type node struct{ id, zone string }
	six := func(zones ...string) []node {
		var ns []node
		for i := range 6 {
			ns = append(ns, node{fmt.Sprintf("n%d", i+1), zones[i*len(zones)/6]})
		}
		return ns
	}
	for _, tc := range []struct {
		name     string
		k, m     int
		nodes    []node
		zoneWarn bool
		fewWarn  bool
	}{
		{"3 zones of 2, 4+2", 4, 2, six("a", "b", "c"), false, false},
		{"2 zones of 3, 4+2", 4, 2, six("a", "b"), true, false},
		{"1 zone, 4+2", 4, 2, six("a"), true, false},
		{"2 zones of 3, 2+2", 2, 2, six("a", "b"), false, false},
		{"4 nodes in 2 zones, 2+1", 2, 1, []node{{"a1", "a"}, {"a2", "a"}, {"b1", "b"}, {"b2", "b"}}, true, false},
		{"4 nodes in 4 zones, 4+2", 4, 2, []node{{"a1", "a"}, {"b1", "b"}, {"c1", "c"}, {"d1", "d"}}, false, true},
		{"4 nodes in 2 zones, 4+2", 4, 2, []node{{"a1", "a"}, {"a2", "a"}, {"b1", "b"}, {"b2", "b"}}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := admintest.Start(t, admintest.Options{K: tc.k, M: tc.m})
			var ids []string
			for _, n := range tc.nodes {
				c.AddStorage(n.id, n.zone, 1)
				ids = append(ids, n.id)
			}
			c.SetLayout(ids...)
			st, err := c.Client().Status(bg)
			must(t, err)
			if got := hasWarning(st.Warnings, "losing that zone"); got != tc.zoneWarn {
				t.Fatalf("zone warning %v, want %v: %q", got, tc.zoneWarn, st.Warnings)
			}
			if got := hasWarning(st.Warnings, "fewer than the"); got != tc.fewWarn {
				t.Fatalf("few-nodes warning %v, want %v: %q", got, tc.fewWarn, st.Warnings)
			}
		})
	}
	t.Run("no layout", func(t *testing.T) {
		c := admintest.Start(t, admintest.Options{})
		c.AddStorage("n1", "a", 1)
		st, err := c.Client().Status(bg)
		must(t, err)
		if st.LayoutVersion != 0 || !hasWarning(st.Warnings, "no layout yet") {
			t.Fatalf("version %d, warnings %q", st.LayoutVersion, st.Warnings)
		}
		if n1 := nodeByID(t, st.Nodes, "n1"); !n1.Pending {
			t.Fatalf("n1 %+v: want pending", n1)
		}
	})
	t.Run("removed nodes do not count", func(t *testing.T) {
		c := sixNodes(t, admintest.Options{})
		// Without n5 and n6, zones a and b hold the 6 shards: 3 each.
		for _, id := range []string{"n5", "n6"} {
			_, err := c.Client().Remove(bg, id)
			must(t, err)
		}
		st, err := c.Client().Status(bg)
		must(t, err)
		if !hasWarning(st.Warnings, "losing that zone") || !hasWarning(st.Warnings, "fewer than the") {
			t.Fatalf("warnings %q", st.Warnings)
		}
		if len(st.Zones) != 2 {
			t.Fatalf("zones %+v: removed nodes counted", st.Zones)
		}
	})
}

// noLeader is a metadata store that has lost its leader.
type noLeader struct{ *meta.Store }

func (noLeader) Layout(context.Context) (*meta.Layout, error) {
	return nil, &meta.NotLeaderError{}
}

func (noLeader) ListBuckets(context.Context) ([]*meta.Bucket, error) {
	return nil, fmt.Errorf("list buckets: %w", metarpc.ErrOutcomeUnknown)
}

func TestMetadataUnavailable(t *testing.T) {
	c := admintest.Start(t, admintest.Options{WrapMeta: func(s *meta.Store) metarpc.API { return noLeader{s} }})
	c.AddStorage("n1", "a", 1)
	// Status still answers, with what gossip knows and a warning.
	st, err := c.Client().Status(bg)
	must(t, err)
	if st.LayoutError == "" || !hasWarning(st.Warnings, "layout is unknown") {
		t.Fatalf("status %+v", st)
	}
	if n1 := nodeByID(t, st.Nodes, "n1"); n1.Pending || n1.InLayout || n1.Usage == nil {
		t.Fatalf("n1 %+v: nobody knows whether it is in the layout", n1)
	}
	_, err = c.Client().Nodes(bg)
	wantCode(t, err, 503, adminapi.CodeServiceUnavailable)
	_, err = c.Client().Buckets(bg)
	wantCode(t, err, 503, adminapi.CodeServiceUnavailable)
	_, err = c.Client().Approve(bg, "n1")
	wantCode(t, err, 503, adminapi.CodeServiceUnavailable)
}
