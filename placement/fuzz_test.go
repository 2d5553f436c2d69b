package placement

import (
	"fmt"
	"testing"
)

// FuzzPlace checks Place's invariants on member sets built from fuzz
// input: each byte pair is a node (zone, weight). Run with
// go test -fuzz FuzzPlace ./placement/; as a unit test it runs the seeds.
func FuzzPlace(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 3, 1, 4, 2, 5, 2, 6}, []byte("stripe"), uint8(6))
	f.Add([]byte{0, 1, 0, 1, 0, 1}, []byte("x"), uint8(9))
	f.Add([]byte{3, 0, 4, 9, 5, 200}, []byte{}, uint8(2))
	f.Add([]byte{0, 10, 1, 10, 2, 10, 3, 10, 4, 10, 5, 10}, []byte("six zones"), uint8(6))
	f.Fuzz(func(t *testing.T, spec []byte, stripe []byte, n uint8) {
		var nodes []Node
		for i := 0; i+1 < len(spec) && len(nodes) < 64; i += 2 {
			nodes = append(nodes, Node{
				ID:     fmt.Sprintf("n%d", i/2),
				Zone:   fmt.Sprintf("z%d", spec[i]%8),
				Weight: float64(spec[i+1]) / 16,
			})
		}
		eligible := false
		for _, nd := range nodes {
			eligible = eligible || nd.Weight > 0
		}
		if !eligible || n == 0 {
			if _, err := Place(testKey, nodes, stripe, int(n)); err == nil {
				t.Fatal("no error for no eligible nodes or n = 0")
			}
			return
		}
		checkInvariants(t, nodes, stripe, int(n))
	})
}
