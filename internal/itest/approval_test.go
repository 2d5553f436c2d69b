//go:build integration

package itest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cairn/internal/admin/adminapi"
)

// TestClusterApproval: with --approval, a new storage node waits outside
// the layout until storectl node approve; storectl node remove takes it
// out again. A failed node leaves the layout after the grace period.
func TestClusterApproval(t *testing.T) {
	c := newTestCluster(t, nil)
	c.nodes = []*clusterNode{c.nodes[0], c.nodes[1], c.nodes[3]} // one meta node, two storage nodes
	c.nodes[0].extra = []string{"--approval", "--grace", "3s"}
	c.nodes[0].noWaitS3 = true // not before a node is approved
	c.startAll(false)
	ctx := ctxT(t)
	first := c.nodes[0]

	node := func(id string) (adminapi.Node, error) {
		nodes, err := c.admin(first).Nodes(ctx)
		if err != nil {
			return adminapi.Node{}, err
		}
		i := slices.IndexFunc(nodes, func(n adminapi.Node) bool { return n.ID == id })
		if i < 0 {
			return adminapi.Node{}, fmt.Errorf("%s not listed", id)
		}
		return nodes[i], nil
	}
	waitFor(t, 30*time.Second, "the first, empty layout", func() error {
		l, err := c.layout(ctx)
		if err == nil && (l == nil || len(l.Nodes) != 0) {
			err = fmt.Errorf("layout %+v", l)
		}
		return err
	})
	for _, n := range c.nodes {
		waitFor(t, 30*time.Second, n.name+" pending", func() error {
			got, err := node(n.id)
			if err != nil {
				return err
			}
			if !got.Pending || got.InLayout {
				return fmt.Errorf("%+v", got)
			}
			return nil
		})
	}
	out, err := c.storectl(first, "node", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(lineWith(out, c.nodes[1].id)), "pending") {
		t.Errorf("storectl node list does not show %s as pending:\n%s", c.nodes[1].id, out)
	}

	for _, n := range c.nodes {
		if _, err := c.storectl(c.nodes[1], "node", "approve", n.id); err != nil {
			t.Fatal(err)
		}
	}
	l, err := c.layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Nodes) != 3 {
		t.Fatalf("layout after approving three nodes: %+v", l)
	}
	if _, err := c.storectl(first, "node", "approve", c.nodes[1].id); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("approving a node twice: %v, want an error saying it is already in", err)
	}
	if _, err := c.storectl(first, "node", "approve", "no-such-node"); err == nil {
		t.Error("approving an unknown node succeeded")
	}

	if _, err := c.storectl(first, "node", "remove", c.nodes[1].id); err != nil {
		t.Fatal(err)
	}
	got, err := node(c.nodes[1].id)
	if err != nil {
		t.Fatal(err)
	}
	if got.InLayout || !got.Removed {
		t.Errorf("after node remove: %+v", got)
	}

	// The grace period (3s here) passes for a dead node: it leaves the layout.
	c.nodes[2].kill()
	waitFor(t, 60*time.Second, "the dead node leaves the layout", func() error {
		l, err := c.layout(ctx)
		if err != nil {
			return err
		}
		for _, n := range l.Nodes {
			if n.ID == c.nodes[2].id {
				return fmt.Errorf("still in layout version %d", l.Version)
			}
		}
		return nil
	})
}
