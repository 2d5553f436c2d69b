package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) nodeInviteCmd() *cobra.Command {
	var zone, nodeID string
	var expires time.Duration
	c := &cobra.Command{
		Use:   "invite --zone ZONE",
		Short: "Make a join token for a contributor's storage node",
		Long: `Make a join invite for a storage node that someone else runs (a
contributor): it prints the storaged command line the contributor runs,
with the token. On its first start the node makes its own key pair and
enrolls through a gateway: the cluster CA gives it a certificate bound to
its node ID, the storage role and ZONE (the node cannot choose another
zone), and it joins gossip. It never receives the cluster secret, the admin
token, the sealing key or any S3 key: it can store, serve and delete the
shards the tenant's nodes ask it to, and nothing else.

A token enrolls one node, once, before it expires (--expires, 24h by
default, at most 30 days). storectl node remove ID revokes the node's
certificate.`,
		Example: "  storectl node invite --zone lyon\n  storectl node invite --zone lyon --expires 2h --node-id alice-1",
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			cl, ctx, cancel, err := a.client(c)
			if err != nil {
				return err
			}
			defer cancel()
			inv, err := cl.NewInvite(ctx, zone, nodeID, expires)
			if err != nil {
				return a.failed(err)
			}
			if a.json {
				return a.printJSON(inv)
			}
			_, err = fmt.Fprintf(a.stdout, "Invite for one storage node in zone %s, valid until %s.\nThe contributor runs (with its own directories and addresses):\n\n  %s\n",
				inv.Zone, inv.Expires.Local().Format(time.RFC1123), inv.Command)
			return err
		},
	}
	c.Flags().StringVar(&zone, "zone", "", "the zone (failure domain) the node will be in (required)")
	c.Flags().DurationVar(&expires, "expires", 24*time.Hour, "how long the token can be used")
	c.Flags().StringVar(&nodeID, "node-id", "", "the node's ID (default: the joiner picks a random one)")
	_ = c.MarkFlagRequired("zone")
	return c
}
