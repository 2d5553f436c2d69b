package erasure_test

import (
	"fmt"
	"io"
	"log"
	"strings"

	"cairn/erasure"
)

// A chunk is coded into 4 data and 2 parity shards; any two may be lost.
func ExampleCodec() {
	codec, err := erasure.NewCodec(4, 2)
	if err != nil {
		log.Fatal(err)
	}
	chunk := []byte("a cairn still stands when a few stones fall")
	shards, err := codec.Encode(chunk, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("shards:", len(shards), "of", codec.ShardSize(len(chunk)), "bytes")

	// Each shard is content-addressed, so a reader can check it.
	ids := make([]string, len(shards))
	for i, s := range shards {
		ids[i] = erasure.ShardCID(s).String()
	}

	// Two storage nodes are down: shards 1 (data) and 4 (parity) are lost.
	shards[1], shards[4] = nil, nil
	if err := codec.ReconstructData(shards); err != nil {
		log.Fatal(err)
	}
	got, err := codec.Join(nil, shards, len(chunk))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(got))
	fmt.Println("rebuilt shard 1 verifies:", erasure.ShardCID(shards[1]).String() == ids[1])

	// Parity shard 4 is still missing: two more losses are one too many.
	shards[0], shards[2] = nil, nil
	err = codec.ReconstructData(shards)
	fmt.Println(err)
	// Output:
	// shards: 6 of 11 bytes
	// a cairn still stands when a few stones fall
	// rebuilt shard 1 verifies: true
	// erasure: too few shards to reconstruct: 3 of 6 present, 4 needed
}

// An object's root CID is computed while it streams through, chunk by chunk.
func ExampleDAGBuilder() {
	body := strings.NewReader(strings.Repeat("cairn ", 500_000)) // 3 MB
	chunker := erasure.NewChunker(body, erasure.DefaultChunkSize)
	buf := make([]byte, erasure.DefaultChunkSize)
	dag := erasure.NewDAGBuilder()
	for {
		chunk, err := chunker.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		dag.Add(erasure.ChunkCID(chunk), uint64(len(chunk)))
	}
	root, err := dag.Root()
	if err != nil {
		log.Fatal(err)
	}
	// The same CID as `ipfs add --cid-version=1 --raw-leaves --chunker=size-1048576`.
	fmt.Println(root)
	// Output:
	// bafybeicyivk6pfpirtrijnlqnfhimxzdmnsnk7rucy5x3ydv4gwfgnawja
}
