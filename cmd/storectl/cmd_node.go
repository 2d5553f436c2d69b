package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) nodeCmd() *cobra.Command {
	c := group("node", "List, approve and remove storage nodes",
		`List the cluster's nodes, admit storage nodes into the layout, and take
them out of it.

The layout is the set of storage nodes that placement puts shards on.
In approval mode a new storage node joins gossip but takes no data until
an operator approves it; a removed node takes no new shards, and stripes
already placed on it are still read from it while it is up.`)
	c.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the nodes: gossip's members and the layout's nodes",
			Long: `List every node: gossip's members (storage, gateway and meta nodes) and the
layout's storage nodes, with their zone, roles, weight, liveness, place in
the layout (in, removed, PENDING approval) and disk usage.`,
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
shards and is not admitted again unless approved. Stripes placed under
earlier versions still name it, and are read from it while it is up.
The last node that takes data cannot be removed.`,
			Example: "  storectl node remove node-3",
			Args:    exactArgs("ID"),
			RunE:    func(c *cobra.Command, args []string) error { return a.runNodeChange(c, args[0], false) },
		},
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
	return nodeTable(a.stdout, nodes)
}

func (a *app) runNodeChange(c *cobra.Command, id string, approve bool) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	call, done := cl.Remove, "removed from the layout: it takes no new shards"
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
