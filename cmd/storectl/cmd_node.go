package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) nodeCmd() *cobra.Command {
	c := group("node", "List, approve, drain and remove storage nodes",
		`List the cluster's nodes, admit storage nodes into the layout, and take
them out of it.

The layout is the set of storage nodes that placement puts shards on.
In approval mode a new storage node joins gossip but takes no data until
an operator approves it. To take out a live node, drain it: healing moves
its shards to the other nodes while it keeps serving them, then it can be
stopped and removed. A removed node takes no new shards, and healing
rebuilds the shards it held on other nodes from the rest of each stripe:
that is how a dead node is replaced.`)
	var drain nodeDrainOptions
	drainCmd := &cobra.Command{
		Use:   "drain ID",
		Short: "Move every shard off a live storage node, then say when it can stop",
		Long: `Mark a storage node draining in a new layout version: it takes no new
shards and keeps serving the ones it holds while healing copies them to the
nodes the layout now places them on, records each move, and only then
deletes the old copy. Reads go on throughout.

Unless --no-wait (or --json) is given, storectl then follows the drain with
a progress bar of the shards moved off the node, until a heal pass finds
that no stripe references it: then it says that the node can be stopped,
after which storectl node remove ID takes it out of the layout. Ctrl-C
stops following; the drain goes on (storectl heal status shows it).

Only an alive node can be drained (nothing could read a dead node's
shards): remove a dead node instead, and healing rebuilds its shards. The
last node that takes data cannot be drained. Draining a node that drains
already changes nothing, and follows it again.`,
		Example: "  storectl node drain node-3\n  storectl node drain --no-wait node-3 && storectl heal status --watch",
		Args:    exactArgs("ID"),
		RunE:    func(c *cobra.Command, args []string) error { return a.runNodeDrain(c, args[0], drain) },
	}
	drainCmd.Flags().BoolVar(&drain.noWait, "no-wait", false, "start the drain and return, without following it")
	c.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the nodes: gossip's members and the layout's nodes",
			Long: `List every node: gossip's members (storage, gateway and meta nodes) and the
layout's storage nodes, with their zone, roles, weight, liveness, place in
the layout (in, draining, removed, EJECTED by the auditor, PENDING
approval), disk usage, and each storage node's audit record.

The metadata leader audits random shards continually (storaged
--audit-rate): it reads each from its node and checks it against the sum
recorded when it was written. AUDITS counts the audits of a node, FAILED
those that found the shard missing or corrupt, LIES the reads that caught
it returning wrong bytes as good ones; REPUTATION is the share of its
recent checks that passed. A node whose recent checks hold at least
storaged --eject-threshold failures, more than 2% of them, is ejected: taken
out of the layout as node remove does, its shards rebuilt elsewhere; the
list says why. Approving it again (node approve) starts its reputation
afresh.`,
			Example: "  storectl node list\n  storectl --json node list",
			Args:    exactArgs(),
			RunE:    func(c *cobra.Command, _ []string) error { return a.runNodeList(c) },
		},
		&cobra.Command{
			Use:   "approve ID",
			Short: "Admit an alive storage node into the layout",
			Long: `Admit a storage node into the layout, as a new layout version: it starts
taking new shards. The node must be alive in gossip and announce the
storage role; a node removed earlier is taken back.`,
			Example: "  storectl node approve node-7",
			Args:    exactArgs("ID"),
			RunE:    func(c *cobra.Command, args []string) error { return a.runNodeChange(c, args[0], true) },
		},
		&cobra.Command{
			Use:   "remove ID",
			Short: "Take a storage node out of the layout",
			Long: `Mark a storage node removed in a new layout version: it takes no new
shards and is not admitted again unless approved. Healing counts the shards
it held as lost and rebuilds them on other nodes from the rest of each
stripe (repair starts within seconds: storectl heal status --watch follows
it); this is how a dead node is replaced. To take out a live node without
rebuilding its shards, drain it first (storectl node drain ID).
The last node that takes data cannot be removed.`,
			Example: "  storectl node remove node-3",
			Args:    exactArgs("ID"),
			RunE:    func(c *cobra.Command, args []string) error { return a.runNodeChange(c, args[0], false) },
		},
		drainCmd,
		a.nodeInviteCmd(),
	)
	return c
}

func (a *app) runNodeList(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	nodes, err := cl.Nodes(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(nodes)
	}
	return nodeTable(a.stdout, nodes, true)
}

func (a *app) runNodeChange(c *cobra.Command, id string, approve bool) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	call, done := cl.Remove, "removed from the layout: it takes no new shards, and healing rebuilds the shards it held on other nodes (storectl heal status --watch follows it)"
	if approve {
		call, done = cl.Approve, "approved: it takes new shards"
	}
	ch, err := call(ctx, id)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(ch)
	}
	_, err = fmt.Fprintf(a.stdout, "Node %s %s (layout version %d).\n", ch.Node, done, ch.LayoutVersion)
	return err
}
