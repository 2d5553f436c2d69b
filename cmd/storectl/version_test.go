package main

import (
	"encoding/json"
	"strings"
	"testing"

	"cairn/internal/admin/admintest"
	"cairn/internal/cluster"
	"cairn/internal/version"
)

func TestVersionCommand(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	c.AddStorage("n1", "z1", 1)
	c.Members.Add(cluster.Member{ID: "gw", Zone: "z1", Roles: []cluster.Role{cluster.RoleGateway, cluster.RoleMeta}, APIAddr: "gw:7071",
		S3Addr: "gw:9000", Status: cluster.StatusAlive, Version: "v1.2.0-3-gabc1234"})
	x := newCLI(t, c)
	client := "storectl " + version.Get().String()

	out := x.ok("version")
	if first, _, _ := strings.Cut(out, "\n"); first != client {
		t.Fatalf("first line %q, want %q", first, client)
	}
	if got := strings.Join(row(t, out, "NODE"), " "); got != "NODE ZONE ROLES STATUS VERSION" {
		t.Fatalf("header %q", got)
	}
	if got := strings.Join(row(t, out, "gw"), " "); got != "gw z1 gateway,meta alive v1.2.0-3-gabc1234" {
		t.Fatalf("gw row %q", got)
	}
	if got := strings.Join(row(t, out, "n1"), " "); got != "n1 z1 storage alive unknown" {
		t.Fatalf("n1 row (announces no version) %q", got)
	}

	var rep versionReport
	if err := json.Unmarshal([]byte(x.ok("--json", "version")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Client != version.Get() || len(rep.Nodes) != 2 {
		t.Fatalf("--json: %+v", rep)
	}

	// --client asks no cluster: no --node, no token.
	r := x.run("version", "--client")
	if r.err != nil || r.out != client+"\n" {
		t.Fatalf("version --client: %q, %v", r.out, r.err)
	}
	// Without a token the client's line is still printed, then the usage error.
	r = x.run("version")
	if r.code != 2 || !strings.HasPrefix(r.out, client+"\n") {
		t.Fatalf("version without a token: exit %d, %q", r.code, r.out)
	}
}
