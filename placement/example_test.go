package placement_test

import (
	"fmt"

	"cairn/placement"
)

func Example() {
	secret := []byte("cluster secret")
	nodes := []placement.Node{
		{ID: "node-a", Zone: "site-1", Weight: 4},
		{ID: "node-b", Zone: "site-1", Weight: 4},
		{ID: "node-c", Zone: "site-2", Weight: 8},
		{ID: "node-d", Zone: "site-2", Weight: 2},
		{ID: "node-e", Zone: "site-3", Weight: 4},
		{ID: "node-f", Zone: "site-3", Weight: 4},
		{ID: "node-g", Zone: "site-3", Weight: 4},
	}
	ring, err := placement.NewRing(secret, nodes)
	if err != nil {
		panic(err)
	}
	shards, err := ring.Place([]byte("stripe CID bytes"), 6) // 4+2
	if err != nil {
		panic(err)
	}
	for i, id := range shards {
		fmt.Printf("shard %d -> %s\n", i, id)
	}
	fmt.Println("most shards in one zone:", placement.MaxPerZone(nodes, 6))
	fmt.Println("survives a zone loss:", placement.ZoneSafe(nodes, 4, 2))
	// Output:
	// shard 0 -> node-b
	// shard 1 -> node-a
	// shard 2 -> node-c
	// shard 3 -> node-d
	// shard 4 -> node-e
	// shard 5 -> node-f
	// most shards in one zone: 2
	// survives a zone loss: true
}
