package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cairn/internal/blob"
)

// healStoreBytes is the content a scrub or compaction benchmark's store
// holds: 256 shards of a 1 MiB chunk's size coded 4+2.
const healStoreBytes = 64 << 20

// fillBench puts healStoreBytes of benchShard shards into s, off the
// clock, and returns them.
func fillBench(b *testing.B, s blob.Store, seed uint64) ([][]byte, []string) {
	ids, data := shardPool(b, seed, healStoreBytes/benchShard)
	keys := make([]string, len(ids))
	for i, id := range ids {
		if err := s.Put(context.Background(), id, data[i]); err != nil {
			b.Fatal(err)
		}
		keys[i] = id.String()
	}
	return data, keys
}

// BenchmarkLogScrub is one unpaced scrub pass over a LogStore of 64 MiB:
// on a disk, whole records read with direct I/O and their CRC-32C
// checked; on tmpfs (no direct I/O) read from its pages.
func BenchmarkLogScrub(b *testing.B) {
	for _, fs := range benchDirs {
		b.Run(fs.name, func(b *testing.B) {
			s := openLogBench(b, filepath.Join(fs.dir(b), "node"))
			fillBench(b, s, 20)
			b.SetBytes(healStoreBytes)
			b.ReportAllocs()
			for b.Loop() {
				st, err := s.(*blob.LogStore).Scrub(context.Background(), blob.ScrubOptions{}, nil)
				if err != nil || st.Shards != healStoreBytes/benchShard {
					b.Fatalf("%+v, %v", st, err)
				}
			}
		})
	}
}

// BenchmarkLogCompact compacts a LogStore of 64 MiB in 8 MiB segments
// after three shards in four were deleted: every segment is rewritten,
// 16 MiB copied (the bytes counted) and 64 MiB freed (freed-MB/s).
func BenchmarkLogCompact(b *testing.B) {
	ctx := context.Background()
	for _, fs := range benchDirs {
		b.Run(fs.name, func(b *testing.B) {
			var moved, freed int64
			var took time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				dir := filepath.Join(fs.dir(b), "node")
				ls, err := blob.OpenLog(dir, blob.LogOptions{SegmentSize: 8 << 20})
				if err != nil {
					b.Fatal(err)
				}
				ids, _ := shardPool(b, 21, healStoreBytes/benchShard)
				fillBench(b, ls, 21)
				for j, id := range ids {
					if j%4 != 0 {
						if err := ls.Delete(ctx, id); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StartTimer()
				start := time.Now()
				st, err := ls.Compact(ctx)
				took += time.Since(start)
				if err != nil || st.Moved == 0 {
					b.Fatalf("%+v, %v", st, err)
				}
				moved += st.MovedBytes
				freed += st.Freed
				b.StopTimer()
				ls.Close()
				os.RemoveAll(dir) // tmpfs is memory
				b.StartTimer()
			}
			b.SetBytes(moved / int64(b.N))
			b.ReportMetric(float64(freed)/took.Seconds()/1e6, "freed-MB/s")
		})
	}
}
