package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"cairn/erasure"
)

func (a *app) cidCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cid FILE...",
		Short: "Print the CID Cairn gives each file's bytes",
		Long: `Print the CID Cairn (and ipfs add --cid-version=1 --raw-leaves
--chunker=size-1048576) gives each file's bytes, as in an object's
x-cairn-cid response header, followed by two spaces and the file name. FILE "-" reads
standard input. It needs no cluster.`,
		Example: `  storectl cid ./big.iso
  curl -s https://example.com/f | storectl cid -`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef(c, "cid needs a FILE (or - for standard input)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runCID(args) },
	}
}

func (a *app) runCID(names []string) error {
	for _, name := range names {
		id, err := fileCID(name, a.stdin)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s  %s\n", id, name)
	}
	return nil
}

func fileCID(name string, stdin io.Reader) (string, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	ch := erasure.NewChunker(r, erasure.DefaultChunkSize)
	b := erasure.NewDAGBuilder()
	buf := make([]byte, erasure.DefaultChunkSize)
	for {
		c, err := ch.Next(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		b.Add(erasure.ChunkCID(c), uint64(len(c)))
	}
	root, err := b.Root()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return root.String(), nil
}
