package nodeapi_test

import (
	"os"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
	"cairn/internal/nodeapi"
)

// remote is a Client with the DirStore behind its server, for the hooks
// that damage the store underneath.
type remote struct {
	*nodeapi.Client
	ds *blob.DirStore
}

// TestConformance runs the blob.Store suite against Client → Server →
// DirStore over loopback HTTP: the remote store behaves like a local one.
// Small inventory pages make Walk cross several.
func TestConformance(t *testing.T) {
	blobtest.Run(t, blobtest.Harness{
		New: func(t *testing.T) blob.Store {
			ds := openDir(t)
			c := dial(t, serve(t, ds, nil), func(c *nodeapi.ClientConfig) { c.PageSize = 7 })
			return remote{c, ds}
		},
		Corrupt: func(t *testing.T, s blob.Store, id cid.Cid) {
			path, err := s.(remote).ds.Path(id)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[8+(len(b)-8)/2] ^= 0x40
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
		},
		Wipe: func(t *testing.T, s blob.Store) {
			var err error
			for range 20 {
				if err = os.RemoveAll(s.(remote).ds.Dir()); err == nil {
					return
				}
			}
			t.Logf("wipe: %v", err)
		},
	})
}

// TestConformanceDefaults runs the plain suite with default page sizes,
// against the in-memory store the benchmarks use.
func TestConformanceDefaults(t *testing.T) {
	blobtest.TestStore(t, func(t *testing.T) blob.Store {
		return dial(t, serve(t, newMemStore(), nil), nil)
	})
}
