package nodeapi_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
)

const benchShard = 256 << 10 // a 1 MiB chunk over k = 4

// benchStores are the stores behind the server: memory measures the API
// and loopback HTTP alone; dir adds the disk (a real DirStore, fsyncs
// included).
var benchStores = []struct {
	name string
	open func(b *testing.B) blob.Store
}{
	{"mem", func(*testing.B) blob.Store { return newMemStore() }},
	{"dir", func(b *testing.B) blob.Store { return openDir(b) }},
}

func benchShards(b *testing.B, n int) ([]cid.Cid, [][]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]cid.Cid, n)
	data := make([][]byte, n)
	for i := range n {
		ids[i], data[i] = blobtest.NewShard(b, rng, benchShard)
	}
	return ids, data
}

// BenchmarkPut puts 256 KiB shards over loopback. Against memory, a set of
// 16 shards cycles (the store still verifies each); against a DirStore
// every put is a new shard, written and fsynced (its CID is computed off
// the clock, and it is deleted off the clock to bound the disk used).
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			c := dial(b, serve(b, store, nil), nil)
			b.SetBytes(benchShard)
			b.ReportAllocs()
			if st.name == "mem" {
				ids, data := benchShards(b, 16)
				i := 0
				for b.Loop() {
					if err := c.Put(ctx, ids[i%16], data[i%16]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				return
			}
			_, base := benchShards(b, 1)
			data := base[0]
			var n uint64
			for b.Loop() {
				b.StopTimer()
				n++
				binary.LittleEndian.PutUint64(data, n)
				id := erasure.ShardCID(data)
				b.StartTimer()
				if err := c.Put(ctx, id, data); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := store.Delete(ctx, id); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkGet reads 256 KiB shards over loopback into a reused buffer;
// node and client both verify every shard.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			c := dial(b, serve(b, store, nil), nil)
			ids, data := benchShards(b, 16)
			for i := range ids {
				if err := c.Put(ctx, ids[i], data[i]); err != nil {
					b.Fatal(err)
				}
			}
			buf := make([]byte, 0, benchShard)
			b.SetBytes(benchShard)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var err error
				if buf, err = c.Get(ctx, ids[i%16], buf); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkGetParallel reads 256 KiB shards from one node in parallel
// (GOMAXPROCS goroutines), through one shared transport.
func BenchmarkGetParallel(b *testing.B) {
	ctx := context.Background()
	store := newMemStore()
	c := dial(b, serve(b, store, nil), nil)
	ids, data := benchShards(b, 16)
	for i := range ids {
		if err := c.Put(ctx, ids[i], data[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(benchShard)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, benchShard)
		i := 0
		for pb.Next() {
			var err error
			if buf, err = c.Get(ctx, ids[i%16], buf); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
