package placement

import (
	"fmt"
	"testing"
)

// BenchmarkPlace measures placing one 4+2 stripe: Place builds a Ring per
// call (the stateless API), Ring.Place reuses one.
func BenchmarkPlace(b *testing.B) {
	for _, nodes := range []int{6, 20, 100} {
		members := mixedNodes(nodes, 4)
		stripe := stripeID(42)
		b.Run(fmt.Sprintf("Place/nodes=%d", nodes), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				stripe[20] = byte(i)
				if _, err := Place(testKey, members, stripe, 6); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Ring.Place/nodes=%d", nodes), func(b *testing.B) {
			r := mustRing(b, members)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				stripe[20] = byte(i)
				if _, err := r.Place(stripe, 6); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Fixed zone counts (3 zones for 4+2) take the zone-level path.
	members := mixedNodes(21, 3)
	b.Run("Ring.Place/nodes=21,zones=3", func(b *testing.B) {
		r := mustRing(b, members)
		stripe := stripeID(7)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			stripe[20] = byte(i)
			if _, err := r.Place(stripe, 6); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Fewer nodes than shards (a 4+2 cluster of three zones that lost one
	// node): nodes take several shards.
	members = mixedNodes(5, 3)
	b.Run("Ring.Place/nodes=5,zones=3", func(b *testing.B) {
		r := mustRing(b, members)
		stripe := stripeID(7)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			stripe[20] = byte(i)
			if _, err := r.Place(stripe, 6); err != nil {
				b.Fatal(err)
			}
		}
	})
	members = mixedNodes(100, 10)
	b.Run("Ring.Place/nodes=100,n=16", func(b *testing.B) {
		r := mustRing(b, members)
		stripe := stripeID(7)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			stripe[20] = byte(i)
			if _, err := r.Place(stripe, 16); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRank(b *testing.B) {
	for _, nodes := range []int{20, 100} {
		r := mustRing(b, mixedNodes(nodes, 4))
		stripe := stripeID(1)
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				stripe[20] = byte(i)
				r.Rank(stripe)
			}
		})
	}
}

func BenchmarkNewRing(b *testing.B) {
	for _, nodes := range []int{20, 100} {
		members := mixedNodes(nodes, 4)
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewRing(testKey, members); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
