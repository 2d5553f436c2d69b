package meta

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPutObject measures PutObject of a one-chunk manifest on a
// single-voter store (real raft log and state machine, bbolt, both fsyncing) with
// b.RunParallel at parallelism 1 and 16, that is 1×GOMAXPROCS and
// 16×GOMAXPROCS goroutines proposing at once. Concurrent proposals share
// raft log appends and state machine transactions (ApplyBatch), so the
// fsyncs per object fall as parallelism grows.
func BenchmarkPutObject(b *testing.B) {
	for _, p := range []int{1, 16} {
		b.Run(fmt.Sprintf("par=%d", p), func(b *testing.B) {
			s := newDev(b, func(c *Config) { c.Logger = nil }).s
			must(b, s.CreateBucket(bg, "bench", time.Now()))
			var seq atomic.Int64
			batches0, entries0 := s.fsm.batches.Load(), s.fsm.entries.Load()
			b.ReportAllocs()
			b.SetParallelism(p)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					key := fmt.Sprintf("objects/%012d", i)
					obj := object("bench", key, key)
					if err := s.PutObject(bg, obj); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
			b.ReportMetric(float64(p*runtime.GOMAXPROCS(0)), "goroutines")
			b.ReportMetric(float64(s.fsm.entries.Load()-entries0)/float64(max(1, s.fsm.batches.Load()-batches0)), "entries/batch")
		})
	}
}

// BenchmarkGetObject measures a linearizable read on the single voter.
func BenchmarkGetObject(b *testing.B) {
	s := newDev(b, nil).s
	must(b, s.CreateBucket(bg, "bench", time.Now()))
	must(b, s.PutObject(bg, object("bench", "k", "c")))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetObject(bg, "bench", "k"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
