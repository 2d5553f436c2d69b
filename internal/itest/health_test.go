//go:build integration

package itest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// healthAnswer is what a health probe answered.
type healthAnswer struct {
	code   int
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// probeHealth sends an unauthenticated GET or HEAD to a health probe.
func probeHealth(method, url string) (healthAnswer, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return healthAnswer{}, err
	}
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return healthAnswer{}, err
	}
	defer resp.Body.Close()
	a := healthAnswer{code: resp.StatusCode}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return a, err
	}
	if method == http.MethodHead {
		if len(b) != 0 {
			return a, fmt.Errorf("HEAD answered a body: %q", b)
		}
		return a, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return a, fmt.Errorf("Content-Type %q", ct)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("body %q: %w", b, err)
	}
	return a, nil
}

// TestHealthProbes: a gateway's readiness probe answers 503 until the
// cluster has a storage layout and 200 after; when the metadata leader is
// gone it answers 503 again, while the liveness probe answers 200 all
// along. Both are unauthenticated, on the S3 port, for GET and HEAD.
func TestHealthProbes(t *testing.T) {
	c := newShapedCluster(t, []nodeShape{{"zone-a", true, false}, {"zone-b", false, true}, {"zone-c", false, false}}, nil)
	meta, gw, storage := c.nodes[0], c.nodes[1], c.nodes[2]
	meta.extra = []string{"--approval"} // no storage node in the layout until approved
	gw.noWaitS3 = true
	c.start(meta, nil)
	c.start(gw, []string{meta.gossip})
	c.start(storage, []string{meta.gossip, gw.gossip})
	live, ready := "http://"+gw.s3addr+"/_cairn/health/live", "http://"+gw.s3addr+"/_cairn/health/ready"

	expect := func(method, url string, code int, status, reason string) error {
		a, err := probeHealth(method, url)
		if err != nil {
			return err
		}
		if a.code != code || (method == http.MethodGet && (a.Status != status || !strings.Contains(a.Reason, reason))) {
			return fmt.Errorf("%s %s: %d %q %q, want %d %q with a reason containing %q", method, url, a.code, a.Status, a.Reason, code, status, reason)
		}
		return nil
	}
	// The S3 port opens just after the node API: retry until it answers.
	waitFor(t, 30*time.Second, "S3 port open", func() error { _, err := probeHealth("GET", live); return err })
	for _, p := range []struct {
		method, url string
		code        int
		status, why string
	}{
		{"GET", ready, 503, "not ready", "storage layout"},
		{"HEAD", ready, 503, "", ""},
		{"GET", live, 200, "live", ""},
		{"HEAD", live, 200, "", ""},
	} {
		if err := expect(p.method, p.url, p.code, p.status, p.why); err != nil {
			t.Fatalf("before any storage node is in the layout: %v", err)
		}
	}

	for _, n := range c.nodes {
		// The metadata leader stores the first, empty layout within a
		// second of its election; approving needs it.
		waitFor(t, 30*time.Second, "approve "+n.name, func() error {
			_, err := c.storectl(meta, "node", "approve", n.id)
			return err
		})
	}
	waitFor(t, 30*time.Second, "ready once the layout has storage nodes", func() error { return expect("GET", ready, 200, "ready", "") })
	if err := expect("HEAD", ready, 200, "", ""); err != nil {
		t.Fatal(err)
	}

	// The only metadata voter goes: no leader. The gateway's process is
	// alive and says so; it is not ready.
	meta.kill()
	if err := expect("GET", live, 200, "live", ""); err != nil {
		t.Fatalf("with the metadata leader down: %v", err)
	}
	waitFor(t, 60*time.Second, "not ready without a metadata leader", func() error { return expect("GET", ready, 503, "not ready", "layout") })
	for _, m := range []string{"GET", "HEAD"} {
		if err := expect(m, live, 200, "live", ""); err != nil {
			t.Fatalf("with the metadata leader down: %v", err)
		}
	}
	if err := expect("HEAD", ready, 503, "", ""); err != nil {
		t.Fatal(err)
	}
}
