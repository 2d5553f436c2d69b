package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cairn/internal/admin/adminapi"
)

// The global flags' defaults and environment variables.
const (
	defaultNode    = "http://127.0.0.1:7070"
	defaultTimeout = 30 * time.Second
	envNode        = "CAIRN_NODE"
	envToken       = "CAIRN_ADMIN_TOKEN"
	envTokenFile   = "CAIRN_ADMIN_TOKEN_FILE"
)

// app is one run of storectl: its input and output, its environment, and
// the global flags once parsed.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	getenv func(string) string
	http   *http.Client // nil: http.DefaultClient

	node      string
	token     string
	tokenFile string
	json      bool
	timeout   time.Duration
	// every is how often a command that follows healing asks again
	// (0: a second); tests shorten it.
	every time.Duration
}

func newApp(stdin io.Reader, stdout io.Writer, getenv func(string) string) *app {
	return &app{stdin: stdin, stdout: stdout, getenv: getenv}
}

// execute runs the command line args (without the program name).
func (a *app) execute(ctx context.Context, args []string) error {
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stdout)
	return root.ExecuteContext(ctx)
}

const rootLong = `storectl is the operator CLI of a Cairn cluster: it shows the cluster's
status and healing, approves, drains and removes storage nodes, seals the
data written unsealed, manages buckets and S3 access keys, shows where the
shards of an object are, and starts and follows the storage nodes' scrubs.

It talks to the admin API of any metadata or gateway node of the cluster
(its operator port, storaged --admin, 127.0.0.1:7070 by default), which
answers for the whole cluster. Every call needs the admin token, which
storaged writes to DATA/admin-token; every tenant node of a cluster accepts
the same token. A contributor's storage node has no admin API.

Global flags and their environment variables:
  --node URL         CAIRN_NODE              the admin API, http://host:port or
                                             host:port (default ` + defaultNode + `)
  --token TOKEN      CAIRN_ADMIN_TOKEN       the admin token
  --token-file FILE  CAIRN_ADMIN_TOKEN_FILE  a file holding it (DATA/admin-token)
  --json                                     print the API's JSON answer
  --timeout D                                give up after D (default 30s)

A flag wins over its variable; --token and --token-file exclude each other.

Exit status: 0 on success, 1 when the cluster refused or failed the
request (or could not be reached), 2 for a usage error.`

const rootExample = `  storectl --node 10.0.0.1:7070 --token-file ./data/admin-token status
  export CAIRN_NODE=10.0.0.1:7070 CAIRN_ADMIN_TOKEN_FILE=./data/admin-token
  storectl node list
  storectl node approve node-7
  storectl node drain node-3
  storectl heal status --watch
  storectl seal migrate
  storectl bucket create photos
  storectl key create
  storectl object stat photos 2024/cat.jpg
  storectl --json status | jq .warnings
  storectl cid ./big.iso`

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "storectl",
		Short:         "The Cairn operator CLI",
		Long:          rootLong,
		Example:       rootExample,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef(c, "%v", err)
	})
	f := root.PersistentFlags()
	f.StringVar(&a.node, "node", defaultNode, "admin API `URL` of any tenant node (storaged --admin): http://host:port, or host:port (env "+envNode+")")
	f.StringVar(&a.token, "token", "", "admin `TOKEN` (env "+envToken+")")
	f.StringVar(&a.tokenFile, "token-file", "", "`FILE` holding the admin token, usually DATA/admin-token (env "+envTokenFile+")")
	f.BoolVar(&a.json, "json", false, "print the API's JSON answer, indented, instead of tables")
	f.DurationVar(&a.timeout, "timeout", defaultTimeout, "give up on the request after this `duration`")
	root.AddCommand(
		a.statusCmd(),
		a.nodeCmd(),
		a.healCmd(),
		a.sealCmd(),
		a.scrubCmd(),
		a.bucketCmd(),
		a.keyCmd(),
		a.objectCmd(),
		a.cidCmd(),
		a.versionCmd(),
	)
	return root
}

// group returns a command that only holds subcommands.
func group(use, short, long string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.ArbitraryArgs, RunE: groupRun}
}

// groupRun runs a command that has only subcommands: help without
// arguments, a usage error with one (an unknown subcommand).
func groupRun(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %s", args[0], c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef(c, "%s", msg)
}

// usageError is a command line that makes no sense: exit status 2.
type usageError struct {
	msg  string
	help string // the command path whose --help to see
}

func (e *usageError) Error() string { return e.msg + " (see " + e.help + " --help)" }

func usagef(c *cobra.Command, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), help: c.CommandPath()}
}

// exitCode is the exit status for an error execute returned.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// exactArgs accepts exactly the named arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef(c, "%s wants %s, got %d argument(s)", c.CommandPath(), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// client returns an admin client from the global flags and environment,
// and a context bounded by --timeout.
func (a *app) client(c *cobra.Command) (*adminapi.Client, context.Context, context.CancelFunc, error) {
	node := a.node
	if !c.Flags().Changed("node") {
		if v := a.getenv(envNode); v != "" {
			node = v
		}
	}
	if _, err := adminapi.NormalizeURL(node); err != nil {
		return nil, nil, nil, usagef(c, "--node: %v", err)
	}
	token, err := a.resolveToken(c)
	if err != nil {
		return nil, nil, nil, err
	}
	if a.timeout <= 0 {
		return nil, nil, nil, usagef(c, "--timeout %v: want a positive duration", a.timeout)
	}
	cl, err := adminapi.NewClient(node, token, a.http)
	if err != nil {
		return nil, nil, nil, usagef(c, "%v", err)
	}
	ctx, cancel := context.WithTimeout(c.Context(), a.timeout)
	return cl, ctx, cancel, nil
}

// resolveToken finds the admin token: --token, --token-file, then their
// environment variables.
func (a *app) resolveToken(c *cobra.Command) (string, error) {
	flags := c.Flags()
	switch {
	case flags.Changed("token") && flags.Changed("token-file"):
		return "", usagef(c, "give --token or --token-file, not both")
	case flags.Changed("token"):
		return checkToken(c, a.token, "--token")
	case flags.Changed("token-file"):
		return a.readToken(c, a.tokenFile, "--token-file")
	case a.getenv(envToken) != "":
		return checkToken(c, a.getenv(envToken), envToken)
	case a.getenv(envTokenFile) != "":
		return a.readToken(c, a.getenv(envTokenFile), envTokenFile)
	}
	return "", usagef(c, "no admin token: give --token-file DATA/admin-token (storaged writes it there) or --token TOKEN, or set %s or %s", envTokenFile, envToken)
}

func (a *app) readToken(c *cobra.Command, name, from string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", usagef(c, "%s: read the admin token: %v", from, err)
	}
	return checkToken(c, string(b), from+" "+name)
}

func checkToken(c *cobra.Command, tok, from string) (string, error) {
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", usagef(c, "%s: the admin token is empty or not one word", from)
	}
	return tok, nil
}

// printJSON prints v as indented JSON.
func (a *app) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

// failed gives an error of the request its context: a timeout says which
// flag sets it.
func (a *app) failed(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (--timeout %v)", err, a.timeout)
	}
	return err
}
