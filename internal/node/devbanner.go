package node

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"cairn/internal/metrics"
)

// storectlDefaultAdmin is storectl's default --node: a dev cluster
// whose admin API listens there needs no --node.
const storectlDefaultAdmin = "127.0.0.1:7070"

// bannerInfo is what the dev cluster's banner shows.
type bannerInfo struct {
	sealed    string
	s3        string // host:port
	admin     string // the metadata node's admin API, host:port
	tokenFile string
	gwMetrics string   // the gateway's operator port, host:port
	storage   []Config // the storage nodes
	console   string   // the web console, host:port ("" for none)
	access    string
	secret    string // "" when it came from CAIRN_SECRET_KEY (not echoed)
}

// devBanner prints what the dev cluster serves and, under "Try it",
// commands that work when pasted as they are into a shell in the
// directory storaged runs in (an integration test runs them).
func devBanner(w io.Writer, cfg DevConfig, b bannerInfo) {
	scheme, curlK, awsK := "http", "", ""
	if cfg.S3CertFile != "" {
		// A dev certificate is usually self-signed.
		scheme, curlK, awsK = "https", "k", " --no-verify-ssl"
	}
	endpoint := scheme + "://" + b.s3
	storectl := cfg.Storectl
	if storectl == "" {
		storectl = "storectl"
	}
	token := shellQuote(b.tokenFile)
	fmt.Fprintf(w, "Cairn dev cluster: %d storage nodes in %d zones, %d+%d stripes, %s, data in %s\n",
		cfg.Nodes, cfg.Zones, cfg.K, cfg.M, b.sealed, cfg.DataDir)
	fmt.Fprintf(w, "S3 endpoint:  %s\n", endpoint)
	fmt.Fprintf(w, "Admin:        %s --node http://%s --token-file %s\n", storectl, b.admin, token)
	// Each node serves its own metrics on its own operator port: the
	// gateway's S3 metrics, and the storage nodes' shard metrics (ports
	// picked afresh at every start, but the first's, the admin API's).
	fmt.Fprintf(w, "Metrics:      http://%s%s (S3 gateway)\n", b.gwMetrics, metrics.Path)
	var storage []string
	for _, c := range b.storage {
		storage = append(storage, "http://"+c.AdminAddr+metrics.Path)
	}
	fmt.Fprintf(w, "Node metrics: %s (storage nodes; the first is also the metadata node, with the heal metrics)\n", strings.Join(storage, " "))
	if b.console != "" {
		fmt.Fprintf(w, "Console:      %s://%s (log in with the access key below, or the admin token in %s)\n", scheme, b.console, b.tokenFile)
	}
	fmt.Fprintf(w, "Access key:   %s\n", b.access)
	secret := shellQuote(b.secret)
	if b.secret == "" {
		// A key from the environment is not echoed to a terminal or log.
		fmt.Fprintf(w, "Secret key:   (from CAIRN_SECRET_KEY)\n")
		secret = `"$CAIRN_SECRET_KEY"`
	} else {
		fmt.Fprintf(w, "Secret key:   %s\n", b.secret)
	}
	node := ""
	if b.admin != storectlDefaultAdmin {
		node = " --node http://" + b.admin
	}
	fmt.Fprintf(w, "\nTry it, in another shell in this directory:\n")
	fmt.Fprintf(w, "  %s%s --token-file %s status\n", storectl, node, token)
	fmt.Fprintf(w, "  curl -fsS%s %s/_cairn/health/ready\n", curlK, endpoint)
	fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1\n", shellQuote(b.access), secret)
	fmt.Fprintf(w, "  aws --endpoint-url %s%s s3 ls\n", endpoint, awsK)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%_+=:,./-]+$`)

// shellQuote returns s as one shell word.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
