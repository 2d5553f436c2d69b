// Package archtest checks the architecture's import rules: the arrows go
// cmd → internal → s3gw, erasure, placement, the pure packages import
// nothing of the project, and storectl, a client, links none of the
// server side (Raft, gossip, bbolt).
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports", "cairn/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		for _, imp := range append(append(p.Imports, p.TestImports...), p.XTestImports...) {
			if !strings.HasPrefix(imp, "cairn/") || imp == p.ImportPath {
				continue
			}
			if why := forbidden(p.ImportPath, imp); why != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, why)
			}
		}
	}
	if seen < 8 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}

// forbidden says why from may not import to, or "" if it may.
func forbidden(from, to string) string {
	under := func(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	switch {
	case under(to, "cairn/cmd"):
		return "nothing imports a command"
	case under(from, "cairn/erasure"), under(from, "cairn/placement"):
		return "the pure packages import nothing of the project"
	case under(from, "cairn/s3gw"):
		return "s3gw sees the store only through its own Backend interface"
	}
	return ""
}

func TestForbiddenRules(t *testing.T) {
	for _, c := range []struct {
		from, to string
		bad      bool
	}{
		{"cairn/erasure", "cairn/placement", true},
		{"cairn/placement", "cairn/internal/meta", true},
		{"cairn/s3gw", "cairn/internal/gateway", true},
		{"cairn/internal/gateway", "cairn/cmd/storaged", true},
		{"cairn/internal/gateway", "cairn/s3gw", false},
		{"cairn/internal/node", "cairn/internal/meta", false},
		{"cairn/cmd/storaged", "cairn/internal/node", false},
	} {
		if got := forbidden(c.from, c.to) != ""; got != c.bad {
			t.Errorf("%s → %s forbidden=%v, want %v", c.from, c.to, got, c.bad)
		}
	}
}
