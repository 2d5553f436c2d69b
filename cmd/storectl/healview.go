package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"cairn/internal/admin/adminapi"
)

// How a healing status reads for people: the Stripes section of status,
// and the progress that heal status and node drain show.

// barWidth is the width of a progress bar's track, in characters.
const barWidth = 30

// bar renders done of total as "  45% [=============>...........]".
// total 0 is nothing to do: a full bar.
func bar(done, total int64) string {
	if total <= 0 {
		done, total = 1, 1
	}
	done = min(max(done, 0), total)
	var sink bytes.Buffer
	b := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(&sink),
		progressbar.OptionSetWidth(barWidth),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetRenderBlankState(false),
	)
	if done == 0 {
		_ = b.RenderBlank()
	} else {
		_ = b.Set64(done)
	}
	// Right-aligned, so that bars of 5% and 100% line up.
	return fmt.Sprintf("%*s", barWidth+7, strings.TrimSpace(b.String()))
}

// rateText is the healer's rate and its bound.
func rateText(hs *adminapi.HealStatus) string {
	s := size(int64(hs.Rate)) + "/s"
	if hs.RateLimit > 0 {
		return s + " (limit " + size(hs.RateLimit) + "/s)"
	}
	return s + " (no limit)"
}

// etaText is the time to healthy: "healthy" when nothing is left to do.
func etaText(hs *adminapi.HealStatus) string {
	t := &hs.Tally
	switch {
	case hs.Passes == 0:
		return "unknown (no heal pass yet)"
	case hs.Healthy:
		return "healthy"
	case hs.Remaining > 0 && hs.ETASeconds > 0:
		return (time.Duration(hs.ETASeconds * float64(time.Second))).Round(time.Second).String()
	case hs.Remaining > 0:
		return "unknown (nothing written in the last 10 s)"
	case t.Unreadable > 0 || t.Waiting > 0:
		return "unknown: the remaining work waits for nodes to come back, or for nodes to take shards"
	}
	return "the latest pass's work is done; the next pass checks it"
}

// missingKeys returns 1..m and any other count of missing shards the
// tally has, in order.
func missingKeys(t *adminapi.HealTally, m int) []int {
	var ks []int
	for j := 1; j <= m; j++ {
		ks = append(ks, j)
	}
	for j := range t.Missing {
		if j > m {
			ks = append(ks, j)
		}
	}
	slices.Sort(ks)
	return ks
}

// passText says which pass the figures are from.
func passText(hs *adminapi.HealStatus) string {
	s := fmt.Sprintf("heal pass %d under layout version %d", hs.Passes, hs.LayoutVersion)
	if !hs.Scanned.IsZero() {
		s += ", scanned " + stamp(hs.Scanned)
	}
	return s
}

// stripesSection prints status's Stripes section: stripes by health,
// what waits for repair and rebalance, the rate and the time to healthy.
// m is the parity count of new stripes.
func stripesSection(w io.Writer, hs *adminapi.HealStatus, healErr string, m int) error {
	switch {
	case hs == nil:
		_, err := fmt.Fprintf(w, "Stripes: unknown: %s\n", healErr)
		return err
	case hs.Passes == 0:
		_, err := fmt.Fprintln(w, "Stripes: unknown: the metadata leader's healer has made no pass over the chunk table yet (storectl heal kick asks for one)")
		return err
	}
	t := &hs.Tally
	fmt.Fprintf(w, "Stripes (%s):\n", passText(hs))
	tt := newTable(w, "HEALTH", "STRIPES")
	tt.row("healthy", strconv.FormatInt(t.Healthy, 10))
	for _, j := range missingKeys(t, m) {
		tt.row("missing "+strconv.Itoa(j), strconv.FormatInt(t.Missing[j], 10))
	}
	tt.row("unreadable", strconv.FormatInt(t.Unreadable, 10))
	if err := tt.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Waiting for repair:     %s in %d shards (%s left)\n", size(t.RepairBytes), t.RepairShards, size(hs.RepairRemaining))
	fmt.Fprintf(w, "Waiting for rebalance:  %s in %d shards (%s left)\n", size(t.RebalanceBytes), t.RebalanceShards, size(hs.RebalanceRemaining))
	if t.Waiting > 0 {
		fmt.Fprintf(w, "Waiting for a node:     %d shards (their node is down within its grace period, or no node can take them)\n", t.Waiting)
	}
	fmt.Fprintf(w, "Heal rate:              %s\n", rateText(hs))
	_, err := fmt.Fprintf(w, "Time to healthy:        %s\n", etaText(hs))
	return err
}

// healLines renders heal status: the pass, the stripes' health, and a
// progress bar for repair, rebalance and each draining node.
func healLines(hs *adminapi.HealStatus, sc *adminapi.Scrub) []string {
	t := &hs.Tally
	state := "idle"
	switch {
	case hs.Scanning:
		state = "scanning the chunk table"
	case hs.Healing:
		state = "healing what the pass found"
	}
	if hs.Passes == 0 {
		return append([]string{
			fmt.Sprintf("Healer:     node %s, %s; no pass over the chunk table yet", hs.Node, state),
			"Scrub       " + scrubText(sc),
			"GC          " + gcText(hs),
		}, auditLines(&hs.Audit)...)
	}
	health := "healthy"
	if !hs.Healthy {
		var parts []string
		parts = append(parts, fmt.Sprintf("%d healthy", t.Healthy))
		for _, j := range slices.Sorted(maps.Keys(t.Missing)) {
			if t.Missing[j] > 0 {
				parts = append(parts, fmt.Sprintf("%d missing %d", t.Missing[j], j))
			}
		}
		if t.Unreadable > 0 {
			parts = append(parts, fmt.Sprintf("%d UNREADABLE", t.Unreadable))
		}
		health = "NOT HEALTHY: " + strings.Join(parts, ", ")
	}
	lines := []string{
		fmt.Sprintf("Healer:     node %s, %s; %s", hs.Node, state, passText(hs)),
		fmt.Sprintf("Stripes:    %d: %s", t.Stripes, health),
		"",
		fmt.Sprintf("Repair      %s  %s of %s rebuilt, %d shards", bar(t.RepairBytes-hs.RepairRemaining, t.RepairBytes),
			size(t.RepairBytes-hs.RepairRemaining), size(t.RepairBytes), t.RepairShards),
		fmt.Sprintf("Rebalance   %s  %s of %s moved, %d shards", bar(t.RebalanceBytes-hs.RebalanceRemaining, t.RebalanceBytes),
			size(t.RebalanceBytes-hs.RebalanceRemaining), size(t.RebalanceBytes), t.RebalanceShards),
	}
	ids := slices.Sorted(maps.Keys(t.DrainingByNode))
	for _, id := range ids {
		lines = append(lines, "Drain       "+drainText(hs, id, t.DrainingByNode[id]))
	}
	if len(ids) == 0 {
		lines = append(lines, "Drain       no node is draining")
	}
	lines = append(lines,
		"Scrub       "+scrubText(sc),
		"GC          "+gcText(hs),
		"Seal        "+sealText(hs),
	)
	lines = append(append(lines, auditLines(&hs.Audit)...), "")
	if t.Waiting > 0 {
		lines = append(lines, fmt.Sprintf("Waiting:    %d shards wait for a node (down within its grace period, or none can take them)", t.Waiting))
	}
	if hs.FailedShards > 0 {
		lines = append(lines, fmt.Sprintf("Failed:     %d shards since the healer started (the leader's log says why; the next pass tries again)", hs.FailedShards))
	}
	lines = append(lines,
		fmt.Sprintf("Done:       %s rebuilt (%d shards), %s moved (%d shards) since the healer started",
			size(hs.RepairedBytes), hs.RepairedShards, size(hs.MovedBytes), hs.MovedShards),
		"Rate:       "+rateText(hs),
		"ETA:        "+etaText(hs),
	)
	return lines
}

// drainText is one draining node's progress in the latest pass: held is
// what the scan found on it.
func drainText(hs *adminapi.HealStatus, id string, held int64) string {
	if held == 0 {
		return fmt.Sprintf("%s  %s holds no shard any stripe references: it can be stopped (then storectl node remove %s)", bar(1, 1), id, id)
	}
	left := hs.DrainRemaining[id]
	return fmt.Sprintf("%s  %s: %d of %d shards moved off this pass", bar(held-left, held), id, held-left, held)
}

// screen shows a block of lines that refreshes: redrawn in place on a
// terminal, appended (with a blank line between) elsewhere.
type screen struct {
	w     io.Writer
	tty   bool
	shown int // lines of the block on a terminal
}

func newScreen(w io.Writer) *screen {
	f, ok := w.(*os.File)
	return &screen{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// show replaces the block shown with lines.
func (s *screen) show(lines []string) {
	var b strings.Builder
	switch {
	case s.tty && s.shown > 0:
		fmt.Fprintf(&b, "\033[%dA\033[J", s.shown) // up, and clear to the end
	case !s.tty && s.shown > 0:
		b.WriteString("\n")
	}
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\n")
	}
	s.shown = len(lines)
	_, _ = io.WriteString(s.w, b.String())
}

// scrubText says what the storage nodes' scrubs are doing: a bar over the
// passes in progress, or when every shard was last checked.
func scrubText(sc *adminapi.Scrub) string {
	if sc == nil {
		return "no answer from the storage nodes"
	}
	found := ""
	if sc.Corrupt > 0 || sc.Unreadable > 0 {
		found = fmt.Sprintf("; found %d corrupt (healing rebuilds them), %d unreadable", sc.Corrupt, sc.Unreadable)
	}
	if sc.Running > 0 {
		return fmt.Sprintf("%s  %d of %d nodes scrubbing%s", bar(int64(sc.Progress*1000), 1000), sc.Running, len(sc.Nodes), found)
	}
	if sc.CheckedSince.IsZero() {
		return "idle; not every node has finished a pass yet (storectl scrub start begins one)" + found
	}
	return "idle; every shard checked since " + stamp(sc.CheckedSince) + found
}

// gcText says what garbage collection did.
func gcText(hs *adminapi.HealStatus) string {
	return fmt.Sprintf("%d garbage chunks to collect; %d collected and %d stray shards deleted since the healer started",
		hs.GarbageChunks, hs.CollectedChunks, hs.StraysDeleted)
}

// auditLines say what the leader's auditor did: its rate, the audits by
// result, the ejection rule and what it did.
func auditLines(a *adminapi.HealAudit) []string {
	if a.RateLimit <= 0 {
		return []string{"Audits      off (storaged --audit-rate 0)"}
	}
	rate := strconv.FormatFloat(a.RateLimit, 'f', -1, 64)
	line := fmt.Sprintf("Audits      %s shards/s; since the healer started %d passed, %d missing, %d corrupt; %d unreachable and %d stale (not counted)",
		rate, a.Passed, a.Missing, a.Corrupt, a.Unreachable, a.Stale)
	if a.NoSum > 0 {
		line += fmt.Sprintf("; %d chunks without recorded sums skipped", a.NoSum)
	}
	rule := "never ejects (storaged --eject-threshold 0)"
	if a.EjectThreshold > 0 {
		rule = fmt.Sprintf("ejects a node whose recent checks hold at least %d failures, more than %s%% of them; %d ejected since the healer started (storectl node list shows each node's record)",
			a.EjectThreshold, strconv.FormatFloat(100*a.EjectRatio, 'f', -1, 64), a.Ejected)
	}
	lines := []string{line, "Ejection    " + rule}
	if a.Refusal != "" {
		lines = append(lines, "REFUSED:    "+a.Refusal)
	}
	return lines
}

// sealText says how much of the data is sealed, and what the seal
// migration has left.
func sealText(hs *adminapi.HealStatus) string {
	t := &hs.Tally
	s := fmt.Sprintf("%d of %d live stripes sealed", t.Sealed, t.Sealed+t.Unsealed)
	switch {
	case t.Unsealed == 0:
	case hs.SealMigration:
		s += fmt.Sprintf("; the seal migration has %d left (storectl seal status)", hs.UnsealedRemaining)
	default:
		s += "; storectl seal migrate seals the rest"
	}
	return s
}
