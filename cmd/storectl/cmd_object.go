package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func (a *app) objectCmd() *cobra.Command {
	c := group("object", "Inspect objects", "Inspect objects: their chunks, stripes and shards.")
	c.AddCommand(&cobra.Command{
		Use:   "stat BUCKET KEY",
		Short: "Show an object's chunks and where each shard is",
		Long: `Show an object's metadata and, for each chunk, its CID, size and stripe
(k+m under a layout version), and for each shard its role, the node and
zone placement gives it, whether that node has it (PRESENT yes, NO, or ?
when the node could not be asked), and its CID.

KEY is the object key as is: slashes, spaces and any other characters
(quote it for the shell).`,
		Example: `  storectl object stat photos 2024/cat.jpg
  storectl object stat photos 'holiday pics/ünï.png'
  storectl --json object stat photos cat.jpg`,
		Args: exactArgs("BUCKET", "KEY"),
		RunE: func(c *cobra.Command, args []string) error { return a.runObjectStat(c, args[0], args[1]) },
	})
	return c
}

func (a *app) runObjectStat(c *cobra.Command, bucket, key string) error {
	cl, ctx, cancel, err := a.client(c)
	if err != nil {
		return err
	}
	defer cancel()
	o, err := cl.ObjectStat(ctx, bucket, key)
	if err != nil {
		return a.failed(err)
	}
	if a.json {
		return a.printJSON(o)
	}
	w := a.stdout
	fmt.Fprintf(w, "Bucket:        %s\n", o.Bucket)
	fmt.Fprintf(w, "Key:           %s\n", o.Key)
	fmt.Fprintf(w, "Size:          %s (%d bytes)\n", size(o.Size), o.Size)
	fmt.Fprintf(w, "ETag:          %s\n", o.ETag)
	fmt.Fprintf(w, "CID:           %s\n", o.CID)
	fmt.Fprintf(w, "Modified:      %s\n", stamp(o.Modified))
	if o.ContentType != "" {
		fmt.Fprintf(w, "Content-Type:  %s\n", o.ContentType)
	}
	fmt.Fprintf(w, "Chunks:        %d\n", len(o.Chunks))
	var present, missing, unknown int
	var warnings []string
	for _, ch := range o.Chunks {
		if ch.Inline {
			fmt.Fprintf(w, "\nChunk %d  %s  %s at offset %d  stored inline in the manifest (replicated by the metadata group)\n",
				ch.Index, ch.CID, size(ch.Size), ch.Offset)
			continue
		}
		fmt.Fprintf(w, "\nChunk %d  %s  %s at offset %d  %d+%d under layout version %d  shards of %s\n",
			ch.Index, ch.CID, size(ch.Size), ch.Offset, ch.K, ch.M, ch.LayoutVersion, size(int64(ch.ShardSize)))
		if ch.Error != "" {
			fmt.Fprintln(w, "ERROR:", ch.Error)
		}
		t := newTable(w, "INDEX", "ROLE", "NODE", "ZONE", "PRESENT", "SHARD CID")
		var errs []string
		have := 0
		for _, sh := range ch.Shards {
			p := "?"
			switch {
			case sh.Present == nil:
				unknown++
			case *sh.Present:
				p = "yes"
				present++
				have++
			default:
				p = "NO"
				missing++
			}
			zone := sh.Zone
			if sh.Node != "" {
				zone = zoneName(sh.Zone)
			}
			t.row(strconv.Itoa(sh.Index), sh.Role, sh.Node, zone, p, sh.CID)
			if sh.Error != "" {
				errs = append(errs, fmt.Sprintf("shard %d on %s: %s", sh.Index, sh.Node, sh.Error))
			}
		}
		if err := t.flush(); err != nil {
			return err
		}
		for _, e := range errs {
			fmt.Fprintln(w, "ERROR:", e)
		}
		if have < ch.K {
			warnings = append(warnings, fmt.Sprintf("chunk %d: only %d of its shards are known to be present, it needs %d to be read", ch.Index, have, ch.K))
		}
	}
	fmt.Fprintf(w, "\nShards: %d present, %d missing, %d unknown\n", present, missing, unknown)
	for _, warn := range warnings {
		fmt.Fprintln(w, "WARNING:", warn)
	}
	return nil
}
