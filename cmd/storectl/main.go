// Command storectl is the Cairn operator CLI; see `storectl --help`.
//
// Each verb lives in its own file (cmd_*.go) as a cobra command whose
// RunE calls a run function; root.go holds the global flags, the admin
// client and the error handling, format.go the tables.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	a := newApp(os.Stdin, os.Stdout, os.Getenv)
	err := a.execute(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storectl:", err)
		os.Exit(exitCode(err))
	}
}

// run runs storectl with args, as main does, without signal handling.
func run(args []string, stdin io.Reader, stdout io.Writer) error {
	return newApp(stdin, stdout, os.Getenv).execute(context.Background(), args)
}
