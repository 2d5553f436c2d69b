package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

func (a *app) keyCmd() *cobra.Command {
	c := group("key", "Create, list and delete S3 access keys",
		`Create, list and delete the S3 access keys that clients sign their
requests with (AWS Signature V4). A key's secret is shown once, when it is
created.`)
	var pol adminapi.KeyPolicy
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an access key and show its secret, once",
		Long: `Create an access key: an ID ("CAIRN" and 16 hex digits) and a secret of
40 hex digits, both random. The secret is shown now and never again.

Without --policy the key may do everything. --policy read-only allows GET
and HEAD requests only (reads, listings); read-write allows every request.
--bucket limits the key to one bucket (it may not list the buckets), and
--prefix, within it, to the object keys that start with the prefix
(listings must ask for a prefix under it; the bucket itself cannot be
created or deleted with the key). Anything else is answered 403
AccessDenied. A key's policy cannot be changed: delete the key and create
another.`,
		Example: `  storectl key create
  storectl key create --policy read-only --bucket photos
  storectl key create --policy read-write --bucket backups --prefix host1/
  storectl --json key create > key.json`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if pol.Access == "" && (pol.Bucket != "" || pol.Prefix != "") {
				return usagef(c, "--bucket and --prefix need a --policy (read-only or read-write)")
			}
			if pol.Prefix != "" && pol.Bucket == "" {
				return usagef(c, "--prefix needs a --bucket")
			}
			var p *adminapi.KeyPolicy
			if pol.Access != "" {
				p = &pol
			}
			return a.runKeyCreate(c, p)
		},
	}
	create.Flags().StringVar(&pol.Access, "policy", "", "what the key may do: read-only or read-write (default: everything, in every bucket)")
	create.Flags().StringVar(&pol.Bucket, "bucket", "", "the only bucket the key may use (with --policy)")
	create.Flags().StringVar(&pol.Prefix, "prefix", "", "the only object keys the key may use, in --bucket: those that start with this")
	c.AddCommand(
		create,
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

func (a *app) runKeyCreate(c *cobra.Command, pol *adminapi.KeyPolicy) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	k, err := cl.CreateKey(ctx, pol)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(k)
	}
	_, err = fmt.Fprintf(a.stdout, "Access key ID:      %s\nSecret access key:  %s\nPolicy:             %s\n\nThe secret is shown only this once: store it now.\n", k.ID, k.Secret, policyText(k.Policy))
	return err
}

// policyText describes a key's policy in a few words.
func policyText(p *adminapi.KeyPolicy) string {
	if p == nil {
		return "everything, in every bucket"
	}
	s := p.Access
	switch {
	case p.Bucket == "":
		s += ", every bucket"
	case p.Prefix == "":
		s += ", bucket " + p.Bucket
	default:
		s += ", bucket " + p.Bucket + ", keys under " + strconv.Quote(p.Prefix)
	}
	return s
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
	t := newTable(a.stdout, "ACCESS KEY ID", "CREATED", "POLICY")
	for _, k := range ks {
		t.row(k.ID, stamp(k.Created), policyText(k.Policy))
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
