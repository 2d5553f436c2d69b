package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
	"cairn/internal/blob"
	"cairn/internal/cluster"
	"cairn/internal/meta"
)

// cli runs storectl against a test cluster's admin API.
type cli struct {
	t   *testing.T
	c   *admintest.Cluster
	env map[string]string
}

// result is one run: its output, error and exit status.
type result struct {
	out  string
	err  error
	code int
}

// run runs storectl with args and env (no --node or token added).
func (x *cli) run(args ...string) result {
	x.t.Helper()
	var out bytes.Buffer
	a := newApp(strings.NewReader(""), &out, func(k string) string { return x.env[k] })
	a.http = x.c.HTTP.Client()
	a.every = time.Millisecond
	err := a.execute(context.Background(), args)
	r := result{out: out.String(), err: err}
	if err != nil {
		r.code = exitCode(err)
		if strings.Contains(err.Error(), "\n") {
			x.t.Errorf("error on several lines: %q", err)
		}
	}
	return r
}

// ok runs storectl with --node and --token and wants success.
func (x *cli) ok(args ...string) string {
	x.t.Helper()
	r := x.run(append([]string{"--node", x.c.HTTP.URL, "--token", x.c.Token}, args...)...)
	if r.err != nil {
		x.t.Fatalf("storectl %s: %v", strings.Join(args, " "), r.err)
	}
	return r.out
}

// fails runs storectl with --node and --token and wants exit status code
// and an error that mentions each of msgs.
func (x *cli) fails(code int, args []string, msgs ...string) {
	x.t.Helper()
	r := x.run(append([]string{"--node", x.c.HTTP.URL, "--token", x.c.Token}, args...)...)
	if r.err == nil || r.code != code {
		x.t.Fatalf("storectl %s: exit %d (%v), want %d", strings.Join(args, " "), r.code, r.err, code)
	}
	for _, m := range msgs {
		if !strings.Contains(r.err.Error(), m) {
			x.t.Fatalf("storectl %s: error %q does not mention %q", strings.Join(args, " "), r.err, m)
		}
	}
}

func newCLI(t *testing.T, c *admintest.Cluster) *cli {
	return &cli{t: t, c: c, env: map[string]string{}}
}

// sixNodes is a cluster of n1..n6, two per zone z1..z3, in layout 1.
func sixNodes(t *testing.T) *admintest.Cluster {
	c := admintest.Start(t, admintest.Options{})
	ids := []string{"n1", "n2", "n3", "n4", "n5", "n6"}
	for i, id := range ids {
		c.AddStorage(id, []string{"z1", "z2", "z3"}[i/2], 1)
	}
	c.SetLayout(ids...)
	return c
}

// row finds the table row that starts with first, as fields.
func row(t *testing.T, out, first string) []string {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == first {
			return f
		}
	}
	t.Fatalf("no row %q in\n%s", first, out)
	return nil
}

func TestStatusCommand(t *testing.T) {
	c := sixNodes(t)
	c.Nodes.Get("n1").SetUsage(blob.Usage{Capacity: 100 * admintest.GiB, Bytes: 1288490189, Free: 98 * admintest.GiB})
	c.Members.SetStatus("n6", cluster.StatusFailed)
	c.Nodes.Get("n5").SetErr(errors.New("disk on fire"))
	c.AddStorage("n7", "z3", 2)
	x := newCLI(t, c)
	out := x.ok("status")

	for _, want := range []string{"Layout version:  1\n", "Stripe shape:    4+2 "} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	header := row(t, out, "ID")
	if strings.Join(header, " ") != "ID ZONE ROLES WEIGHT STATUS LAYOUT CAPACITY USED FREE SHARDS" {
		t.Fatalf("node table header %q", header)
	}
	if got := strings.Join(row(t, out, "n1"), " "); got != "n1 z1 storage 1 alive in 100 GiB 1.2 GiB 98 GiB 0" {
		t.Fatalf("n1 row %q", got)
	}
	if got := strings.Join(row(t, out, "n6"), " "); !strings.HasPrefix(got, "n6 z3 storage 1 DOWN (failed) in - ") {
		t.Fatalf("n6 row %q: want DOWN", got)
	}
	if got := strings.Join(row(t, out, "n5"), " "); !strings.HasSuffix(got, "alive in ? ? ? ?") {
		t.Fatalf("n5 row %q", got)
	}
	if got := strings.Join(row(t, out, "n7"), " "); !strings.HasPrefix(got, "n7 z3 storage 2 alive PENDING 100 GiB") {
		t.Fatalf("n7 row %q", got)
	}
	if !strings.Contains(out, "ERROR: n5 did not report its usage: disk on fire") {
		t.Fatalf("no error line for n5 in\n%s", out)
	}
	// Zones: z3 has n5 and n6, one alive (n7 is not in the layout).
	if got := strings.Join(row(t, out, "ZONE"), " "); got != "ZONE NODES ALIVE WEIGHT CAPACITY USED FREE" {
		t.Fatalf("zone header %q", got)
	}
	if got := strings.Join(row(t, out, "z3"), " "); got != "z3 2 1 2 0 B 0 B 0 B" {
		t.Fatalf("z3 row %q", got)
	}
	if got := strings.Join(row(t, out, "z1"), " "); got != "z1 2 2 2 200 GiB 1.2 GiB 198 GiB" {
		t.Fatalf("z1 row %q", got)
	}
	if !strings.Contains(out, "Total: 500 GiB capacity, 1.2 GiB used, 498 GiB free, 0 shards") {
		t.Fatalf("no totals in\n%s", out)
	}
	for _, w := range []string{"WARNING: node n7 is waiting for approval", "WARNING: node n6 is in the layout but down"} {
		if !strings.Contains(out, w) {
			t.Fatalf("no %q in\n%s", w, out)
		}
	}
	if strings.Contains(out, "losing that zone") {
		t.Fatalf("zone warning for three zones of two:\n%s", out)
	}

	// --json prints the API's answer.
	var st adminapi.Status
	if err := json.Unmarshal([]byte(x.ok("--json", "status")), &st); err != nil {
		t.Fatal(err)
	}
	if st.LayoutVersion != 1 || len(st.Nodes) != 7 || st.K != 4 || !strings.Contains(strings.Join(st.Warnings, "\n"), "n7") {
		t.Fatalf("--json status %+v", st)
	}
}

func TestZoneWarning(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	var ids []string
	for i := range 6 {
		id := string(rune('a'+i)) + "1"
		c.AddStorage(id, []string{"za", "zb"}[i%2], 1)
		ids = append(ids, id)
	}
	c.SetLayout(ids...)
	out := newCLI(t, c).ok("status")
	if !regexp.MustCompile(`(?m)^WARNING: one zone can receive up to 3 of the 6 shards`).MatchString(out) {
		t.Fatalf("no zone warning in\n%s", out)
	}
}

func TestNodeCommands(t *testing.T) {
	c := sixNodes(t)
	c.AddStorage("n7", "z1", 1)
	x := newCLI(t, c)
	out := x.ok("node", "list")
	if got := row(t, out, "n7"); got[4] != "alive" || got[5] != "PENDING" {
		t.Fatalf("n7 before approval: %q", got)
	}
	if out := x.ok("node", "approve", "n7"); out != "Node n7 approved: it takes new shards (layout version 2).\n" {
		t.Fatalf("approve: %q", out)
	}
	if got := row(t, x.ok("node", "list"), "n7"); got[5] != "in" {
		t.Fatalf("n7 after approval: %q", got)
	}
	x.fails(1, []string{"node", "approve", "n7"}, "already in the layout", adminapi.CodeNodeAlreadyInLayout)
	x.fails(1, []string{"node", "approve", "nope"}, adminapi.CodeNoSuchNode)

	var ch adminapi.LayoutChange
	if err := json.Unmarshal([]byte(x.ok("--json", "node", "remove", "n2")), &ch); err != nil || ch.Node != "n2" || ch.LayoutVersion != 3 {
		t.Fatalf("remove --json: %+v %v", ch, err)
	}
	if got := row(t, x.ok("node", "list"), "n2"); got[3] != "0" || got[5] != "removed" {
		t.Fatalf("n2 after removal: %q", got)
	}
	x.fails(1, []string{"node", "remove", "n2"}, adminapi.CodeNoSuchNode)
	x.fails(2, []string{"node", "remove"}, "wants ID")
	x.fails(2, []string{"node", "approve", "a", "b"}, "wants ID")

	var nodes []adminapi.Node
	if err := json.Unmarshal([]byte(x.ok("node", "list", "--json")), &nodes); err != nil || len(nodes) != 7 {
		t.Fatalf("node list --json: %d nodes, %v", len(nodes), err)
	}
}

// TestNodeListAudits: node list shows each storage node's audit record,
// and says why a node was ejected.
func TestNodeListAudits(t *testing.T) {
	c := sixNodes(t)
	failed := admintest.Clock.Add(-time.Hour)
	if err := c.Store.AddReputation(context.Background(), []meta.ReputationDelta{
		{Node: "n2", Passed: 90, Missing: 6, Corrupt: 2, Lies: 2, LastAudit: admintest.Clock, LastFailure: failed},
		{Node: "n3", Passed: 50, LastAudit: admintest.Clock},
		{Node: "n2", Eject: true, Reason: "10 of its 100 recent checks failed"},
	}); err != nil {
		t.Fatal(err)
	}
	x := newCLI(t, c)
	x.ok("node", "remove", "n2")
	out := x.ok("node", "list")
	if h := strings.Join(row(t, out, "ID"), " "); !strings.HasSuffix(h, "SHARDS AUDITS FAILED LIES REPUTATION LAST-FAILURE") {
		t.Fatalf("header %q", h)
	}
	if got := strings.Join(row(t, out, "n2")[5:], " "); !strings.Contains(got, "EJECTED") ||
		!strings.HasSuffix(got, "98 8 (6 missing, 2 corrupt) 2 EJECTED 90.0% 2025-06-07T07:09:10Z") {
		t.Fatalf("n2 row %q", got)
	}
	if got := strings.Join(row(t, out, "n3"), " "); !strings.HasSuffix(got, " 50 0 0 100.0% -") {
		t.Fatalf("n3 row %q", got)
	}
	if got := strings.Join(row(t, out, "n1"), " "); !strings.HasSuffix(got, " - - - - -") {
		t.Fatalf("n1 row %q", got)
	}
	if !strings.Contains(out, "EJECTED: n2 at 2025-06-07T08:09:10Z: 10 of its 100 recent checks failed\n") {
		t.Fatalf("no ejection line in\n%s", out)
	}
	var nodes []adminapi.Node
	if err := json.Unmarshal([]byte(x.ok("node", "list", "--json")), &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.ID == "n2" && (n.Audit == nil || !n.Audit.Ejected || n.Audit.Failed != 8 || !n.Removed) {
			t.Fatalf("n2 in --json: %+v", n)
		}
	}
}

func TestBucketCommands(t *testing.T) {
	c := sixNodes(t)
	x := newCLI(t, c)
	if out := x.ok("bucket", "list"); out != "No buckets.\n" {
		t.Fatalf("empty list: %q", out)
	}
	if out := x.ok("bucket", "create", "photos"); out != "Bucket photos created.\n" {
		t.Fatalf("create: %q", out)
	}
	x.ok("bucket", "create", "docs")
	out := x.ok("bucket", "list")
	if got := row(t, out, "photos"); got[1] != "2025-06-07T08:09:10Z" {
		t.Fatalf("photos row %q", got)
	}
	row(t, out, "docs")
	x.fails(1, []string{"bucket", "create", "photos"}, adminapi.CodeBucketAlreadyExists)
	x.fails(1, []string{"bucket", "create", "Bad_Name"}, adminapi.CodeInvalidBucketName)
	c.PutObject("photos", "cat", 1)
	x.fails(1, []string{"bucket", "delete", "photos"}, "not empty", adminapi.CodeBucketNotEmpty)
	if out := x.ok("bucket", "delete", "docs"); out != "Bucket docs deleted.\n" {
		t.Fatalf("delete: %q", out)
	}
	x.fails(1, []string{"bucket", "delete", "docs"}, adminapi.CodeNoSuchBucket)
	var bs []adminapi.Bucket
	if err := json.Unmarshal([]byte(x.ok("--json", "bucket", "list")), &bs); err != nil || len(bs) != 1 || bs[0].Name != "photos" {
		t.Fatalf("--json bucket list: %+v %v", bs, err)
	}
}

func TestKeyCommands(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	x := newCLI(t, c)
	out := x.ok("key", "create")
	m := regexp.MustCompile(`Access key ID: +(CAIRN[0-9A-F]{16})\nSecret access key: +([0-9a-f]{40})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("key create:\n%s", out)
	}
	id, secret := m[1], m[2]
	if k, err := c.Store.GetKey(context.Background(), id); err != nil || k.Secret != secret {
		t.Fatalf("stored key %+v, %v", k, err)
	}
	out = x.ok("key", "list")
	if row(t, out, id) == nil || strings.Contains(out, secret) {
		t.Fatalf("key list:\n%s", out)
	}
	var nk adminapi.NewKey
	if err := json.Unmarshal([]byte(x.ok("--json", "key", "create")), &nk); err != nil || len(nk.Secret) != 40 {
		t.Fatalf("--json key create: %+v %v", nk, err)
	}
	if out := x.ok("key", "delete", id); out != "Access key "+id+" deleted.\n" {
		t.Fatalf("delete: %q", out)
	}
	x.fails(1, []string{"key", "delete", id}, adminapi.CodeNoSuchAccessKey)
	if out := x.ok("key", "list"); strings.Contains(out, id) || !strings.Contains(out, nk.ID) {
		t.Fatalf("key list after delete:\n%s", out)
	}
}

func TestObjectStatCommand(t *testing.T) {
	c := sixNodes(t)
	const key = "holiday pics/2024/ünï cørn.png"
	obj := c.PutObject("photos", key, 2)
	l, err := c.Store.LayoutVersion(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	x := newCLI(t, c)
	var st adminapi.Object
	if err := json.Unmarshal([]byte(x.ok("--json", "object", "stat", "photos", key)), &st); err != nil {
		t.Fatal(err)
	}
	if st.Key != key || len(st.Chunks) != 2 || len(st.Layouts) != 1 || len(st.Layouts[0].Nodes) != len(l.Nodes) {
		t.Fatalf("--json object stat %+v", st)
	}
	// Lose shard 1 of chunk 0.
	lostNode := st.Chunks[0].Shards[1].Node
	lost, err := cid.Cast(obj.Chunks[0].Stripe.Shards[1])
	if err != nil {
		t.Fatal(err)
	}
	c.Nodes.Get(lostNode).Drop(lost)

	// By default, a summary: a few lines whatever the object's size.
	out := x.ok("object", "stat", "photos", key)
	held := map[string]int{}
	for _, ch := range st.Chunks {
		for _, sh := range ch.Shards {
			if ch.Index != 0 || sh.Index != 1 {
				held[sh.Node]++
			}
		}
	}
	var holders []string
	for n, k := range held {
		holders = append(holders, fmt.Sprintf("%s (%d)", n, k))
	}
	slices.Sort(holders)
	for _, want := range []string{
		"Bucket:        photos\n", "Key:           " + key + "\n", "Size:          2 KiB (2048 bytes)\n",
		"CID:           " + obj.CID + "\n", "Chunks:        2, in 4+2 stripes\n",
		"Stripes:       1 healthy, 1 degraded, 0 unreadable\n", "Shards:        11 present, 1 missing, 0 unknown\n",
		"Held by:       " + strings.Join(holders, ", ") + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n > 12 || strings.Contains(out, st.Chunks[0].Shards[0].CID) {
		t.Fatalf("the summary has %d lines or lists shards:\n%s", n, out)
	}

	// --shards: every shard.
	out = x.ok("object", "stat", "--shards", "photos", key)
	if !strings.Contains(out, "Shards: 11 present, 1 missing, 0 unknown\n") {
		t.Fatalf("no shard count in\n%s", out)
	}
	if got := strings.Join(row(t, out, "INDEX"), " "); got != "INDEX ROLE NODE ZONE PRESENT SHARD CID" {
		t.Fatalf("shard header %q", got)
	}
	// Each shard row: index, role, the node and zone of the API's answer,
	// presence, CID.
	for _, ch := range st.Chunks {
		for _, sh := range ch.Shards {
			want := []string{strconv.Itoa(sh.Index), sh.Role, sh.Node, sh.Zone, "yes", sh.CID}
			if ch.Index == 0 && sh.Index == 1 {
				want[4] = "NO"
			}
			if got := strings.Fields(findLine(out, sh.CID)); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("chunk %d shard %d row %q, want %q", ch.Index, sh.Index, got, want)
			}
		}
	}
	x.fails(1, []string{"object", "stat", "photos", "nope"}, adminapi.CodeNoSuchKey)
	x.fails(2, []string{"object", "stat", "photos"}, "wants BUCKET KEY")
}

// findLine returns the line of out that contains s.
func findLine(out, s string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func TestTokenAndNode(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	x := newCLI(t, c)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(c.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostPort := strings.TrimPrefix(c.HTTP.URL, "http://")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"flags", nil, []string{"--node", c.HTTP.URL, "--token", c.Token}, 0, ""},
		{"host:port", nil, []string{"--node", hostPort, "--token-file", tokenFile}, 0, ""},
		{"env", map[string]string{envNode: c.HTTP.URL, envToken: c.Token}, nil, 0, ""},
		{"env token file", map[string]string{envNode: hostPort, envTokenFile: tokenFile}, nil, 0, ""},
		{"flag over env", map[string]string{envNode: "127.0.0.1:1", envToken: "wrong"}, []string{"--node", c.HTTP.URL, "--token", c.Token}, 0, ""},
		{"no token", map[string]string{envNode: c.HTTP.URL}, nil, 2, "--token-file"},
		{"both", nil, []string{"--node", c.HTTP.URL, "--token", c.Token, "--token-file", tokenFile}, 2, "not both"},
		{"missing token file", nil, []string{"--node", c.HTTP.URL, "--token-file", filepath.Join(dir, "nope")}, 2, "nope"},
		{"wrong token", nil, []string{"--node", c.HTTP.URL, "--token", "cairn-wrong"}, 1, adminapi.CodeUnauthorized},
		{"bad node", nil, []string{"--node", "ftp://x", "--token", c.Token}, 2, "--node"},
		{"bad timeout", nil, []string{"--node", c.HTTP.URL, "--token", c.Token, "--timeout", "0s"}, 2, "--timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x.env = tc.env
			r := x.run(append(tc.args, "bucket", "list")...)
			if r.code != tc.code || (tc.msg != "" && !strings.Contains(r.err.Error(), tc.msg)) {
				t.Fatalf("exit %d (%v), want %d mentioning %q", r.code, r.err, tc.code, tc.msg)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	x := newCLI(t, c)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"frobnicate"}, 2, "storectl --help"},
		{[]string{"stauts"}, 2, "did you mean status?"},
		{[]string{"node", "frob"}, 2, "storectl node --help"},
		{[]string{"--bogus", "status"}, 2, "unknown flag"},
		{[]string{"status", "extra"}, 2, "wants"},
		{[]string{"cid"}, 2, "cid needs a FILE"},
		{[]string{"cid", filepath.Join(t.TempDir(), "nope")}, 1, "no such file"},
		{[]string{"--node", "127.0.0.1:1", "--token", "t", "status"}, 1, "check --node"},
		{[]string{"--node", c.HTTP.URL, "--token", c.Token, "bucket", "delete", "nope"}, 1, "NoSuchBucket"},
	} {
		r := x.run(tc.args...)
		if r.code != tc.code || !strings.Contains(r.err.Error(), tc.msg) {
			t.Errorf("storectl %s: exit %d (%v), want %d mentioning %q", strings.Join(tc.args, " "), r.code, r.err, tc.code, tc.msg)
		}
	}
}

func TestHelp(t *testing.T) {
	x := newCLI(t, admintest.Start(t, admintest.Options{}))
	for _, args := range [][]string{nil, {"--help"}, {"help"}} {
		r := x.run(args...)
		if r.err != nil {
			t.Fatal(r.err)
		}
		for _, want := range []string{
			"status", "node", "heal", "bucket", "key", "object", "cid",
			"--node", "--token", "--token-file", "--json", "--timeout",
			envNode, envToken, envTokenFile, "Exit status",
		} {
			if !strings.Contains(r.out, want) {
				t.Fatalf("storectl %v: help does not mention %q:\n%s", args, want, r.out)
			}
		}
	}
	// Every command documents itself.
	root := newApp(nil, nil, nil).rootCmd()
	for _, c := range root.Commands() {
		for _, sub := range append(c.Commands(), c) {
			if sub.Name() == "help" || sub.Name() == "completion" || sub.Parent().Name() == "completion" {
				continue
			}
			if sub.Short == "" || sub.Long == "" {
				t.Errorf("%s has no Short or Long", sub.CommandPath())
			}
			if sub.Runnable() && !sub.HasSubCommands() && sub.Example == "" {
				t.Errorf("%s has no Example", sub.CommandPath())
			}
		}
	}
	r := x.run("object", "stat", "--help")
	if r.err != nil || !strings.Contains(r.out, "slashes") || !strings.Contains(r.out, "--token-file") {
		t.Fatalf("object stat --help: %v\n%s", r.err, r.out)
	}
}
