package admin_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/cluster"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
)

func TestApprove(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	c.AddStorage("n7", "z3", 3)
	ch, err := cl.Approve(bg, "n7")
	must(t, err)
	if ch.Node != "n7" || ch.LayoutVersion != 2 {
		t.Fatalf("approve: %+v, want n7 at version 2", ch)
	}
	l, err := c.Store.Layout(bg)
	must(t, err)
	if l.Version != 2 || len(l.Nodes) != 7 || l.Nodes[6] != (meta.LayoutNode{ID: "n7", Zone: "z3", Weight: 3, Addr: "n7:7070"}) {
		t.Fatalf("layout after approve: %+v", l)
	}
	st, err := cl.Status(bg)
	must(t, err)
	if n7 := nodeByID(t, st.Nodes, "n7"); !n7.InLayout || n7.Pending || st.LayoutVersion != 2 {
		t.Fatalf("n7 after approve: %+v (version %d)", n7, st.LayoutVersion)
	}

	_, err = cl.Approve(bg, "n7")
	wantCode(t, err, 409, adminapi.CodeNodeAlreadyInLayout)
	_, err = cl.Approve(bg, "n99")
	wantCode(t, err, 404, adminapi.CodeNoSuchNode)
	c.AddStorage("n8", "z1", 1)
	c.Members.SetStatus("n8", cluster.StatusFailed)
	_, err = cl.Approve(bg, "n8")
	wantCode(t, err, 409, adminapi.CodeNodeNotApprovable)
	c.Members.Add(cluster.Member{ID: "g1", Roles: []cluster.Role{cluster.RoleGateway}, APIAddr: "g1:7070", Status: cluster.StatusAlive})
	_, err = cl.Approve(bg, "g1")
	wantCode(t, err, 409, adminapi.CodeNodeNotApprovable)
	if l, _ := c.Store.Layout(bg); l.Version != 2 {
		t.Fatalf("refused approvals changed the layout: version %d", l.Version)
	}
}

func TestApproveNoLayout(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	c.AddStorage("n1", "z1", 1)
	_, err := c.Client().Approve(bg, "n1")
	ae := wantCode(t, err, 503, adminapi.CodeServiceUnavailable)
	if want := "no layout yet"; !strings.Contains(ae.Message, want) {
		t.Fatalf("message %q, want %q", ae.Message, want)
	}
}

func TestRemove(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	ch, err := cl.Remove(bg, "n6")
	must(t, err)
	if ch.Node != "n6" || ch.LayoutVersion != 2 {
		t.Fatalf("remove: %+v", ch)
	}
	st, err := cl.Status(bg)
	must(t, err)
	if n6 := nodeByID(t, st.Nodes, "n6"); !n6.Removed || n6.InLayout || n6.Pending || n6.Weight != 0 {
		t.Fatalf("n6 after remove: %+v", n6)
	}
	_, err = cl.Remove(bg, "n6")
	wantCode(t, err, 404, adminapi.CodeNoSuchNode)
	_, err = cl.Remove(bg, "n99")
	wantCode(t, err, 404, adminapi.CodeNoSuchNode)

	// A removed node can be approved back.
	ch, err = cl.Approve(bg, "n6")
	must(t, err)
	if ch.LayoutVersion != 3 {
		t.Fatalf("approve back: %+v", ch)
	}
	st, err = cl.Status(bg)
	must(t, err)
	if n6 := nodeByID(t, st.Nodes, "n6"); n6.Removed || !n6.InLayout || n6.Weight != 1 {
		t.Fatalf("n6 approved back: %+v", n6)
	}

	// The last node that takes data stays.
	for _, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
		_, err := cl.Remove(bg, id)
		must(t, err)
	}
	_, err = cl.Remove(bg, "n6")
	wantCode(t, err, 409, adminapi.CodeLastNode)
}

// racingSteward stores a layout of its own just before each of the admin
// server's first `races` SetLayout calls, as the leader's steward might.
type racingSteward struct {
	*meta.Store
	races atomic.Int32
}

func (r *racingSteward) SetLayout(ctx context.Context, l *meta.Layout) error {
	if r.races.Add(-1) >= 0 {
		cur, err := r.Layout(ctx)
		if err != nil {
			return err
		}
		next := *cur
		next.Version++
		next.Nodes = append([]meta.LayoutNode(nil), cur.Nodes...)
		next.Nodes[0].Weight = 5 // the steward saw a new weight
		if err := r.Store.SetLayout(ctx, &next); err != nil {
			return err
		}
	}
	return r.Store.SetLayout(ctx, l)
}

func TestApproveRetriesStaleLayout(t *testing.T) {
	var rs *racingSteward
	c := admintest.Start(t, admintest.Options{WrapMeta: func(s *meta.Store) metarpc.API {
		rs = &racingSteward{Store: s}
		return rs
	}})
	c.AddStorage("n1", "z1", 1)
	c.AddStorage("n2", "z2", 1)
	c.SetLayout("n1")
	rs.races.Store(2)
	ch, err := c.Client().Approve(bg, "n2")
	must(t, err)
	l, err := c.Store.Layout(bg)
	must(t, err)
	// v1, the steward's v2, v3, then ours: v4, keeping the steward's change.
	if ch.LayoutVersion != 4 || l.Version != 4 || len(l.Nodes) != 2 || l.Nodes[0].Weight != 5 || l.Nodes[1].ID != "n2" {
		t.Fatalf("approve answered %+v; layout %+v", ch, l)
	}

	// A steward that always wins makes the approval give up: 503.
	c.AddStorage("n3", "z3", 1)
	rs.races.Store(100)
	_, err = c.Client().Approve(bg, "n3")
	wantCode(t, err, 503, adminapi.CodeServiceUnavailable)
}

// TestNodeAudits: the node list and status carry each storage node's
// reputation record, with the share of its recent checks that passed.
func TestNodeAudits(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	failed := admintest.Clock.Add(-time.Hour)
	must(t, c.Store.AddReputation(bg, []meta.ReputationDelta{
		{Node: "n2", Passed: 90, Missing: 6, Corrupt: 2, Lies: 2, LastAudit: admintest.Clock, LastFailure: failed},
		{Node: "n3", Passed: 50, LastAudit: admintest.Clock},
	}))
	must(t, c.Store.AddReputation(bg, []meta.ReputationDelta{{Node: "n2", Eject: true, Reason: "10 of its 100 recent checks failed"}}))
	nodes, err := c.Client().Nodes(bg)
	must(t, err)
	n2 := nodeByID(t, nodes, "n2").Audit
	if n2 == nil || n2.Passed != 90 || n2.Missing != 6 || n2.Corrupt != 2 || n2.Failed != 8 || n2.Lies != 2 ||
		n2.RecentChecks != 100 || n2.RecentFailures != 10 || n2.Reputation != 0.9 || !n2.LastFailure.Equal(failed) ||
		!n2.Ejected || n2.EjectReason != "10 of its 100 recent checks failed" || !n2.EjectedAt.Equal(admintest.Clock) {
		t.Fatalf("n2's audit %+v", n2)
	}
	if n3 := nodeByID(t, nodes, "n3").Audit; n3 == nil || n3.Reputation != 1 || n3.Failed != 0 || !n3.LastFailure.IsZero() {
		t.Fatalf("n3's audit %+v", n3)
	}
	if n1 := nodeByID(t, nodes, "n1").Audit; n1 != nil {
		t.Fatalf("n1, never audited, has an audit record: %+v", n1)
	}
	st, err := c.Client().Status(bg)
	must(t, err)
	if a := nodeByID(t, st.Nodes, "n2").Audit; a == nil || !a.Ejected {
		t.Fatalf("status's n2 audit %+v", a)
	}
}
