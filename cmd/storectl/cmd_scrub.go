package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

func (a *app) scrubCmd() *cobra.Command {
	c := group("scrub", "Start a scrub pass on every storage node, and follow the scrubs",
		`Every storage node scrubs the shards it holds: it re-reads each one from
its disk and checks it, a pass every storaged --scrub-interval (a week by
default), paced to end within the interval. A shard found corrupt is
quarantined: the node no longer holds it, and the next heal pass rebuilds
it from the rest of its stripe. A shard that cannot be read (an I/O error)
is counted and kept.`)
	c.AddCommand(
		&cobra.Command{
			Use:   "start",
			Short: "Start a full scrub pass on every live storage node now",
			Long: `Ask every live storage node to begin a full scrub pass now, at its
highest scrub rate (64 MiB/s by default), in place of the pass in
progress; print which nodes started one. It does not wait for the passes:
storectl scrub status follows them. A node already running a pass asked
for this way goes on with it. Exit status 1 if a live storage node did not
take the request.`,
			Example: "  storectl scrub start\n  storectl --json scrub start",
			Args:    exactArgs(),
			RunE:    func(c *cobra.Command, _ []string) error { return a.runScrubStart(c) },
		},
		&cobra.Command{
			Use:   "status",
			Short: "Show every storage node's scrub: the pass in progress, the latest, the next",
			Long: `Show each storage node's scrub: whether a pass runs (and whether it was
asked for), its progress and read rate, the bytes and shards it checked and
what it found corrupt or unreadable (the latest pass's, running or done),
when the latest complete pass ended and when the next begins; then a
summary: the running passes' combined progress, the corrupt and unreadable
shards the latest passes found, and since when every shard was checked.`,
			Example: "  storectl scrub status\n  storectl --json scrub status | jq .checked_since",
			Args:    exactArgs(),
			RunE:    func(c *cobra.Command, _ []string) error { return a.runScrubStatus(c) },
		},
	)
	return c
}

func (a *app) runScrubStart(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	st, err := cl.StartScrub(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		if err := a.printJSON(st); err != nil {
			return err
		}
	} else if err := scrubStartTable(a.stdout, st); err != nil {
		return err
	}
	var failed []string
	for _, n := range st.Nodes {
		if n.Error != "" {
			failed = append(failed, n.Node)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("no scrub started on %s", strings.Join(failed, ", "))
	}
	if len(st.Nodes) == 0 {
		return errors.New("the cluster has no storage node to scrub")
	}
	return nil
}

func scrubStartTable(w io.Writer, st *adminapi.ScrubStart) error {
	t := newTable(w, "NODE", "ZONE", "RESULT")
	started := 0
	for _, n := range st.Nodes {
		var r string
		switch {
		case n.Started:
			r = "started"
			started++
		case n.Running:
			r = "running already (a pass asked for earlier goes on)"
		case n.Down:
			r = "DOWN: not asked"
		default:
			r = "ERROR: " + n.Error
		}
		t.row(n.Node, zoneName(n.Zone), r)
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nA pass started on %d of %d storage nodes; follow them with storectl scrub status.\n", started, len(st.Nodes))
	return err
}

func (a *app) runScrubStatus(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	sc, err := cl.ScrubStatus(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(sc)
	}
	return scrubTable(a.stdout, sc)
}

// scrubTable prints each node's scrub, then the summary and the nodes
// that did not answer.
func scrubTable(w io.Writer, sc *adminapi.Scrub) error {
	t := newTable(w, "NODE", "ZONE", "PASS", "PROGRESS", "RATE", "CHECKED", "SHARDS", "CORRUPT", "UNREADABLE", "LAST-ENDED", "NEXT")
	var errs []string
	for _, n := range sc.Nodes {
		st := n.Scrub
		switch {
		case n.Down:
			t.row(n.Node, zoneName(n.Zone), "DOWN", "", "", "", "", "", "", "", "")
			continue
		case st == nil:
			t.row(n.Node, zoneName(n.Zone), "ERROR", "", "", "", "", "", "", "", "")
			errs = append(errs, n.Node+": "+n.Error)
			continue
		}
		pass, progress, rate := "idle", "", ""
		if st.Requested {
			pass = "asked for"
		}
		latest := st.Last
		if p := st.Current; p != nil {
			latest = p
			pass = "running"
			if p.Requested {
				pass = "running (asked for)"
			}
			progress = percent(p.Progress)
			rate = size(p.Rate) + "/s"
		}
		checked, shards, corrupt, unreadable := "", "", "", ""
		if latest != nil {
			checked, shards = size(latest.Bytes), strconv.FormatInt(latest.Shards, 10)
			corrupt, unreadable = strconv.FormatInt(latest.Corrupt, 10), strconv.FormatInt(latest.Unreadable, 10)
		}
		var ended string
		if st.Last != nil {
			ended = stamp(st.Last.Ended)
		}
		t.row(n.Node, zoneName(n.Zone), pass, progress, rate, checked, shards, corrupt, unreadable, ended, stamp(st.Next))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if sc.Running > 0 {
		fmt.Fprintf(w, "Running:      %d of %d storage nodes, %s done\n", sc.Running, len(sc.Nodes), percent(sc.Progress))
	}
	fmt.Fprintf(w, "Found:        %d corrupt (quarantined; healing rebuilds them), %d unreadable, by the latest passes\n", sc.Corrupt, sc.Unreadable)
	if sc.CheckedSince.IsZero() {
		fmt.Fprintln(w, "Checked:      not every storage node has completed a pass yet")
	} else {
		fmt.Fprintf(w, "Checked:      every shard since %s (%s ago)\n", stamp(sc.CheckedSince), time.Since(sc.CheckedSince).Round(time.Second))
	}
	for _, e := range errs {
		fmt.Fprintln(w, "ERROR:", e)
	}
	return nil
}

// percent shows a fraction as a whole percentage, rounded down (so that
// 100% means done).
func percent(f float64) string {
	return strconv.Itoa(int(f*100)) + "%"
}
