package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) bucketCmd() *cobra.Command {
	c := group("bucket", "Create, list and delete buckets",
		`Create, list and delete buckets. Bucket names follow S3's rules: 3 to 63
lowercase letters, digits, '.' and '-', starting and ending with a letter
or digit.`)
	c.AddCommand(
		&cobra.Command{
			Use:     "create NAME",
			Short:   "Create a bucket",
			Long:    "Create a bucket. It is an error if it exists.",
			Example: "  storectl bucket create photos",
			Args:    exactArgs("NAME"),
			RunE:    func(c *cobra.Command, args []string) error { return a.runBucketCreate(c, args[0]) },
		},
		&cobra.Command{
			Use:     "list",
			Short:   "List the buckets",
			Long:    "List the buckets with their creation times.",
			Example: "  storectl bucket list",
			Args:    exactArgs(),
			RunE:    func(c *cobra.Command, _ []string) error { return a.runBucketList(c) },
		},
		&cobra.Command{
			Use:     "delete NAME",
			Short:   "Delete an empty bucket",
			Long:    "Delete a bucket. It must be empty: no objects and no multipart uploads in progress.",
			Example: "  storectl bucket delete photos",
			Args:    exactArgs("NAME"),
			RunE:    func(c *cobra.Command, args []string) error { return a.runBucketDelete(c, args[0]) },
		},
	)
	return c
}

func (a *app) runBucketCreate(c *cobra.Command, name string) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	b, err := cl.CreateBucket(ctx, name)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(b)
	}
	_, err = fmt.Fprintf(a.stdout, "Bucket %s created.\n", b.Name)
	return err
}

func (a *app) runBucketList(c *cobra.Command) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	bs, err := cl.Buckets(ctx)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(bs)
	}
	if len(bs) == 0 {
		_, err := fmt.Fprintln(a.stdout, "No buckets.")
		return err
	}
	t := newTable(a.stdout, "NAME", "CREATED")
	for _, b := range bs {
		t.row(b.Name, stamp(b.Created))
	}
	return t.flush()
}

func (a *app) runBucketDelete(c *cobra.Command, name string) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := cl.DeleteBucket(ctx, name); err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(map[string]string{"deleted": name})
	}
	_, err = fmt.Fprintf(a.stdout, "Bucket %s deleted.\n", name)
	return err
}
