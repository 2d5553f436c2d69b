package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

func (a *app) objectCmd() *cobra.Command {
	c := group("object", "Inspect objects", "Inspect objects: their chunks, stripes and shards.")
	var shards bool
	stat := &cobra.Command{
		Use:   "stat BUCKET KEY",
		Short: "Summarize an object's chunks and stripes; --shards: where each shard is",
		Long: `Show an object's metadata (size, ETag, CID, modification time) and a
summary of how it is stored: its chunks and their stripe shape, the
stripes by health (healthy: every shard present; degraded: some missing,
still readable; unreadable: fewer than k present; unknown: a node could not
be asked), the shards present, missing and unknown, and the nodes that
hold them. Errors and warnings follow.

--shards lists, for each chunk, its CID, size and stripe (k+m under a
layout version), and for each shard its role, the node and zone placement
gives it, whether that node has it (PRESENT yes, NO, or ? when the node
could not be asked), and its CID.

KEY is the object key as is: slashes, spaces and any other characters
(quote it for the shell).`,
		Example: `  storectl object stat photos 2024/cat.jpg
  storectl object stat --shards photos 2024/cat.jpg
  storectl object stat photos 'holiday pics/ünï.png'
  storectl --json object stat photos cat.jpg`,
		Args: exactArgs("BUCKET", "KEY"),
		RunE: func(c *cobra.Command, args []string) error { return a.runObjectStat(c, args[0], args[1], shards) },
	}
	stat.Flags().BoolVar(&shards, "shards", false, "list every shard of every chunk: its node, zone, presence and CID")
	c.AddCommand(stat)
	return c
}

func (a *app) runObjectStat(c *cobra.Command, bucket, key string, shards bool) error {
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
	sum := summarizeObject(o)
	if shards {
		fmt.Fprintf(w, "Chunks:        %d\n", len(o.Chunks))
		if err := shardTables(w, o); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nShards: %d present, %d missing, %d unknown\n", sum.present, sum.missing, sum.unknown)
	} else {
		sum.print(w)
	}
	for _, e := range sum.errors {
		fmt.Fprintln(w, "ERROR:", e)
	}
	for _, warn := range sum.warnings {
		fmt.Fprintln(w, "WARNING:", warn)
	}
	return nil
}

// objectSummary is what object stat says of an object's chunks without
// --shards.
type objectSummary struct {
	chunks, inline                        int
	shapes                                []string // stripe shapes, in order of first use
	healthy, degraded, unreadable, unsure int      // stripes
	present, missing, unknown             int      // shards
	byNode                                map[string]int
	errors, warnings                      []string
}

func summarizeObject(o *adminapi.Object) objectSummary {
	s := objectSummary{chunks: len(o.Chunks), byNode: map[string]int{}}
	for _, ch := range o.Chunks {
		if ch.Inline {
			s.inline++
			continue
		}
		shape := fmt.Sprintf("%d+%d", ch.K, ch.M)
		if ch.Seal != 0 {
			shape += " sealed"
		}
		if !slices.Contains(s.shapes, shape) {
			s.shapes = append(s.shapes, shape)
		}
		if ch.Error != "" {
			s.errors = append(s.errors, fmt.Sprintf("chunk %d: %s", ch.Index, ch.Error))
		}
		have, unknown := 0, 0
		for _, sh := range ch.Shards {
			switch {
			case sh.Present == nil:
				unknown++
			case *sh.Present:
				have++
				s.byNode[sh.Node]++
			}
			if sh.Error != "" {
				s.errors = append(s.errors, fmt.Sprintf("chunk %d shard %d on %s: %s", ch.Index, sh.Index, sh.Node, sh.Error))
			}
		}
		s.present += have
		s.unknown += unknown
		s.missing += len(ch.Shards) - have - unknown
		switch {
		case have == len(ch.Shards) && have > 0:
			s.healthy++
		case have >= ch.K:
			s.degraded++
		case have+unknown >= ch.K:
			s.unsure++
		default:
			s.unreadable++
		}
		if have < ch.K {
			s.warnings = append(s.warnings, fmt.Sprintf("chunk %d: only %d of its shards are known to be present, it needs %d to be read", ch.Index, have, ch.K))
		}
	}
	return s
}

// print writes the summary: a few lines, whatever the object's size.
func (s objectSummary) print(w io.Writer) {
	chunks := strconv.Itoa(s.chunks)
	switch {
	case s.inline == s.chunks && s.chunks > 0:
		chunks += ", stored inline in the manifest (replicated by the metadata group)"
	case s.inline > 0:
		chunks += fmt.Sprintf(" (%d inline), in %s stripes", s.inline, strings.Join(s.shapes, ", "))
	case s.chunks > 0:
		chunks += fmt.Sprintf(", in %s stripes", strings.Join(s.shapes, ", "))
	}
	fmt.Fprintf(w, "Chunks:        %s\n", chunks)
	if s.inline == s.chunks {
		return
	}
	stripes := fmt.Sprintf("%d healthy, %d degraded, %d unreadable", s.healthy, s.degraded, s.unreadable)
	if s.unsure > 0 {
		stripes += fmt.Sprintf(", %d unknown", s.unsure)
	}
	fmt.Fprintf(w, "Stripes:       %s\n", stripes)
	fmt.Fprintf(w, "Shards:        %d present, %d missing, %d unknown\n", s.present, s.missing, s.unknown)
	nodes := make([]string, 0, len(s.byNode))
	for n := range s.byNode {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for i, n := range nodes {
		nodes[i] = fmt.Sprintf("%s (%d)", n, s.byNode[n])
	}
	fmt.Fprintf(w, "Held by:       %s\n", strings.Join(nodes, ", "))
	fmt.Fprintf(w, "(--shards lists every shard)\n")
}

// shardTables writes, for each chunk, its stripe and a table of its
// shards.
func shardTables(w io.Writer, o *adminapi.Object) error {
	for _, ch := range o.Chunks {
		if ch.Inline {
			fmt.Fprintf(w, "\nChunk %d  %s  %s at offset %d  stored inline in the manifest (replicated by the metadata group)\n",
				ch.Index, ch.CID, size(ch.Size), ch.Offset)
			continue
		}
		fmt.Fprintf(w, "\nChunk %d  %s  %s at offset %d  %d+%d under layout version %d  shards of %s\n",
			ch.Index, ch.CID, size(ch.Size), ch.Offset, ch.K, ch.M, ch.LayoutVersion, size(int64(ch.ShardSize)))
		t := newTable(w, "INDEX", "ROLE", "NODE", "ZONE", "PRESENT", "SHARD CID")
		for _, sh := range ch.Shards {
			p := "?"
			switch {
			case sh.Present == nil:
			case *sh.Present:
				p = "yes"
			default:
				p = "NO"
			}
			zone := sh.Zone
			if sh.Node != "" {
				zone = zoneName(sh.Zone)
			}
			t.row(strconv.Itoa(sh.Index), sh.Role, sh.Node, zone, p, sh.CID)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}
