package blob_test

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
)

// The store's benchmarks read against the kernels of kernel_bench_test.go;
// the limits are in cairn/bench/benchfmt. BenchmarkPut… and BenchmarkGet
// measure a DirStore, BenchmarkLog… the same operations on a LogStore. In
// a DirStore a new shard must reach the disk twice (its bytes, then its
// name), and those syncs dominate a real disk; the tmpfs variants, where
// a sync returns at once, show the CPU and system-call cost alone.

// benchShard is a shard of a 1 MiB chunk coded 4+2.
const benchShard = 256 << 10

// poolSize is how many distinct shards a put benchmark cycles through: op
// i deletes the shard op i-poolSize put (a few microseconds of unlink) and
// puts it again, new to the store, so the store stays at poolSize shards.
const poolSize = 64

// benchDirs are the file systems the put benchmarks run on.
var benchDirs = []struct {
	name string
	dir  func(b *testing.B) string
}{
	{"disk", func(b *testing.B) string { return b.TempDir() }},
	{"tmpfs", tmpfsDir},
}

// tmpfsDir returns a temporary directory on /dev/shm, a tmpfs on Linux,
// removed at the end of the benchmark; it skips where there is none.
func tmpfsDir(b *testing.B) string {
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		b.Skip("no /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "cairn-blob-bench-")
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// opener opens a store of one kind in dir for a benchmark.
type opener func(b *testing.B, dir string) blob.Store

func openBench(b *testing.B, dir string) blob.Store {
	s, err := blob.OpenDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func openLogBench(b *testing.B, dir string) blob.Store {
	s, err := blob.OpenLog(dir, blob.LogOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// shardPool returns n distinct shards and their CIDs, computed off the
// clock.
func shardPool(b *testing.B, seed uint64, n int) ([]cid.Cid, [][]byte) {
	rng := rand.New(rand.NewPCG(seed, 9))
	ids, data := make([]cid.Cid, n), make([][]byte, n)
	for i := range n {
		ids[i], data[i] = blobtest.NewShard(b, rng, benchShard)
	}
	return ids, data
}

// BenchmarkPut puts a shard the store does not hold: verify, write a
// temporary file, sync, rename, sync the name (and unlink the shard put
// poolSize ops before).
func BenchmarkPut(b *testing.B) { benchPut(b, openBench) }

// BenchmarkLogPut: a LogStore appends the shard (and a tombstone for the
// delete) and syncs the file system once.
func BenchmarkLogPut(b *testing.B) { benchPut(b, openLogBench) }

func benchPut(b *testing.B, open opener) {
	ctx := context.Background()
	for _, fs := range benchDirs {
		b.Run(fs.name, func(b *testing.B) {
			s := open(b, fs.dir(b))
			ids, data := shardPool(b, 8, poolSize)
			b.SetBytes(benchShard)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				j := i % poolSize
				if err := s.Delete(ctx, ids[j]); err != nil {
					b.Fatal(err)
				}
				if err := s.Put(ctx, ids[j], data[j]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutParallel puts new shards from 8×GOMAXPROCS goroutines, each
// cycling through shards of its own: their syncs overlap or are shared, so
// throughput on a disk grows with concurrency.
func BenchmarkPutParallel(b *testing.B) { benchPutParallel(b, openBench) }

// BenchmarkLogPutParallel: concurrent appends share writes and syncs.
func BenchmarkLogPutParallel(b *testing.B) { benchPutParallel(b, openLogBench) }

func benchPutParallel(b *testing.B, open opener) {
	const par, perG = 8, 4
	ctx := context.Background()
	gs := par * runtime.GOMAXPROCS(0)
	ids, data := shardPool(b, 12, gs*perG)
	for _, fs := range benchDirs {
		b.Run(fs.name, func(b *testing.B) {
			s := open(b, fs.dir(b))
			var seq atomic.Int64
			b.SetBytes(benchShard)
			b.ReportAllocs()
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				g := int(seq.Add(1)-1) % gs
				ids, data := ids[g*perG:(g+1)*perG], data[g*perG:(g+1)*perG]
				for i := 0; pb.Next(); i++ {
					j := i % perG
					if err := s.Delete(ctx, ids[j]); err != nil {
						b.Error(err)
						return
					}
					if err := s.Put(ctx, ids[j], data[j]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPutExisting puts a shard the store holds: verify and stat (and
// whatever the store does to be sure the held copy is durable).
func BenchmarkPutExisting(b *testing.B) {
	s := openBench(b, b.TempDir())
	ids, data := shardPool(b, 10, 1)
	if err := s.Put(context.Background(), ids[0], data[0]); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Put(context.Background(), ids[0], data[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet reads a shard from the page cache into a reused buffer and
// verifies it.
func BenchmarkGet(b *testing.B) { benchGet(b, openBench) }

// BenchmarkLogGet reads a shard from the page cache into a reused buffer
// and checks its CRC-32C.
func BenchmarkLogGet(b *testing.B) { benchGet(b, openLogBench) }

func benchGet(b *testing.B, open opener) {
	s := open(b, b.TempDir())
	ids, data := shardPool(b, 11, 1)
	if err := s.Put(context.Background(), ids[0], data[0]); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, benchShard)
	b.SetBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.Get(context.Background(), ids[0], buf); err != nil {
			b.Fatal(err)
		}
	}
}
