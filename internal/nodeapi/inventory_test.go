package nodeapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/internal/nodeapi"
)

// TestInventoryPaging pages through a node's inventory: pages are in
// binary CID order, complete, and end exactly when the shards do.
func TestInventoryPaging(t *testing.T) {
	ctx := context.Background()
	ds := openDir(t)
	url := serve(t, ds, nil)
	c := dial(t, url, nil)
	want := map[cid.Cid]int64{}
	for i := range 25 {
		id, data := shard(t, uint64(i), 100+i)
		if err := c.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		want[id] = int64(len(data))
	}
	var all []nodeapi.ShardInfo
	var sizes []int
	after := cid.Undef
	for {
		page, next, err := c.Inventory(ctx, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page))
		all = append(all, page...)
		if !next.Defined() {
			break
		}
		if !next.Equals(page[len(page)-1].ID) {
			t.Fatalf("next marker %s is not the page's last shard", next)
		}
		after = next
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Fatalf("page sizes %v, want [10 10 5]", sizes)
	}
	if !slices.IsSortedFunc(all, func(a, b nodeapi.ShardInfo) int { return strings.Compare(a.ID.KeyString(), b.ID.KeyString()) }) {
		t.Fatal("inventory not in binary CID order")
	}
	if len(all) != len(want) {
		t.Fatalf("inventory lists %d shards, want %d", len(all), len(want))
	}
	for _, e := range all {
		if want[e.ID] != e.Size {
			t.Fatalf("inventory: %s size %d, want %d", e.ID, e.Size, want[e.ID])
		}
	}

	// Exactly two full pages: the second says end, no empty third page.
	for _, e := range all[20:] {
		if err := c.Delete(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := c.Inventory(ctx, all[9].ID, 10)
	if err != nil || len(page) != 10 || next.Defined() {
		t.Fatalf("second of two full pages: %d shards, next %v, %v; want 10 and the end", len(page), next, err)
	}

	// Walk with pages of 3 sees every shard once.
	c3 := dial(t, url, func(c *nodeapi.ClientConfig) { c.PageSize = 3 })
	seen := map[cid.Cid]int{}
	if err := c3.Walk(ctx, func(id cid.Cid, _ int64) error { seen[id]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 20 {
		t.Fatalf("Walk saw %d shards, want 20", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("Walk saw %s %d times", id, n)
		}
	}

	if _, _, err := c.Inventory(ctx, cid.Undef, 0); err == nil {
		t.Error("Inventory with limit 0 succeeded")
	}
	if _, _, err := c.Inventory(ctx, cid.Undef, nodeapi.MaxPageSize+1); err == nil {
		t.Error("Inventory over MaxPageSize succeeded")
	}
	s := signer(t, secret)
	for _, q := range []string{"limit=0", "limit=abc", "limit=-1", "after=notacid"} {
		resp, body := send(t, rawRequest(t, "GET", url+"/v1/shards?"+q, nil, s, emptyHash))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Cairn-Error") != "BadRequest" {
			t.Errorf("GET /v1/shards?%s: %d %s", q, resp.StatusCode, body)
		}
	}
	// The raw format, as doc.go describes it.
	resp, body := send(t, rawRequest(t, "GET", url+"/v1/shards?limit=2", nil, s, emptyHash))
	lines := strings.Split(body, "\n")
	if resp.StatusCode != 200 || len(lines) != 4 || lines[3] != "" ||
		lines[0] != fmt.Sprintf("%s %d", all[0].ID, all[0].Size) ||
		lines[1] != fmt.Sprintf("%s %d", all[1].ID, all[1].Size) ||
		lines[2] != "next "+all[1].ID.String() {
		t.Fatalf("raw page: %d %q", resp.StatusCode, body)
	}
}

// TestStatus: a node reports its identity and usage.
func TestStatus(t *testing.T) {
	ctx := context.Background()
	c := dial(t, serve(t, openDir(t), func(cfg *nodeapi.ServerConfig) {
		cfg.NodeID, cfg.Zone, cfg.Weight = "n7", "eu-west", 3.25
	}), nil)
	for i := range 3 {
		id, data := shard(t, uint64(i), 1000)
		if err := c.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NodeID != "n7" || st.Zone != "eu-west" || st.Weight != 3.25 ||
		st.Usage.Shards != 3 || st.Usage.Bytes != 3000 || st.Usage.Capacity <= 0 || st.Usage.Free > st.Usage.Capacity {
		t.Fatalf("Status = %+v", st)
	}
}
