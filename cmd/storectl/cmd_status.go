package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the cluster: layout, nodes, zones, capacity, stripe health and warnings",
		Long: `Show the cluster as the node asked sees it: the layout version, the
stripe shape of new writes (k data + m parity shards), every node (gossip's
members and the layout's nodes) with its zone, roles, weight, liveness and
disk usage, a summary per zone, the totals, the stripes by health, and
warnings: nodes down, draining or waiting for approval, too few nodes or
zones for the stripe shape, unreadable stripes.

A node marked DOWN is not alive in gossip; PENDING is an alive storage
node waiting for "storectl node approve"; draining is a node whose shards
healing moves off (storectl node drain).

The Stripes section is the metadata leader's latest heal pass: stripes
healthy, missing 1 ... m shards (still readable), and unreadable (fewer
than k left); the bytes waiting for repair (to rebuild) and for rebalance
(to move, drains included), as that pass found them and what is left; the
current heal rate, and the time to healthy at that rate. storectl heal
status shows the same with progress bars.`,
		Example: `  storectl --token-file ./data/admin-token status
  storectl --json status`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error { return a.runStatus(c) },
	}
}

func (a *app) runStatus(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	st, err := cl.Status(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(st)
	}
	w := a.stdout
	version := strconv.FormatUint(st.LayoutVersion, 10)
	if st.LayoutError != "" {
		version = "unknown"
	} else if st.LayoutVersion == 0 {
		version = "none yet"
	}
	fmt.Fprintf(w, "Layout version:  %s\n", version)
	fmt.Fprintf(w, "Stripe shape:    %d+%d (%d data + %d parity shards; a stripe survives the loss of %d)\n\n", st.K, st.M, st.K, st.M, st.M)
	if err := nodeTable(w, st.Nodes, false); err != nil {
		return err
	}
	fmt.Fprintln(w)
	zt := newTable(w, "ZONE", "NODES", "ALIVE", "WEIGHT", "CAPACITY", "USED", "FREE")
	for _, z := range st.Zones {
		zt.row(zoneName(z.Name), strconv.Itoa(z.Nodes), strconv.Itoa(z.Alive), weight(z.Weight), size(z.Capacity), size(z.Used), size(z.Free))
	}
	if err := zt.flush(); err != nil {
		return err
	}
	t := st.Totals
	fmt.Fprintf(w, "\nTotal: %s capacity, %s used, %s free, %d shards\n\n", size(t.Capacity), size(t.Used), size(t.Free), t.Shards)
	if err := stripesSection(w, st.Heal, st.HealError, st.M); err != nil {
		return err
	}
	if len(st.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, warn := range st.Warnings {
		fmt.Fprintln(w, "WARNING:", warn)
	}
	return nil
}

// nodeTable prints nodes, then the errors of those that did not answer;
// with audits, each storage node's audit record too.
func nodeTable(w io.Writer, nodes []adminapi.Node, audits bool) error {
	header := []string{"ID", "ZONE", "ROLES", "WEIGHT", "STATUS", "LAYOUT", "CAPACITY", "USED", "FREE", "SHARDS"}
	if audits {
		header = append(header, "AUDITS", "FAILED", "LIES", "REPUTATION", "LAST-FAILURE")
	}
	t := newTable(w, header...)
	var errs []string
	for _, n := range nodes {
		status := n.Gossip
		if n.Down {
			status = "DOWN (" + n.Gossip + ")"
		}
		layout := ""
		switch {
		case n.Draining:
			layout = "draining"
		case n.InLayout:
			layout = "in"
		case n.Removed && n.Audit != nil && n.Audit.Ejected:
			layout = "EJECTED"
		case n.Removed:
			layout = "removed"
		case n.Pending:
			layout = "PENDING"
		}
		capacity, used, free, shards := "", "", "", ""
		if u := n.Usage; u != nil {
			capacity, used, free, shards = size(u.Capacity), size(u.Used), size(u.Free), strconv.FormatInt(u.Shards, 10)
		} else if n.Error != "" {
			capacity, used, free, shards = "?", "?", "?", "?"
			errs = append(errs, fmt.Sprintf("%s did not report its usage: %s", n.ID, n.Error))
		}
		row := []string{n.ID, zoneName(n.Zone), strings.Join(n.Roles, ","), weight(n.Weight), status, layout, capacity, used, free, shards}
		if audits {
			row = append(row, auditCells(n.Audit)...)
		}
		t.row(row...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(w, "ERROR:", e)
	}
	for _, n := range nodes {
		if audits && n.Audit != nil && n.Audit.Ejected {
			fmt.Fprintf(w, "EJECTED: %s at %s: %s\n", n.ID, stamp(n.Audit.EjectedAt), n.Audit.EjectReason)
		}
	}
	return nil
}

// auditCells are a node's AUDITS, FAILED, LIES, REPUTATION and
// LAST-FAILURE: blank for a node never audited.
func auditCells(a *adminapi.NodeAudit) []string {
	if a == nil {
		return []string{"", "", "", "", ""}
	}
	rep := strconv.FormatFloat(100*a.Reputation, 'f', 1, 64) + "%"
	if a.RecentChecks == 0 {
		rep = ""
	}
	if a.Ejected {
		rep = "EJECTED " + rep
	}
	failed := strconv.FormatInt(a.Failed, 10)
	if a.Failed > 0 {
		failed = fmt.Sprintf("%d (%d missing, %d corrupt)", a.Failed, a.Missing, a.Corrupt)
	}
	return []string{strconv.FormatInt(a.Passed+a.Failed, 10), failed, strconv.FormatInt(a.Lies, 10), strings.TrimSpace(rep), stamp(a.LastFailure)}
}

func zoneName(z string) string {
	if z == "" {
		return "(default)"
	}
	return z
}
