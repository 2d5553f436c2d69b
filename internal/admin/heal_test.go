package admin_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin"
	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/cluster"
	"cairn/internal/heal"
	"cairn/internal/meta"
)

// healing is a status as a healer in the middle of its work gives it.
func healing() heal.Status {
	return heal.Status{
		Passes: 3, Healing: true,
		PassStarted: admintest.Clock, Scanned: admintest.Clock.Add(time.Second),
		LayoutVersion: 1,
		Tally: heal.Tally{
			Stripes: 100, Healthy: 90, Missing: map[int]int64{1: 6, 2: 3}, Unreadable: 1,
			RepairShards: 12, RepairBytes: 12 << 20, RebalanceShards: 4, RebalanceBytes: 4 << 20,
			Waiting: 2, Draining: 4, DrainingByNode: map[string]int64{"n2": 4},
		},
		RepairedShards: 5, RepairedBytes: 5 << 20, MovedShards: 1, MovedBytes: 1 << 20, FailedShards: 1,
		GarbageChunks: 7, CollectedChunks: 30, StraysDeleted: 2,
		RateLimit: 64 << 20, Rate: 2 << 20, Remaining: 10 << 20, ETA: 5 * time.Second,
		DrainRemaining: map[string]int64{"n2": 3},
	}
}

func TestHealStatus(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	c.Heal.Set(healing())
	hs, err := c.Client().HealStatus(bg)
	must(t, err)
	want := admin.HealStatus(new(healing()), admintest.HealNode)
	if hs.Node != admintest.HealNode || hs.Healthy || hs.Passes != 3 || !hs.Healing || hs.ETASeconds != 5 ||
		hs.Tally.Missing[2] != 3 || hs.Tally.DrainingByNode["n2"] != 4 || hs.DrainRemaining["n2"] != 3 ||
		hs.Remaining != 10<<20 || hs.Rate != 2<<20 || !hs.Scanned.Equal(want.Scanned) {
		t.Fatalf("heal status %+v, want %+v", hs, want)
	}
	if _, local := c.Heal.Kicks(); local != 0 {
		t.Fatalf("a plain request asked the local healer %d times", local)
	}
	_, err = c.Client().LocalHealStatus(bg)
	must(t, err)
	if _, local := c.Heal.Kicks(); local != 1 {
		t.Fatalf("local=true reached the healer as local %d times, want 1", local)
	}
	code, _, body := rawCall(t, c, "GET", "/v1/admin/heal?local=maybe", "Bearer "+c.Token, nil)
	if code != 400 || errorCode(t, body) != adminapi.CodeBadRequest {
		t.Fatalf("local=maybe: %d %s", code, body)
	}

	// A healer that has not passed yet is not healthy; one that found all
	// well is.
	c.Heal.Set(heal.Status{})
	if hs, err := c.Client().HealStatus(bg); err != nil || hs.Healthy || hs.Tally.Missing == nil || hs.DrainRemaining == nil {
		t.Fatalf("before a pass: %+v %v", hs, err)
	}
	c.Heal.Set(heal.Status{Passes: 1, Tally: heal.Tally{Stripes: 4, Healthy: 4}})
	if hs, err := c.Client().HealStatus(bg); err != nil || !hs.Healthy {
		t.Fatalf("all well: %+v %v", hs, err)
	}

	// No leader reached: 503, saying so.
	c.Heal.SetErr(fmt.Errorf("ask n1: %w", meta.ErrNotLeader))
	_, err = c.Client().HealStatus(bg)
	ae := wantCode(t, err, 503, adminapi.CodeServiceUnavailable)
	if !strings.Contains(ae.Message, "healer") {
		t.Fatalf("message %q does not say what did not answer", ae.Message)
	}
}

// TestHealWireMirrors keeps the wire type a mirror of heal.Status: every
// field of heal.Status and heal.Tally has its namesake on the wire.
func TestHealWireMirrors(t *testing.T) {
	keys := func(v any) []string {
		b, err := json.Marshal(v)
		must(t, err)
		var m map[string]json.RawMessage
		must(t, json.Unmarshal(b, &m))
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	s := healing()
	wire := admin.HealStatus(&s, "n")
	rename := map[string]string{"eta": "eta_seconds"}
	for _, pair := range [][2]any{{s, *wire}, {s.Tally, wire.Tally}} {
		have := keys(pair[1])
		for _, k := range keys(pair[0]) {
			if r, ok := rename[k]; ok {
				k = r
			}
			if !slices.Contains(have, k) {
				t.Errorf("%T has %q; the wire type %T does not", pair[0], k, pair[1])
			}
		}
	}
}

func TestHealKick(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	must(t, c.Client().Kick(bg))
	must(t, c.Client().LocalKick(bg))
	if kicks, local := c.Heal.Kicks(); kicks != 2 || local != 1 {
		t.Fatalf("%d kicks (%d local), want 2 (1)", kicks, local)
	}
	code, hdr, body := rawCall(t, c, "GET", "/v1/admin/heal/kick", "Bearer "+c.Token, nil)
	if code != 405 || hdr.Get("Allow") != "POST" || errorCode(t, body) != adminapi.CodeMethodNotAllowed {
		t.Fatalf("GET heal/kick: %d %v %s", code, hdr, body)
	}
	if code, _, _ := rawCall(t, c, "POST", "/v1/admin/heal/kick", "", nil); code != 401 {
		t.Fatalf("kick without a token: %d", code)
	}
}

func TestStatusHeal(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	_, err := cl.Drain(bg, "n2")
	must(t, err)
	s := healing()
	s.LayoutVersion = 2
	c.Heal.Set(s)
	st, err := cl.Status(bg)
	must(t, err)
	if st.Heal == nil || st.HealError != "" || st.Heal.Tally.Unreadable != 1 {
		t.Fatalf("status heal %+v (error %q)", st.Heal, st.HealError)
	}
	if !hasWarning(st.Warnings, "1 stripes are unreadable") || !hasWarning(st.Warnings, "node n2 is draining: 4 shards still on it") {
		t.Fatalf("warnings %q", st.Warnings)
	}
	// Drained: a pass under the current layout found nothing on n2.
	s.Tally.DrainingByNode = nil
	s.Tally.Unreadable = 0
	c.Heal.Set(s)
	st, err = cl.Status(bg)
	must(t, err)
	if !hasWarning(st.Warnings, "node n2 holds no shard any stripe references: it can be stopped (then storectl node remove n2)") {
		t.Fatalf("warnings %q", st.Warnings)
	}
	// A pass under an older layout says nothing of the drain.
	s.LayoutVersion = 1
	c.Heal.Set(s)
	st, err = cl.Status(bg)
	must(t, err)
	if hasWarning(st.Warnings, "n2") {
		t.Fatalf("a pass before the drain judged it: %q", st.Warnings)
	}
	// The healer does not answer: status still does.
	c.Heal.SetErr(meta.ErrNotLeader)
	st, err = cl.Status(bg)
	must(t, err)
	if st.Heal != nil || !strings.Contains(st.HealError, "healer did not answer") {
		t.Fatalf("status with no healer: %+v %q", st.Heal, st.HealError)
	}
}

func TestDrain(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	ch, err := cl.Drain(bg, "n2")
	must(t, err)
	if ch.Node != "n2" || ch.LayoutVersion != 2 {
		t.Fatalf("drain: %+v", ch)
	}
	l, err := c.Store.Layout(bg)
	must(t, err)
	if l.Version != 2 || !l.Nodes[1].Draining || l.Nodes[1].ID != "n2" {
		t.Fatalf("layout after drain: %+v", l)
	}
	st, err := cl.Status(bg)
	must(t, err)
	if n2 := nodeByID(t, st.Nodes, "n2"); !n2.Draining || !n2.InLayout || n2.Removed {
		t.Fatalf("n2 after drain: %+v", n2)
	}
	// Zones count the nodes that take data: z1 keeps n1 only.
	if i := slices.IndexFunc(st.Zones, func(z adminapi.Zone) bool { return z.Name == "z1" }); i < 0 || st.Zones[i].Nodes != 1 {
		t.Fatalf("zones %+v: want z1 with one node", st.Zones)
	}
	// Again: nothing changes, the same version answers.
	if ch, err := cl.Drain(bg, "n2"); err != nil || ch.LayoutVersion != 2 {
		t.Fatalf("drain again: %+v %v", ch, err)
	}
	if l, _ := c.Store.Layout(bg); l.Version != 2 {
		t.Fatalf("draining again stored version %d", l.Version)
	}

	_, err = cl.Drain(bg, "n99")
	wantCode(t, err, 404, adminapi.CodeNoSuchNode)
	_, err = cl.Remove(bg, "n3")
	must(t, err)
	_, err = cl.Drain(bg, "n3")
	wantCode(t, err, 409, adminapi.CodeNodeNotDrainable)
	c.Members.SetStatus("n4", cluster.StatusFailed)
	_, err = cl.Drain(bg, "n4")
	ae := wantCode(t, err, 409, adminapi.CodeNodeNotDrainable)
	if !strings.Contains(ae.Message, "storectl node remove n4") {
		t.Fatalf("message %q does not say what to do", ae.Message)
	}
	if l, _ := c.Store.Layout(bg); l.Version != 3 {
		t.Fatalf("refused drains changed the layout: version %d", l.Version)
	}
}

func TestDrainLastNode(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	c.AddStorage("n1", "z1", 1)
	c.SetLayout("n1")
	_, err := c.Client().Drain(bg, "n1")
	wantCode(t, err, 409, adminapi.CodeLastNode)
}
