package nodeapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/nodeapi"
)

// hang starts a server whose handler calls h and then hangs until the
// request is canceled or the test ends.
func hang(t *testing.T, h func(w http.ResponseWriter)) string {
	t.Helper()
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h != nil {
			h(w)
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) }) // runs first
	return ts.URL
}

// TestDeadline: a node that hangs cannot hold a call past its deadline;
// the error wraps context.DeadlineExceeded.
func TestDeadline(t *testing.T) {
	id, data := shard(t, 1, 1000)
	calls := map[string]func(context.Context, *nodeapi.Client) error{
		"Put": func(ctx context.Context, c *nodeapi.Client) error { return c.Put(ctx, id, data) },
		"Get": func(ctx context.Context, c *nodeapi.Client) error { _, err := c.Get(ctx, id, nil); return err },
		"Has": func(ctx context.Context, c *nodeapi.Client) error { _, err := c.Has(ctx, id); return err },
		"Delete": func(ctx context.Context, c *nodeapi.Client) error {
			return c.Delete(ctx, id)
		},
		"Walk": func(ctx context.Context, c *nodeapi.Client) error {
			return c.Walk(ctx, func(cid.Cid, int64) error { return nil })
		},
		"Status": func(ctx context.Context, c *nodeapi.Client) error { _, err := c.Status(ctx); return err },
	}
	check := func(t *testing.T, name string, err error) {
		t.Helper()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s against a hanging node = %v, want DeadlineExceeded", name, err)
		}
	}
	t.Run("Timeout", func(t *testing.T) {
		c := dial(t, hang(t, nil), func(c *nodeapi.ClientConfig) { c.Timeout = 50 * time.Millisecond })
		for name, call := range calls {
			check(t, name, call(context.Background(), c))
		}
	})
	t.Run("ContextDeadline", func(t *testing.T) {
		// The caller's deadline wins when it is sooner than Timeout.
		c := dial(t, hang(t, nil), func(c *nodeapi.ClientConfig) { c.Timeout = time.Hour })
		for name, call := range calls {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			check(t, name, call(ctx, c))
			cancel()
		}
	})
	t.Run("StalledBody", func(t *testing.T) {
		// Headers arrive, then the body stops.
		url := hang(t, func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "1000")
			w.Write(data[:10])
			w.(http.Flusher).Flush()
		})
		c := dial(t, url, func(c *nodeapi.ClientConfig) { c.Timeout = 50 * time.Millisecond })
		_, err := c.Get(context.Background(), id, nil)
		check(t, "Get of a stalled body", err)
		t.Log(err)
	})
}
