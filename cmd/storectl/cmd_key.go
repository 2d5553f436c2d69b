package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) keyCmd() *cobra.Command {
	c := group("key", "Create, list and delete S3 access keys",
		`Create, list and delete the S3 access keys that clients sign their
requests with (AWS Signature V4). A key's secret is shown once, when it is
created.`)
	c.AddCommand(
		&cobra.Command{
			Use:   "create",
			Short: "Create an access key and show its secret, once",
			Long: `Create an access key: an ID ("CAIRN" and 16 hex digits) and a secret of
40 hex digits, both random. The secret is shown now and never again.`,
			Example: `  storectl key create
  storectl --json key create > key.json`,
			Args: exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error { return a.runKeyCreate(c) },
		},
		&cobra.Command{
			Use:     "list",
			Short:   "List the access keys (without secrets)",
			Long:    "List the access key IDs with their creation times. Secrets are not shown.",
			Example: "  storectl key list",
			Args:    exactArgs(),
			RunE:    func(c *cobra.Command, _ []string) error { return a.runKeyList(c) },
		},
		&cobra.Command{
			Use:     "delete ID",
			Short:   "Delete an access key",
			Long:    "Delete an access key: requests signed with it are refused from then on.",
			Example: "  storectl key delete CAIRN0123456789ABCDEF",
			Args:    exactArgs("ID"),
			RunE:    func(c *cobra.Command, args []string) error { return a.runKeyDelete(c, args[0]) },
		},
	)
	return c
}

func (a *app) runKeyCreate(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	k, err := cl.CreateKey(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(k)
	}
	_, err = fmt.Fprintf(a.stdout, "Access key ID:      %s\nSecret access key:  %s\n\nThe secret is shown only this once: store it now.\n", k.ID, k.Secret)
	return err
}

func (a *app) runKeyList(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	ks, err := cl.Keys(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(ks)
	}
	if len(ks) == 0 {
		_, err := fmt.Fprintln(a.stdout, "No access keys.")
		return err
	}
	t := newTable(a.stdout, "ACCESS KEY ID", "CREATED")
	for _, k := range ks {
		t.row(k.ID, stamp(k.Created))
	}
	return t.flush()
}

func (a *app) runKeyDelete(c *cobra.Command, id string) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := cl.DeleteKey(ctx, id); err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(map[string]string{"deleted": id})
	}
	_, err = fmt.Fprintf(a.stdout, "Access key %s deleted.\n", id)
	return err
}
