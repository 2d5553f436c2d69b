//go:build faultinject

package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
)

// TestFaults: CAIRN_FAULT drops or alters about its fraction of the
// shards on GET, the same ones every time, while HEAD and the inventory
// list them all.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"drop", "alter"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("CAIRN_FAULT", mode+":0.25")
			st, err := blob.Open(filepath.Join(t.TempDir(), "shards"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			f, err := withFaults(st, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			const n = 400
			hit := 0
			for i := range n {
				data := []byte(fmt.Sprintf("shard %d", i))
				id, _ := erasure.ShardName(erasure.ChunkCID(data), 4, 2, i%6)
				if err := f.Put(ctx, id, data); err != nil {
					t.Fatal(err)
				}
				if ok, err := f.Has(ctx, id); !ok || err != nil {
					t.Fatalf("HEAD of a stored shard: %v %v", ok, err)
				}
				got, err := f.Get(ctx, id, nil)
				switch {
				case mode == "drop" && errors.Is(err, blob.ErrNotFound):
					hit++
				case mode == "alter" && err == nil && len(got) == len(data) && !bytes.Equal(got, data):
					hit++
				case err != nil || !bytes.Equal(got, data):
					t.Fatalf("shard %d: %q, %v", i, got, err)
				}
				again, err2 := f.Get(ctx, id, nil)
				if (err == nil) != (err2 == nil) || !bytes.Equal(got, again) {
					t.Fatalf("shard %d misbehaves differently the second time", i)
				}
			}
			listed := 0
			if err := f.Walk(ctx, func(_ cid.Cid, _ int64) error { listed++; return nil }); err != nil || listed != n {
				t.Fatalf("the inventory lists %d of %d shards: %v", listed, n, err)
			}
			if hit < n/8 || hit > n*3/8 {
				t.Fatalf("%d of %d shards misbehave, want about a quarter", hit, n)
			}
		})
	}
	t.Setenv("CAIRN_FAULT", "lose:0.1")
	if _, err := withFaults(nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("an unknown mode was accepted")
	}
}
