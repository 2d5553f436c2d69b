package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/ipfs/go-cid"
	"github.com/klauspost/reedsolomon"

	"cairn/internal/meta"
	"cairn/s3gw"
)

// memStore keeps shards in memory: the benchmarks measure the gateway's CPU
// path, not the disk.
type memStore struct {
	mu sync.RWMutex
	m  map[cid.Cid][]byte
}

func (s *memStore) Put(_ context.Context, id cid.Cid, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		s.m[id] = bytes.Clone(data)
	}
	return nil
}

func (s *memStore) Get(_ context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("no shard %s", id)
	}
	return append(dst[:0], b...), nil
}

type memNodes map[string]*memStore

func (n memNodes) Shards(id string) (ShardStore, error) { return n[id], nil }

func benchGateway(b *testing.B, seal bool) *Gateway {
	b.Helper()
	_, tr := raft.NewInmemTransport("")
	mc := meta.Default()
	mc.Dir, mc.NodeID, mc.Transport, mc.Bootstrap = filepath.Join(b.TempDir(), "meta"), "n1", tr, true
	ms, err := meta.Open(mc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ms.Close() })
	ctx := context.Background()
	if err := ms.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	l := &meta.Layout{V: 1, Version: 1, PlacementKey: []byte("bench")}
	nodes := memNodes{}
	for i := range 6 {
		id := fmt.Sprintf("n%d", i)
		nodes[id] = &memStore{m: map[cid.Cid][]byte{}}
		l.Nodes = append(l.Nodes, meta.LayoutNode{ID: id, Zone: fmt.Sprintf("z%d", i%3), Weight: 1})
	}
	if err := ms.SetLayout(ctx, l); err != nil {
		b.Fatal(err)
	}
	if err := ms.CreateBucket(ctx, "b", testTime); err != nil {
		b.Fatal(err)
	}
	cfg := Default()
	cfg.Meta, cfg.Nodes = ms, nodes
	if seal {
		cfg.Sealer, cfg.Seal = testSealer(b), true
	}
	g, err := New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

const benchSize = 64 << 20

// BenchmarkDataPath measures PUT and GET of a 64 MiB object through the
// whole in-process data path (chunk, MD5, CIDs, encode, shard names,
// place, store in memory, commit; and back), beside the raw kernels it
// rests on: put and get with sealing off, put-sealed and get-sealed with
// it on (seal and shard sums on the way in; on the way out the seal is
// opened, and no CID hashed).
func BenchmarkDataPath(b *testing.B) {
	data := randBytes(1, benchSize)
	for _, sealed := range []bool{false, true} {
		suffix := ""
		if sealed {
			suffix = "-sealed"
		}
		b.Run("put"+suffix, func(b *testing.B) {
			g := benchGateway(b, sealed)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// A fresh first byte per round defeats chunk dedup.
				data[0] = byte(i)
				if _, err := g.PutObject(context.Background(), "b", "k", bytes.NewReader(data), benchSize, s3gw.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("get"+suffix, func(b *testing.B) {
			g := benchGateway(b, sealed)
			ctx := context.Background()
			if _, err := g.PutObject(ctx, "b", "k", bytes.NewReader(data), benchSize, s3gw.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				o, err := g.GetObject(ctx, "b", "k")
				if err != nil {
					b.Fatal(err)
				}
				r, err := o.Open(ctx, 0, benchSize)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
	// The raw kernels, in the same run, so each figure above is also a
	// fraction of its limit.
	b.Run("kernel-sha256", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			sha256.Sum256(data)
		}
	})
	b.Run("kernel-md5", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			md5.Sum(data)
		}
	})
	b.Run("kernel-rs-encode-4+2", func(b *testing.B) {
		enc, err := reedsolomon.New(4, 2)
		if err != nil {
			b.Fatal(err)
		}
		shards := make([][]byte, 6)
		for i := range shards {
			shards[i] = make([]byte, (1<<20)/4)
		}
		b.SetBytes(1 << 20)
		for b.Loop() {
			if err := enc.Encode(shards); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kernel-memcpy", func(b *testing.B) {
		dst := make([]byte, benchSize)
		b.SetBytes(benchSize)
		for b.Loop() {
			copy(dst, data)
		}
	})
}
