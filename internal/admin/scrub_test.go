package admin_test

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/admintest"
	"cairn/internal/cluster"
	"cairn/internal/nodeapi"
)

// TestScrubStart: every live storage node is asked for a pass; a node
// that runs one asked for already says so, a down node is not asked, a
// failing one gives its error, and nodes without the storage role are
// left out.
func TestScrubStart(t *testing.T) {
	c := sixNodes(t, admintest.Options{Timeout: 300 * time.Millisecond})
	c.Nodes.Get("n2").SetScrub(nodeapi.ScrubStatus{Current: &nodeapi.ScrubPass{Requested: true}})
	c.Nodes.Get("n3").SetErr(errors.New("disk on fire"))
	c.Members.SetStatus("n6", cluster.StatusFailed)
	c.Members.Add(cluster.Member{ID: "g1", Roles: []cluster.Role{cluster.RoleGateway}, APIAddr: "g1:7070", Status: cluster.StatusAlive})

	st, err := c.Client().StartScrub(bg)
	must(t, err)
	var got []string
	for _, n := range st.Nodes {
		var s string
		switch {
		case n.Started:
			s = "started"
		case n.Running:
			s = "running"
		case n.Down:
			s = "down"
		case strings.Contains(n.Error, "disk on fire"):
			s = "error"
		}
		got = append(got, n.Node+":"+s)
	}
	if g := strings.Join(got, " "); g != "n1:started n2:running n3:error n4:started n5:started n6:down" {
		t.Fatalf("scrub start answered %s", g)
	}
	for id, want := range map[string]int{"n1": 1, "n2": 0, "n3": 0, "n6": 0} {
		if n := c.Nodes.Get(id).ScrubStarts(); n != want {
			t.Errorf("%s started %d passes, want %d", id, n, want)
		}
	}
	// A second start while the first is pending starts nothing more.
	st, err = c.Client().StartScrub(bg)
	must(t, err)
	if n := st.Nodes[0]; n.Node != "n1" || n.Started || !n.Running {
		t.Fatalf("second start on n1: %+v", n)
	}

	status, _, body := rawCall(t, c, http.MethodPost, "/v1/admin/scrub", "Bearer "+c.Token, nil)
	if status != http.StatusAccepted {
		t.Fatalf("POST scrub: %d %s, want 202", status, body)
	}
	status, h, _ := rawCall(t, c, http.MethodDelete, "/v1/admin/scrub", "Bearer "+c.Token, nil)
	if status != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, POST" {
		t.Fatalf("DELETE scrub: %d, Allow %q", status, h.Get("Allow"))
	}
	if status, _, _ := rawCall(t, c, http.MethodPost, "/v1/admin/scrub", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("POST scrub without the token: %d", status)
	}
}

// TestScrubStatus: each node's scrub as it reports it, and the summary:
// the running passes' progress weighted by their bytes, what the latest
// passes found, and since when every shard was checked.
func TestScrubStatus(t *testing.T) {
	c := sixNodes(t, admintest.Options{Timeout: 300 * time.Millisecond})
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	done := func(ended time.Time, corrupt int64) *nodeapi.ScrubPass {
		return &nodeapi.ScrubPass{Started: ended.Add(-time.Hour), Ended: ended, Progress: 1, Shards: 100, Bytes: 1000, Corrupt: corrupt}
	}
	week := 168 * time.Hour
	for i, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
		c.Nodes.Get(id).SetScrub(nodeapi.ScrubStatus{Interval: week, Last: done(t0.Add(time.Duration(i)*time.Hour), 1), Next: t0.Add(week), Passes: 1})
	}
	// n1 and n2 run passes: 300 of 1000 bytes and 100 of 100.
	c.Nodes.Get("n1").SetScrub(nodeapi.ScrubStatus{Interval: week, Last: done(t0.Add(2*time.Hour), 1),
		Current: &nodeapi.ScrubPass{Started: t0.Add(3 * time.Hour), Rate: 1 << 20, Progress: 0.3, Bytes: 300, Corrupt: 5, Unreadable: 1}})
	c.Nodes.Get("n2").SetScrub(nodeapi.ScrubStatus{Interval: week, Last: done(t0.Add(5*time.Hour), 0),
		Current: &nodeapi.ScrubPass{Started: t0.Add(6 * time.Hour), Requested: true, Progress: 0.5, Bytes: 100}})
	c.Members.SetStatus("n6", cluster.StatusFailed)

	sc, err := c.Client().ScrubStatus(bg)
	must(t, err)
	if len(sc.Nodes) != 6 {
		t.Fatalf("%d nodes", len(sc.Nodes))
	}
	n1 := sc.Nodes[0]
	if n1.Node != "n1" || n1.Zone != "z1" || n1.Scrub == nil || n1.Scrub.IntervalSeconds != week.Seconds() ||
		n1.Scrub.Current == nil || n1.Scrub.Current.Progress != 0.3 || n1.Scrub.Current.Rate != 1<<20 || !n1.Scrub.Next.IsZero() {
		t.Fatalf("n1: %+v (%+v)", n1, n1.Scrub)
	}
	if n3 := sc.Nodes[2]; n3.Scrub.Current != nil || !n3.Scrub.Next.Equal(t0.Add(week)) || !n3.Scrub.Last.Ended.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("n3: %+v", n3.Scrub)
	}
	if n6 := sc.Nodes[5]; !n6.Down || n6.Scrub != nil {
		t.Fatalf("n6: %+v", n6)
	}
	// Corrupt: n1's running pass 5, n2's 0, n3..n5's last passes 1 each.
	if sc.Running != 2 || math.Abs(sc.Progress-400.0/1200) > 1e-9 || sc.Corrupt != 8 || sc.Unreadable != 1 ||
		!sc.CheckedSince.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("summary: running %d, progress %v, corrupt %d, unreadable %d, checked since %v",
			sc.Running, sc.Progress, sc.Corrupt, sc.Unreadable, sc.CheckedSince)
	}

	// A node that never completed a pass: nothing is known to be checked
	// since any time.
	c.Nodes.Get("n5").SetScrub(nodeapi.ScrubStatus{Interval: week, Current: &nodeapi.ScrubPass{Progress: 0.1, Bytes: 1}})
	sc, err = c.Client().ScrubStatus(bg)
	must(t, err)
	if !sc.CheckedSince.IsZero() {
		t.Fatalf("checked since %v with a node that never completed a pass", sc.CheckedSince)
	}
	// A node that fails is shown with its error.
	c.Nodes.Get("n4").SetErr(errors.New("disk on fire"))
	sc, err = c.Client().ScrubStatus(bg)
	must(t, err)
	if n4 := sc.Nodes[3]; n4.Scrub != nil || !strings.Contains(n4.Error, "disk on fire") {
		t.Fatalf("n4: %+v", n4)
	}
}
