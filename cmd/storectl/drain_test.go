package main

import (
	"encoding/json"
	"strings"
	"testing"

	"cairn/internal/admin/adminapi"
	"cairn/internal/heal"
)

func TestNodeDrain(t *testing.T) {
	c := sixNodes(t)
	s := midway()
	s.Healing = false
	c.Heal.Set(s) // a pass under layout 1, before the drain
	kicks := 0
	c.Heal.OnKick(func(s *heal.Status) {
		kicks++
		s.Passes++
		s.LayoutVersion = 2
		if kicks == 1 { // the first pass under layout 2 finds 4 shards on n2, moves 3
			s.Tally.DrainingByNode, s.DrainRemaining = map[string]int64{"n2": 4}, map[string]int64{"n2": 1}
			return
		}
		s.Tally.DrainingByNode, s.DrainRemaining = map[string]int64{"n2": 0}, map[string]int64{"n2": 0}
	})
	x := newCLI(t, c)
	out := x.ok("node", "drain", "n2")
	for _, want := range []string{
		"Node n2 is draining (layout version 2)",
		"waiting for a heal pass under layout version 2",
		"3 of 4 shards moved off n2",
		"Node n2 holds no shard any stripe references: it can be stopped (then storectl node remove n2).\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if kicks != 2 {
		t.Errorf("%d kicks, want one to start the first pass and one to check", kicks)
	}
	if got := row(t, x.ok("node", "list"), "n2"); got[5] != "draining" {
		t.Fatalf("n2 in node list: %q", got)
	}
	if got := row(t, x.ok("status"), "n2"); got[5] != "draining" {
		t.Fatalf("n2 in status: %q", got)
	}

	// Again, without waiting: the same version.
	out = x.ok("node", "drain", "--no-wait", "n2")
	if !strings.Contains(out, "(layout version 2)") || !strings.Contains(out, "storectl heal status --watch") {
		t.Fatalf("drain --no-wait: %q", out)
	}
	var ch adminapi.LayoutChange
	if err := json.Unmarshal([]byte(x.ok("--json", "node", "drain", "n3")), &ch); err != nil || ch.LayoutVersion != 3 {
		t.Fatalf("drain --json: %+v %v", ch, err)
	}
	x.fails(1, []string{"node", "drain", "nope"}, adminapi.CodeNoSuchNode)
	x.ok("node", "remove", "n4")
	x.fails(1, []string{"node", "drain", "n4"}, "nothing to drain", adminapi.CodeNodeNotDrainable)
	x.fails(2, []string{"node", "drain"}, "wants ID")
}
