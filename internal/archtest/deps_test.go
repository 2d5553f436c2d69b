package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// serverModules are the server side of a cluster: consensus, gossip and
// the metadata store's database. A client links none of them.
var serverModules = []string{
	"github.com/hashicorp/raft",
	"github.com/hashicorp/raft-wal",
	"github.com/hashicorp/serf",
	"github.com/hashicorp/memberlist",
	"go.etcd.io/bbolt",
}

// linked returns the packages the binary built from main links (its
// non-test dependencies, as go list -deps gives them), each with its
// imports.
func linked(t *testing.T, main string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports", main).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", main, err)
	}
	pkgs := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p.Imports
	}
	return pkgs
}

func serverPackage(path string) bool {
	return slices.ContainsFunc(serverModules, func(m string) bool { return path == m || strings.HasPrefix(path, m+"/") })
}

// serverEdges lists each import of a server package by a package that is
// not one, "from → to": where the server side enters the binary.
func serverEdges(pkgs map[string][]string) []string {
	var out []string
	for from, imports := range pkgs {
		if serverPackage(from) {
			continue
		}
		for _, to := range imports {
			if serverPackage(to) {
				out = append(out, from+" → "+to)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestStorectlLinksOnlyTheClient keeps storectl a client: it talks to a
// cluster through adminapi and links none of the server side. Its tests
// may import server packages (they start a cluster); those do not go into
// the binary, and go list -deps without -test does not list them.
func TestStorectlLinksOnlyTheClient(t *testing.T) {
	pkgs := linked(t, "cairn/cmd/storectl")
	if _, ok := pkgs["cairn/internal/admin/adminapi"]; !ok {
		t.Fatalf("storectl does not link cairn/internal/admin/adminapi; this check looks at the wrong thing (%d packages)", len(pkgs))
	}
	for _, e := range serverEdges(pkgs) {
		t.Errorf("storectl links the server side: %s (a client imports only internal/admin/adminapi)", e)
	}
	// The premise: the check sees the server side where it is linked.
	if len(serverEdges(linked(t, "cairn/cmd/storaged"))) == 0 {
		t.Fatal("storaged links none of the server modules either: the check cannot see them")
	}
}
