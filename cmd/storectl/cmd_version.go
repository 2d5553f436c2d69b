package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"cairn/internal/version"
)

func (a *app) versionCmd() *cobra.Command {
	var clientOnly bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Show storectl's version and the version each node of the cluster runs",
		Long: `Show storectl's version (the version, the commit it was built from, the
Go version and platform), then every node of the cluster with the version
it announces, as the admin API's node list gives them (a node too old to
announce one shows "unknown"). --client shows storectl's alone, without
asking the cluster.`,
		Example: `  storectl version
  storectl version --client
  storectl --json version`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error { return a.runVersion(c, clientOnly) },
	}
	c.Flags().BoolVar(&clientOnly, "client", false, "show storectl's version only")
	return c
}

// versionReport is storectl version's --json answer.
type versionReport struct {
	Client version.Info  `json:"client"`
	Nodes  []nodeVersion `json:"nodes,omitempty"`
}

type nodeVersion struct {
	ID      string   `json:"id"`
	Zone    string   `json:"zone"`
	Roles   []string `json:"roles"`
	Gossip  string   `json:"gossip"`
	Version string   `json:"version"`
}

func (a *app) runVersion(c *cobra.Command, clientOnly bool) error {
	rep := versionReport{Client: version.Get()}
	if clientOnly {
		if a.json {
			return a.printJSON(rep)
		}
		fmt.Fprintln(a.stdout, "storectl", rep.Client)
		return nil
	}
	if !a.json {
		// storectl's own line first: it holds also when the cluster
		// cannot be asked.
		fmt.Fprintln(a.stdout, "storectl", rep.Client)
	}
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	nodes, err := cl.Nodes(ctx)
	if err != nil {
		return a.failed(err)
	}
	for _, n := range nodes {
		v := n.Version
		if v == "" {
			v = "unknown"
		}
		rep.Nodes = append(rep.Nodes, nodeVersion{ID: n.ID, Zone: n.Zone, Roles: n.Roles, Gossip: n.Gossip, Version: v})
	}
	if a.json {
		return a.printJSON(rep)
	}
	fmt.Fprintln(a.stdout)
	t := newTable(a.stdout, "NODE", "ZONE", "ROLES", "STATUS", "VERSION")
	for _, n := range rep.Nodes {
		t.row(n.ID, zoneName(n.Zone), strings.Join(n.Roles, ","), n.Gossip, n.Version)
	}
	return t.flush()
}
