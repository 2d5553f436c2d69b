package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/nodeapi"
)

func TestScrubStartCommand(t *testing.T) {
	c := sixNodes(t)
	c.Nodes.Get("n2").SetScrub(nodeapi.ScrubStatus{Current: &nodeapi.ScrubPass{Requested: true}})
	c.Members.SetStatus("n6", cluster.StatusFailed)
	x := newCLI(t, c)
	out := x.ok("scrub", "start")
	for id, want := range map[string]string{"n1": "started", "n2": "running", "n6": "DOWN:"} {
		if r := row(t, out, id); r[2] != want {
			t.Errorf("%s: %v, want %s", id, r, want)
		}
	}
	if !strings.Contains(out, "A pass started on 4 of 6 storage nodes") {
		t.Fatalf("no count of the nodes started in\n%s", out)
	}
	if n := c.Nodes.Get("n1").ScrubStarts(); n != 1 {
		t.Fatalf("n1 asked for %d passes", n)
	}

	var st adminapi.ScrubStart
	if err := json.Unmarshal([]byte(x.ok("--json", "scrub", "start")), &st); err != nil || len(st.Nodes) != 6 || !st.Nodes[0].Running {
		t.Fatalf("--json scrub start: %+v, %v", st, err)
	}

	// A live node that does not take the request fails the command.
	c.Nodes.Get("n3").SetErr(errors.New("disk on fire"))
	x.fails(1, []string{"scrub", "start"}, "no scrub started on n3")
}

func TestScrubStatusCommand(t *testing.T) {
	c := sixNodes(t)
	t0 := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	week := 168 * time.Hour
	for _, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
		c.Nodes.Get(id).SetScrub(nodeapi.ScrubStatus{Interval: week, Next: t0.Add(week),
			Last: &nodeapi.ScrubPass{Started: t0.Add(-time.Hour), Ended: t0, Progress: 1, Shards: 1200, Bytes: 3 << 30, Corrupt: 1}})
	}
	c.Nodes.Get("n1").SetScrub(nodeapi.ScrubStatus{Interval: week, Last: &nodeapi.ScrubPass{Started: t0.Add(-time.Hour), Ended: t0, Progress: 1},
		Current: &nodeapi.ScrubPass{Started: t0.Add(time.Hour), Requested: true, Rate: 64 << 20, Progress: 0.425, Shards: 300, Bytes: 1 << 30, Corrupt: 2, Unreadable: 1}})
	c.Members.SetStatus("n6", cluster.StatusFailed)
	x := newCLI(t, c)
	out := x.ok("scrub", "status")
	if r := row(t, out, "n1"); strings.Join(r, " ") != "n1 z1 running (asked for) 42% 64 MiB/s 1 GiB 300 2 1 "+stamp(t0)+" -" {
		t.Errorf("n1 row: %v", r)
	}
	if r := row(t, out, "n2"); strings.Join(r, " ") != "n2 z1 idle - - 3 GiB 1200 1 0 "+stamp(t0)+" "+stamp(t0.Add(week)) {
		t.Errorf("n2 row: %v", r)
	}
	if r := row(t, out, "n6"); r[2] != "DOWN" {
		t.Errorf("n6 row: %v", r)
	}
	for _, want := range []string{
		"Running:      1 of 6 storage nodes, 42% done\n",
		"Found:        6 corrupt (quarantined; healing rebuilds them), 1 unreadable",
		"Checked:      every shard since " + stamp(t0) + " (48h",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}

	c.Nodes.Get("n4").SetErr(errors.New("disk on fire"))
	out = x.ok("scrub", "status")
	if r := row(t, out, "n4"); r[2] != "ERROR" || !strings.Contains(out, "ERROR: n4: ") || !strings.Contains(out, "disk on fire") {
		t.Errorf("n4 failing:\n%s", out)
	}
	var sc adminapi.Scrub
	if err := json.Unmarshal([]byte(x.ok("--json", "scrub", "status")), &sc); err != nil || sc.Running != 1 || len(sc.Nodes) != 6 {
		t.Fatalf("--json scrub status: %+v, %v", sc, err)
	}
}
