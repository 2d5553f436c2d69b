package erasure

import (
	"errors"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestShardNameRoundTrip(t *testing.T) {
	chunks := []cid.Cid{ChunkCID([]byte("a chunk")), ChunkCID(nil), ShardCID([]byte("any CID will do"))}
	seen := map[cid.Cid]bool{}
	for _, c := range chunks {
		for _, km := range [][2]int{{4, 2}, {1, 0}, {10, 4}, {200, 56}, {256, 0}} {
			k, m := km[0], km[1]
			for _, i := range slices.Compact([]int{0, k - 1, k + m - 1}) {
				id, err := ShardName(c, k, m, i)
				if err != nil {
					t.Fatalf("ShardName(%s, %d, %d, %d): %v", c, k, m, i, err)
				}
				if seen[id] {
					t.Fatalf("ShardName(%s, %d, %d, %d) = %s, a name given before", c, k, m, i, id)
				}
				seen[id] = true
				gc, gk, gm, gi, ok := ParseShardName(id)
				if !ok || gc != c || gk != k || gm != m || gi != i {
					t.Fatalf("ParseShardName(ShardName(%s, %d, %d, %d)) = %s, %d, %d, %d, %v", c, k, m, i, gc, gk, gm, gi, ok)
				}
				// The name survives its text form, as manifests and the node
				// API carry it.
				back, err := cid.Decode(id.String())
				if err != nil || back != id || !IsShardName(back) {
					t.Fatalf("%s does not survive its text form: %s, %v", id, back, err)
				}
				if err := Verify(id, []byte("anything")); !errors.Is(err, ErrNotContentAddressed) {
					t.Fatalf("Verify(shard name): %v, want ErrNotContentAddressed", err)
				}
			}
		}
	}
	again, _ := ShardName(chunks[0], 4, 2, 3)
	if !seen[again] {
		t.Fatal("ShardName is not a function of its inputs")
	}
}

func TestShardNameRefuses(t *testing.T) {
	c := ChunkCID([]byte("x"))
	for _, tc := range [][3]int{{0, 2, 0}, {4, -1, 0}, {4, 2, 6}, {4, 2, -1}, {200, 57, 0}} {
		if id, err := ShardName(c, tc[0], tc[1], tc[2]); err == nil {
			t.Errorf("ShardName(k=%d, m=%d, i=%d) = %s, want an error", tc[0], tc[1], tc[2], id)
		}
	}
	if _, err := ShardName(cid.Undef, 4, 2, 0); err == nil {
		t.Error("ShardName of an undefined chunk CID succeeded")
	}
	// Content addresses and malformed names are not shard names.
	bad := []cid.Cid{c, ShardCID([]byte("x")), cid.NewCidV1(ShardNameCodec, c.Hash())}
	named, _ := ShardName(c, 4, 2, 1)
	for _, cut := range []int{1, 3, 6} {
		h := named.Hash()
		h = append([]byte{h[0], byte(len(h) - 2 - cut)}, h[2:len(h)-cut]...)
		bad = append(bad, cid.NewCidV1(ShardNameCodec, h))
	}
	for _, id := range bad {
		if IsShardName(id) {
			t.Errorf("%s taken for a shard name", id)
		}
	}
}
