package nodeapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/nodeapi"
)

// hostile starts a server that answers every request with h, unsigned
// requests included: a node that does not follow the protocol.
func hostile(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestHostileGet: the client checks what a node returns.
func TestHostileGet(t *testing.T) {
	ctx := context.Background()
	id, data := shard(t, 1, 4000)
	_, other := shard(t, 2, 4000)

	t.Run("WrongBytes", func(t *testing.T) {
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) { w.Write(other) })
		dst := make([]byte, 0, 8000)
		got, err := dial(t, url, nil).Get(ctx, id, dst)
		if !errors.Is(err, blob.ErrCorrupt) {
			t.Fatalf("Get of wrong bytes = %v, want ErrCorrupt", err)
		}
		if len(got) != 0 {
			t.Fatalf("Get of wrong bytes returned %d bytes", len(got))
		}
		t.Log(err)
	})
	t.Run("OneBitFlipped", func(t *testing.T) {
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			b := append([]byte(nil), data...)
			b[100] ^= 1
			w.Write(b)
		})
		if _, err := dial(t, url, nil).Get(ctx, id, nil); !errors.Is(err, blob.ErrCorrupt) {
			t.Fatalf("Get of a flipped bit = %v, want ErrCorrupt", err)
		}
	})
	t.Run("Truncated", func(t *testing.T) {
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data[:len(data)/2])
		})
		_, err := dial(t, url, nil).Get(ctx, id, nil)
		if err == nil || !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), url) {
			t.Fatalf("Get of a truncated body = %v, want an error naming the CID and node", err)
		}
	})
	t.Run("DeclaredTooLarge", func(t *testing.T) {
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(int64(1)<<40))
			w.Write(data)
		})
		if _, err := dial(t, url, nil).Get(ctx, id, nil); !errors.Is(err, nodeapi.ErrTooLarge) {
			t.Fatalf("Get declaring 1 TiB = %v, want ErrTooLarge", err)
		}
	})
	t.Run("Endless", func(t *testing.T) {
		// A chunked body that never ends: without a bound the client
		// would read until its deadline, allocating all along.
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			buf := make([]byte, 32<<10)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		})
		c := dial(t, url, func(c *nodeapi.ClientConfig) {
			c.MaxShardSize = 1 << 20
			c.Timeout = time.Minute
		})
		_, err := c.Get(ctx, id, nil)
		if !errors.Is(err, nodeapi.ErrTooLarge) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get of an endless body = %v, want ErrTooLarge", err)
		}
	})
	t.Run("NotACairnNode", func(t *testing.T) {
		// A plain 404 (a wrong port, a proxy) is not a missing shard.
		url := hostile(t, http.NotFound)
		c := dial(t, url, nil)
		_, err := c.Get(ctx, id, nil)
		var re *nodeapi.RemoteError
		if errors.Is(err, blob.ErrNotFound) || !errors.As(err, &re) || re.Status != 404 {
			t.Fatalf("Get from a plain 404 = %v, want a RemoteError, not ErrNotFound", err)
		}
		if ok, err := c.Has(ctx, id); ok || err == nil {
			t.Fatalf("Has from a plain 404 = %v, %v, want an error", ok, err)
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Cairn-Error", "InternalError")
			w.WriteHeader(500)
			fmt.Fprint(w, `{"code":"InternalError","message":"disk on fire"}`)
		})
		err := dial(t, url, nil).Put(ctx, id, data)
		var re *nodeapi.RemoteError
		if !errors.As(err, &re) || re.Status != 500 || re.Code != "InternalError" || re.Message != "disk on fire" {
			t.Fatalf("Put to a failing node = %v", err)
		}
		if msg := err.Error(); !strings.Contains(msg, id.String()) || !strings.Contains(msg, url) {
			t.Fatalf("error %q does not name the CID and the node", msg)
		}
	})
	t.Run("Redirect", func(t *testing.T) {
		elsewhere := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("a signed request followed a redirect to %s", r.URL)
		})
		url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere+r.URL.Path, http.StatusTemporaryRedirect)
		})
		if _, err := dial(t, url, nil).Get(ctx, id, nil); err == nil {
			t.Fatal("Get answered by a redirect succeeded")
		}
	})
	t.Run("NetworkError", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		url := ts.URL
		ts.Close()
		err := dial(t, url, nil).Put(ctx, id, data)
		if err == nil || !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), url) {
			t.Fatalf("Put to a closed port = %v, want an error naming the CID and node", err)
		}
		t.Log(err)
	})
}

// TestHostileInventory: a page that is cut short, out of order, too long
// or that does not advance is an error, never a short inventory.
func TestHostileInventory(t *testing.T) {
	ids := make([]cid.Cid, 3)
	for i := range ids {
		ids[i], _ = shard(t, uint64(i), 10)
	}
	// Sort by binary CID, as the wire format orders them.
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if ids[j].KeyString() < ids[i].KeyString() {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
	line := func(id cid.Cid) string { return id.String() + " 10\n" }
	for name, body := range map[string]string{
		"NoEnd":        line(ids[0]) + line(ids[1]),
		"OutOfOrder":   line(ids[1]) + line(ids[0]) + "end\n",
		"Duplicate":    line(ids[0]) + line(ids[0]) + "end\n",
		"NotAdvancing": line(ids[1]) + "next " + ids[0].String() + "\n",
		"TooMany":      line(ids[0]) + line(ids[1]) + line(ids[2]) + "end\n",
		"AfterEnd":     line(ids[0]) + "end\n" + line(ids[1]),
		"BadSize":      ids[0].String() + " -5\nend\n",
		"BadCID":       "bafynotacid 10\nend\n",
		"LongLine":     strings.Repeat("x", 100<<10) + "\nend\n",
		"Repeated":     strings.Repeat(line(ids[0]), 10000),
	} {
		t.Run(name, func(t *testing.T) {
			url := hostile(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			c := dial(t, url, nil)
			if _, _, err := c.Inventory(context.Background(), cid.Undef, 2); err == nil {
				t.Fatal("Inventory accepted the page")
			} else {
				t.Log(err)
			}
		})
	}
	// A node that keeps saying "next" with the same marker cannot loop
	// Walk forever.
	url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, line(ids[0])+"next "+ids[0].String()+"\n")
	})
	err := dial(t, url, nil).Walk(context.Background(), func(cid.Cid, int64) error { return nil })
	if err == nil {
		t.Fatal("Walk over a node that does not advance ended without error")
	}
}
