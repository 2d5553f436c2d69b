package nodeapi_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
)

// fakeScrub is a node's scrub: StartScrub starts a requested pass unless
// one runs.
type fakeScrub struct {
	mu     sync.Mutex
	status nodeapi.ScrubStatus
	starts int
}

func (f *fakeScrub) ScrubStatus() nodeapi.ScrubStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeScrub) StartScrub() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status.Requested || f.status.Current != nil && f.status.Current.Requested {
		return false
	}
	f.starts++
	f.status.Requested = true
	return true
}

// TestScrub: the scrub's status goes over the wire whole, a start is
// answered at once, and a second start while the first is pending says
// so.
func TestScrub(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f := &fakeScrub{status: nodeapi.ScrubStatus{
		Interval: 168 * time.Hour,
		Current: &nodeapi.ScrubPass{Started: at, Rate: 1 << 20, Progress: 0.25, Shards: 10, Bytes: 2560,
			Unverifiable: 1, Corrupt: 2, Unreadable: 3, Rewritten: 4},
		Last:   &nodeapi.ScrubPass{Started: at.Add(-time.Hour), Ended: at.Add(-time.Minute), Requested: true, Progress: 1, Shards: 40, Bytes: 10240},
		Passes: 3,
	}}
	url := serve(t, openDir(t), func(c *nodeapi.ServerConfig) { c.Scrub = f })
	c := dial(t, url, nil)
	got, err := c.ScrubStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.ScrubStatus(); !reflect.DeepEqual(got, want) {
		t.Fatalf("status over the wire:\n got %+v (%+v, %+v)\nwant %+v (%+v, %+v)", got, got.Current, got.Last, want, want.Current, want.Last)
	}

	started, st, err := c.StartScrub(ctx)
	if err != nil || !started || !st.Requested {
		t.Fatalf("first start: started %v, requested %v, %v", started, st.Requested, err)
	}
	started, _, err = c.StartScrub(ctx)
	if err != nil || started {
		t.Fatalf("second start: started %v, %v; want false", started, err)
	}
	if f.starts != 1 {
		t.Fatalf("%d starts", f.starts)
	}

	// Signed with another secret: refused, nothing started.
	bad := dial(t, url, func(c *nodeapi.ClientConfig) { c.Signer = signer(t, otherSecret) })
	f.mu.Lock()
	f.status.Requested = false
	f.mu.Unlock()
	if _, _, err := bad.StartScrub(ctx); !errors.Is(err, nodeauth.ErrUnauthorized) {
		t.Fatalf("start with another secret: %v", err)
	}
	if _, err := bad.ScrubStatus(ctx); !errors.Is(err, nodeauth.ErrUnauthorized) {
		t.Fatalf("status with another secret: %v", err)
	}
	if f.starts != 1 {
		t.Fatalf("a refused request started a pass (%d starts)", f.starts)
	}

	s := signer(t, secret)
	resp, body := send(t, rawRequest(t, "DELETE", url+"/v1/scrub", nil, s, emptyHash))
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("DELETE /v1/scrub: %d allow %q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}

// TestNoScrub: a server without a scrub says it has no such route.
func TestNoScrub(t *testing.T) {
	c := dial(t, serve(t, openDir(t), nil), nil)
	_, err := c.ScrubStatus(context.Background())
	var re *nodeapi.RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusNotFound || re.Code != "NoSuchRoute" {
		t.Fatalf("scrub status of a node without one: %v", err)
	}
}
