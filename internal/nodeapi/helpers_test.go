package nodeapi_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
)

var (
	secret      = []byte("a cluster secret of enough bytes")
	otherSecret = []byte("another cluster secret, not ours")
)

func signer(t testing.TB, secret []byte) *nodeauth.Signer {
	t.Helper()
	s, err := nodeauth.NewSigner(secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openDir(t testing.TB) *blob.DirStore {
	t.Helper()
	ds, err := blob.OpenDir(filepath.Join(t.TempDir(), "node"))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// serve starts a node API server over store on loopback and returns its
// base URL. edit, if not nil, adjusts the config.
func serve(t testing.TB, store blob.Store, edit func(*nodeapi.ServerConfig)) string {
	t.Helper()
	cfg := nodeapi.ServerConfig{
		Store:  store,
		Signer: signer(t, secret),
		NodeID: "node-1",
		Zone:   "zone-a",
		Weight: 2.5,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := nodeapi.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

// dial returns a client of the node at url, over a transport of its own
// that the test closes. edit, if not nil, adjusts the config.
func dial(t testing.TB, url string, edit func(*nodeapi.ClientConfig)) *nodeapi.Client {
	t.Helper()
	tr := nodeapi.NewTransport()
	t.Cleanup(tr.CloseIdleConnections)
	cfg := nodeapi.ClientConfig{
		BaseURL: url,
		Signer:  signer(t, secret),
		HTTP:    &http.Client{Transport: tr},
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := nodeapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func shard(t testing.TB, seed uint64, size int) (cid.Cid, []byte) {
	return blobtest.NewShard(t, rand.New(rand.NewPCG(seed, 7)), size)
}

// memStore is a blob.Store in memory, for benchmarks that measure the API
// rather than the disk.
type memStore struct {
	mu     sync.RWMutex
	shards map[string][]byte
}

var _ blob.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{shards: map[string][]byte{}} }

func (m *memStore) Put(ctx context.Context, id cid.Cid, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	got, err := id.Prefix().Sum(data)
	if err != nil {
		return err
	}
	if !got.Equals(id) {
		return blob.ErrCorrupt
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.shards[id.KeyString()]; !ok {
		m.shards[id.KeyString()] = slices.Clone(data)
	}
	return nil
}

func (m *memStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return dst[:0], err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	data, ok := m.shards[id.KeyString()]
	if !ok {
		return dst[:0], blob.ErrNotFound
	}
	return append(dst[:0], data...), nil
}

func (m *memStore) Has(ctx context.Context, id cid.Cid) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.shards[id.KeyString()]
	return ok, nil
}

func (m *memStore) Delete(ctx context.Context, id cid.Cid) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.shards, id.KeyString())
	return nil
}

func (m *memStore) Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error {
	m.mu.RLock()
	type entry struct {
		id   cid.Cid
		size int64
	}
	var all []entry
	for k, v := range m.shards {
		id, err := cid.Cast([]byte(k))
		if err != nil {
			m.mu.RUnlock()
			return err
		}
		all = append(all, entry{id, int64(len(v))})
	}
	m.mu.RUnlock()
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e.id, e.size); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Usage(ctx context.Context) (blob.Usage, error) {
	var u blob.Usage
	err := m.Walk(ctx, func(_ cid.Cid, size int64) error {
		u.Shards++
		u.Bytes += size
		return nil
	})
	return u, err
}
