package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

// nodeDrainOptions are node drain's flags.
type nodeDrainOptions struct {
	noWait bool
}

func (a *app) runNodeDrain(c *cobra.Command, id string, o nodeDrainOptions) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	ch, err := cl.Drain(ctx, id)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(ch)
	}
	fmt.Fprintf(a.stdout, "Node %s is draining (layout version %d): it takes no new shards, and serves its shards while healing moves them off.\n",
		ch.Node, ch.LayoutVersion)
	if o.noWait {
		_, err := fmt.Fprintf(a.stdout, "Follow it with storectl heal status --watch; once no stripe references %s, stop it, then storectl node remove %s.\n", id, id)
		return err
	}
	d := &drainWatch{a: a, cl: cl, id: id, version: ch.LayoutVersion, scr: newScreen(a.stdout)}
	return a.follow(c, cl, d.step)
}

// drainWatch follows one node's drain through the heal status.
type drainWatch struct {
	a       *app
	cl      *adminapi.Client
	id      string
	version uint64 // the layout version that drains the node
	scr     *screen
	total   int64  // the most shards a pass found on the node
	kicked  uint64 // the pass count at the last kick
}

// step shows one heal status: done once a pass under the drain's layout
// found no shard on the node.
func (d *drainWatch) step(hs *adminapi.HealStatus, err error) (bool, error) {
	if err != nil {
		d.scr.show([]string{"No heal status, trying again: " + err.Error()})
		return false, nil
	}
	idle := !hs.Scanning && !hs.Healing
	if hs.Passes == 0 || hs.LayoutVersion < d.version {
		d.kick(hs, idle)
		d.scr.show([]string{fmt.Sprintf("%s  waiting for a heal pass under layout version %d (the latest was under %d)", bar(0, 1), d.version, hs.LayoutVersion)})
		return false, nil
	}
	held, ok := hs.Tally.DrainingByNode[d.id]
	if !ok {
		return true, fmt.Errorf("node %s is no longer draining in layout version %d (was it removed or approved again?); see storectl node list", d.id, hs.LayoutVersion)
	}
	if held == 0 {
		d.scr.show([]string{bar(1, 1)})
		_, err := fmt.Fprintf(d.a.stdout, "Node %s holds no shard any stripe references: it can be stopped (then storectl node remove %s).\n", d.id, d.id)
		return true, err
	}
	d.total = max(d.total, held)
	left := hs.DrainRemaining[d.id]
	line := fmt.Sprintf("%s %d of %d shards moved off %s", bar(d.total-left, d.total), d.total-left, d.total, d.id)
	switch {
	case left == 0 || idle:
		line += "; checking with a new heal pass"
	case hs.Rate > 0:
		line += "; " + rateText(hs)
	}
	if hs.Tally.Waiting > 0 {
		line += fmt.Sprintf("; %d shards wait for a node to take them", hs.Tally.Waiting)
	}
	d.scr.show([]string{line})
	d.kick(hs, idle)
	return false, nil
}

// kick asks for the next pass once the latest has ended, so that the
// drain is checked, and goes on, without waiting out the heal interval.
func (d *drainWatch) kick(hs *adminapi.HealStatus, idle bool) {
	if !idle || hs.Passes <= d.kicked && d.kicked != 0 {
		return
	}
	d.kicked = max(hs.Passes, 1)
	ctx, cancel := context.WithTimeout(context.Background(), d.a.timeout)
	defer cancel()
	_ = d.cl.Kick(ctx) // the healer also passes at its interval
}
