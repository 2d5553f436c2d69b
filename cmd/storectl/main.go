// Command storectl is the Cairn operator CLI; see `storectl --help`.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"cairn/erasure"
)

const usage = `storectl — the Cairn operator CLI

Usage:
  storectl cid FILE...   print the CID Cairn (and ipfs add --cid-version=1
                         --raw-leaves --chunker=size-1048576) gives each
                         file's bytes, as in an object's x-amz-meta-cid;
                         FILE "-" reads standard input
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "storectl:", err)
		os.Exit(2)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "cid":
		if len(args) < 2 {
			return errors.New("cid needs a FILE (or - for standard input)")
		}
		for _, name := range args[1:] {
			id, err := fileCID(name, stdin)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s  %s\n", id, name)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q (see storectl --help)", args[0])
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
