package placement

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs in testdata/*.txt")

// TestScenarios runs the scenario files in testdata. Each file is a list of
// commands, one a line, each followed by "----" and its expected output up
// to a blank line:
//
//	key <secret>                     cluster secret (default "scenario")
//	node <id> <zone> <weight>        add a node, or change it
//	add-node <id> <zone> <weight>    add a node (it must be new)
//	remove-node <id>...              remove nodes
//	snapshot                         remember the member set
//	place <stripe> <n>               Place
//	rank <stripe>                    Rank
//	max-per-zone <n>                 MaxPerZone
//	zone-safe <k> <m>                ZoneSafe
//	moved <stripes> <n>              shards of stripes 0..stripes-1 that
//	                                 change node since the snapshot
//	spread <stripes> <n>             shards per zone and per node, at most
//	zone-counts <stripes> <n>        how many stripes give each zone how
//	                                 many shards (zones in name order)
//
// Lines starting with # are comments. Run with -rewrite to regenerate the
// outputs. The outputs pin the placement function itself: changing one
// means every cluster moves data, so it is a format change.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runScenario(t, file) })
	}
}

type scenario struct {
	key   []byte
	nodes []Node
	snap  []Node
}

func runScenario(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario{key: []byte("scenario")}
	var out strings.Builder
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		out.WriteString(line + "\n")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		got, hasOutput := sc.run(t, file, i+1, strings.Fields(trimmed))
		// The expected output: "----", then lines up to a blank line.
		var want []string
		hadBlock := i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "----"
		if hadBlock {
			i += 2
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				want = append(want, lines[i])
			}
			i-- // the blank line, if any, is copied as usual
		}
		if hasOutput {
			out.WriteString("----\n")
			for _, g := range got {
				out.WriteString(g + "\n")
			}
		}
		if !*rewrite && (hadBlock != hasOutput || !slices.Equal(got, want)) {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", file, i+1, trimmed, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs one command and returns its output and whether it has one.
func (sc *scenario) run(t *testing.T, file string, line int, f []string) ([]string, bool) {
	fail := func(format string, args ...any) {
		t.Fatalf("%s:%d: %s: %s", file, line, f[0], fmt.Sprintf(format, args...))
	}
	num := func(s string) int {
		v, err := strconv.Atoi(s)
		if err != nil {
			fail("%v", err)
		}
		return v
	}
	args := f[1:]
	need := func(k int) {
		if len(args) < k {
			fail("want %d arguments", k)
		}
	}
	switch f[0] {
	case "key":
		need(1)
		sc.key = []byte(args[0])
		return nil, false
	case "node", "add-node":
		need(3)
		w, err := strconv.ParseFloat(args[2], 64)
		if err != nil {
			fail("%v", err)
		}
		nd := Node{ID: args[0], Zone: args[1], Weight: w}
		if k := slices.IndexFunc(sc.nodes, func(n Node) bool { return n.ID == nd.ID }); k >= 0 {
			if f[0] == "add-node" {
				fail("node %s exists", nd.ID)
			}
			sc.nodes[k] = nd
		} else {
			sc.nodes = append(sc.nodes, nd)
		}
		return nil, false
	case "remove-node":
		need(1)
		for _, id := range args {
			k := slices.IndexFunc(sc.nodes, func(n Node) bool { return n.ID == id })
			if k < 0 {
				fail("no node %s", id)
			}
			sc.nodes = slices.Delete(sc.nodes, k, k+1)
		}
		return nil, false
	case "snapshot":
		sc.snap = slices.Clone(sc.nodes)
		return nil, false
	case "place":
		need(2)
		p, err := Place(sc.key, sc.nodes, []byte(args[0]), num(args[1]))
		if err != nil {
			return []string{"error: " + err.Error()}, true
		}
		return []string{strings.Join(p, " ")}, true
	case "rank":
		need(1)
		return []string{strings.Join(Rank(sc.key, sc.nodes, []byte(args[0])), " ")}, true
	case "max-per-zone":
		need(1)
		return []string{strconv.Itoa(MaxPerZone(sc.nodes, num(args[0])))}, true
	case "zone-safe":
		need(2)
		return []string{strconv.FormatBool(ZoneSafe(sc.nodes, num(args[0]), num(args[1])))}, true
	case "moved":
		need(2)
		stripes, n := num(args[0]), num(args[1])
		before, err := NewRing(sc.key, sc.snap)
		if err != nil {
			return []string{"error: " + err.Error()}, true
		}
		after, err := NewRing(sc.key, sc.nodes)
		if err != nil {
			return []string{"error: " + err.Error()}, true
		}
		present := map[string]bool{}
		for _, nd := range sc.nodes {
			present[nd.ID] = nd.Weight > 0
		}
		changed, orphaned, gained := 0, 0, map[string]int{}
		for s := range stripes {
			id := []byte(fmt.Sprintf("stripe-%d", s))
			pb, _ := before.Place(id, n)
			pa, _ := after.Place(id, n)
			for i := range pb {
				if !present[pb[i]] {
					orphaned++
				}
				if pb[i] != pa[i] {
					changed++
					gained[pa[i]]++
				}
			}
		}
		res := []string{fmt.Sprintf("%d of %d shards changed node; %d were on nodes that left", changed, stripes*n, orphaned)}
		var ids []string
		for id := range gained {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf("%s+%d", id, gained[id]))
		}
		return append(res, "gained: "+strings.Join(parts, " ")), true
	case "spread":
		need(2)
		stripes, n := num(args[0]), num(args[1])
		r, err := NewRing(sc.key, sc.nodes)
		if err != nil {
			return []string{"error: " + err.Error()}, true
		}
		zoneOf := map[string]string{}
		for _, nd := range sc.nodes {
			zoneOf[nd.ID] = nd.Zone
		}
		maxZone, maxNode := 0, 0
		total := map[string]int{}
		for s := range stripes {
			p, _ := r.Place([]byte(fmt.Sprintf("stripe-%d", s)), n)
			perZone, perNode := map[string]int{}, map[string]int{}
			for _, id := range p {
				perZone[zoneOf[id]]++
				perNode[id]++
				total[id]++
			}
			for _, c := range perZone {
				maxZone = max(maxZone, c)
			}
			for _, c := range perNode {
				maxNode = max(maxNode, c)
			}
		}
		var ids []string
		for id := range total {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf("%s:%d", id, total[id]))
		}
		return []string{
			fmt.Sprintf("at most %d per zone, %d per node", maxZone, maxNode),
			"shards: " + strings.Join(parts, " "),
		}, true
	case "zone-counts":
		need(2)
		stripes, n := num(args[0]), num(args[1])
		r, err := NewRing(sc.key, sc.nodes)
		if err != nil {
			return []string{"error: " + err.Error()}, true
		}
		zoneOf := map[string]string{}
		var zones []string
		for _, nd := range sc.nodes {
			if nd.Weight > 0 {
				zoneOf[nd.ID] = nd.Zone
				zones = append(zones, nd.Zone)
			}
		}
		slices.Sort(zones)
		zones = slices.Compact(zones)
		hist := map[string]int{}
		for s := range stripes {
			p, _ := r.Place([]byte(fmt.Sprintf("stripe-%d", s)), n)
			perZone := map[string]int{}
			for _, id := range p {
				perZone[zoneOf[id]]++
			}
			var parts []string
			for _, z := range zones {
				parts = append(parts, fmt.Sprintf("%s:%d", z, perZone[z]))
			}
			hist[strings.Join(parts, " ")]++
		}
		var res []string
		for counts, c := range hist {
			res = append(res, fmt.Sprintf("%s: %d", counts, c))
		}
		slices.Sort(res)
		return res, true
	}
	fail("unknown command")
	return nil, false
}
