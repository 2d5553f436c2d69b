package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

// healStatusOptions are heal status's flags.
type healStatusOptions struct {
	watch bool
}

func (a *app) healCmd() *cobra.Command {
	c := group("heal", "Show and start healing: repair, rebalance, drain",
		`Healing keeps every stripe whole and where the layout wants it. The
metadata leader runs it: repair rebuilds the shards a stripe lacks from the
others, rebalance and drain move shards to the nodes the current layout
places them on (copy, record, then delete the old copy). It passes over the
chunk table every 30 s (storaged --heal-interval), at once when the layout
changes, and when asked (heal kick); its writes are bounded by storaged
--repair-rate. Any node answers for the leader.

Heal status also shows the storage nodes' scrubs (storectl scrub status
has each node's) and what garbage collection did: it runs in every heal
pass, deleting the shards of chunks unreferenced for storaged --gc-grace.`)
	var o healStatusOptions
	status := &cobra.Command{
		Use:   "status",
		Short: "Show repair, rebalance and drain progress",
		Long: `Show what the latest heal pass found and how far healing has got: the
stripes by health (healthy, missing 1 ... m shards, unreadable: fewer than k
left), a progress bar for repair (bytes to rebuild) and rebalance (bytes to
move), one per draining node (its shards moved off), the storage nodes'
scrub, garbage collection, what waits for a node, the rate, and the time to
healthy.

The figures are the leader's cairn_heal_* metrics (docs/metrics.md). With
--watch it refreshes every second until the cluster is healthy or you
interrupt it (Ctrl-C); with --json it prints the API's answer (one line per
refresh with --watch).`,
		Example: "  storectl heal status\n  storectl heal status --watch\n  storectl --json heal status | jq .tally",
		Args:    exactArgs(),
		RunE:    func(c *cobra.Command, _ []string) error { return a.runHealStatus(c, o) },
	}
	status.Flags().BoolVarP(&o.watch, "watch", "w", false, "refresh every second until healthy or interrupted")
	c.AddCommand(status, &cobra.Command{
		Use:   "kick",
		Short: "Start a heal pass now",
		Long: `Ask the metadata leader's healer for a pass over the chunk table now,
rather than at its next interval. It does not wait for the pass: follow it
with storectl heal status --watch.`,
		Example: "  storectl heal kick",
		Args:    exactArgs(),
		RunE:    func(c *cobra.Command, _ []string) error { return a.runHealKick(c) },
	})
	return c
}

func (a *app) runHealStatus(c *cobra.Command, o healStatusOptions) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	if !o.watch {
		hs, err := cl.HealStatus(ctx)
		if err != nil {
			return a.failed(err)
		}
		if a.json {
			return a.printJSON(hs)
		}
		newScreen(a.stdout).show(healLines(hs, a.scrub(ctx, cl)))
		return nil
	}
	scr := newScreen(a.stdout)
	return a.follow(c, cl, func(hs *adminapi.HealStatus, err error) (bool, error) {
		switch {
		case err != nil:
			if !a.json {
				scr.show([]string{"No answer, trying again: " + err.Error()})
			}
			return false, nil
		case a.json:
			b, err := json.Marshal(hs)
			if err != nil {
				return true, err
			}
			_, err = fmt.Fprintf(a.stdout, "%s\n", b)
			return hs.Healthy, err
		}
		scr.show(append(healLines(hs, a.scrub(c.Context(), cl)), "", "Updated "+stamp(time.Now())+"; Ctrl-C to stop watching"))
		return hs.Healthy, nil
	})
}

// follow asks for the heal status every a.every (and at once), and hands
// each answer to step until it says done, the command's context ends (an
// interrupt: not an error), or the calls fail for longer than --timeout.
func (a *app) follow(c *cobra.Command, cl *adminapi.Client, step func(*adminapi.HealStatus, error) (done bool, err error)) error {
	return poll(a, c, "heal status", cl.HealStatus, step)
}

func (a *app) runHealKick(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := cl.Kick(ctx); err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(struct {
			Kicked bool `json:"kicked"`
		}{true})
	}
	_, err = fmt.Fprintln(a.stdout, "A heal pass starts now (storectl heal status --watch follows it).")
	return err
}

// scrub returns the storage nodes' scrub, or nil when they do not answer
// within the timeout (heal status shows what it has).
func (a *app) scrub(ctx context.Context, cl *adminapi.Client) *adminapi.Scrub {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	sc, err := cl.ScrubStatus(ctx)
	if err != nil {
		return nil
	}
	return sc
}
