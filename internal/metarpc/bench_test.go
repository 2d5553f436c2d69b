package metarpc

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cairn/internal/meta"
)

// benchAPIs returns a single-voter store (real raft log and state machine, bbolt, both
// fsyncing) and the two ways to call it: directly, and through a Client
// and a Server over loopback HTTP.
func benchAPIs(b *testing.B) (*node, map[string]API) {
	nd := newDev(b, nil)
	return nd, map[string]API{
		"direct": nd.s,
		"rpc":    newClient(b, testSecret, fixed(nd.http.URL), nil),
	}
}

// benchObject is the manifest of an object of n 1 MiB chunks, each a 4+2
// stripe.
func benchObject(n int) *meta.Object {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint("c", i)
	}
	return object("bench", "k", names...)
}

// wireSize reports the size of obj's manifest as JSON on the wire.
func wireSize(b *testing.B, obj *meta.Object) {
	data, err := json.Marshal(&objectResult{obj})
	must(b, err)
	b.ReportMetric(float64(len(data)), "wire-B")
}

var benchChunks = []int{1, 16}

// BenchmarkPutObject measures PutObject of a manifest of 1 and 16
// chunks, directly on the store and through the RPC, with b.RunParallel
// at parallelism 1 and 16 (×GOMAXPROCS goroutines). Each put is a raft
// entry fsynced twice (log and state machine); concurrent puts share the
// fsyncs.
func BenchmarkPutObject(b *testing.B) {
	for _, n := range benchChunks {
		for _, via := range []string{"direct", "rpc"} {
			for _, p := range []int{1, 16} {
				b.Run(fmt.Sprintf("chunks=%d/%s/par=%d", n, via, p), func(b *testing.B) {
					nd, apis := benchAPIs(b)
					api := apis[via]
					must(b, nd.s.CreateBucket(bg, "bench", time.Now()))
					tmpl := benchObject(n)
					var seq atomic.Int64
					b.ReportAllocs()
					b.SetParallelism(p)
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							o := *tmpl
							o.Key = fmt.Sprintf("objects/%012d", seq.Add(1))
							if err := api.PutObject(bg, &o); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
					wireSize(b, tmpl)
				})
			}
		}
	}
}

// BenchmarkGetObject measures a linearizable read of a manifest of 1 and
// 16 chunks, directly on the store and through the RPC, one call at a
// time (latency) and with b.RunParallel (throughput).
func BenchmarkGetObject(b *testing.B) {
	for _, n := range benchChunks {
		for _, via := range []string{"direct", "rpc"} {
			for _, par := range []bool{false, true} {
				name := fmt.Sprintf("chunks=%d/%s/serial", n, via)
				if par {
					name = fmt.Sprintf("chunks=%d/%s/parallel", n, via)
				}
				b.Run(name, func(b *testing.B) {
					nd, apis := benchAPIs(b)
					api := apis[via]
					must(b, nd.s.CreateBucket(bg, "bench", time.Now()))
					obj := benchObject(n)
					must(b, nd.s.PutObject(bg, obj))
					b.ReportAllocs()
					b.ResetTimer()
					if !par {
						for range b.N {
							if _, err := api.GetObject(bg, "bench", "k"); err != nil {
								b.Fatal(err)
							}
						}
					} else {
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if _, err := api.GetObject(bg, "bench", "k"); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					b.StopTimer()
					wireSize(b, obj)
				})
			}
		}
	}
}
