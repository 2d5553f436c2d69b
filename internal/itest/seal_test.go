//go:build integration

package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/minio/minio-go/v7"

	"cairn/erasure"
	"cairn/internal/admin/adminapi"
	"cairn/internal/blob"
	"cairn/internal/gateway"
)

// canaryObject is an object made of a distinctive text, so that its
// plaintext can be looked for on the storage nodes' disks.
type canaryObject struct {
	clusterObject
	data   []byte
	chunks []cid.Cid // the plaintext chunk CIDs, cut as erasure cuts them
}

// canaryObjects makes objects of the given sizes whose bytes repeat a line
// that starts with canary.
func canaryObjects(t *testing.T, prefix, canary string, sizes []int) []canaryObject {
	t.Helper()
	var out []canaryObject
	for i, size := range sizes {
		var b bytes.Buffer
		for n := 0; b.Len() < size; n++ {
			fmt.Fprintf(&b, "%s line %d of object %d: the quick brown fox jumps over the lazy dog.\n", canary, n, i)
		}
		data := b.Bytes()[:size]
		o := canaryObject{clusterObject: clusterObject{key: fmt.Sprintf("%s/%d-%d", prefix, i, size), size: int64(size)}, data: data}
		o.sum = sha256.Sum256(data)
		ck := erasure.NewChunker(bytes.NewReader(data), erasure.DefaultChunkSize)
		buf := make([]byte, erasure.DefaultChunkSize)
		for {
			chunk, err := ck.Next(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			o.chunks = append(o.chunks, erasure.ChunkCID(chunk))
		}
		out = append(out, o)
	}
	return out
}

// putCanaries writes the objects through a gateway with minio-go.
func (c *testCluster) putCanaries(ctx context.Context, gw *clusterNode, objs []canaryObject) []clusterObject {
	c.t.Helper()
	var out []clusterObject
	for _, o := range objs {
		if _, err := c.s3(gw).PutObject(ctx, clusterBucket, o.key, bytes.NewReader(o.data), o.size, minio.PutObjectOptions{}); err != nil {
			c.t.Fatalf("put %s: %v", o.key, err)
		}
		out = append(out, o.clusterObject)
	}
	return out
}

// grepStorage counts the occurrences of needle in every file under every
// node's storage directory, raw bytes, recursively.
func (c *testCluster) grepStorage(needle []byte) (hits int, files int) {
	c.t.Helper()
	for _, n := range c.nodes {
		err := filepath.WalkDir(filepath.Join(n.dir, "shards"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			hits += bytes.Count(b, needle)
			return nil
		})
		if err != nil {
			c.t.Fatal(err)
		}
	}
	return hits, files
}

// shardNames lists the shard names every node's store holds, by node.
func (c *testCluster) shardNames() map[string][]cid.Cid {
	c.t.Helper()
	out := map[string][]cid.Cid{}
	for _, n := range c.nodes {
		recs, err := blob.Records(filepath.Join(n.dir, "shards"))
		if err != nil {
			c.t.Fatal(err)
		}
		for _, r := range recs {
			out[n.name] = append(out[n.name], r.CID)
		}
	}
	return out
}

// legacyShards returns the shards on the nodes whose name holds a
// plaintext chunk CID (an unsealed stripe's), or that are not shard names.
func (c *testCluster) legacyShards() []string {
	c.t.Helper()
	var legacy []string
	for node, ids := range c.shardNames() {
		for _, id := range ids {
			if inner, _, _, _, ok := erasure.ParseShardName(id); !ok || !erasure.IsChunkName(inner) {
				legacy = append(legacy, node+":"+id.String())
			}
		}
	}
	slices.Sort(legacy)
	return legacy
}

// sealStatus runs storectl seal status --json.
func (c *testCluster) sealStatus(via *clusterNode) adminapi.SealStatus {
	c.t.Helper()
	out, err := c.storectl(via, "--json", "seal", "status")
	if err != nil {
		c.t.Fatal(err)
	}
	var ss adminapi.SealStatus
	if err := json.Unmarshal([]byte(out), &ss); err != nil {
		c.t.Fatalf("storectl seal status --json printed %q: %v", out, err)
	}
	return ss
}

// TestSealCanary: objects above the inline size, made of a distinctive
// text, written through S3 to a cluster of three storaged processes,
// leave no byte of that text on any storage node's disk, and no shard name
// there holds the CID of any of their chunks (nor its digest); they read
// back equal.
func TestSealCanary(t *testing.T) {
	c := newShapedCluster(t, threeNodes(), nil)
	ctx := ctxT(t)
	c.bringUp(ctx)
	canary := fmt.Sprintf("CAIRN-CANARY-%x", time.Now().UnixNano())
	objs := canaryObjects(t, "canary", canary, []int{gateway.DefaultInlineMax + 1, 200 << 10, MiB, MiB + 4321, 3*MiB + 17})
	written := c.putCanaries(ctx, c.nodes[0], objs)
	c.checkEverywhere(ctx, written)

	// The premise: every chunk's stripe is on the nodes, sealed.
	names := c.shardNames()
	total := 0
	for _, ids := range names {
		total += len(ids)
	}
	chunks := 0
	for _, o := range objs {
		chunks += len(o.chunks)
		st, err := c.admin(c.nodes[0]).ObjectStat(ctx, clusterBucket, o.key)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range st.Chunks {
			if ch.Inline || ch.Seal != erasure.SealV1 || ch.Name == "" {
				t.Fatalf("%s chunk %d: inline %v, seal %d, name %q: not a sealed stripe", o.key, ch.Index, ch.Inline, ch.Seal, ch.Name)
			}
		}
	}
	if total < 6*chunks {
		t.Fatalf("the nodes hold %d shards for %d chunks of 4+2", total, chunks)
	}

	hits, files := c.grepStorage([]byte(canary))
	if files == 0 {
		t.Fatal("no file in the storage directories")
	}
	if hits != 0 {
		t.Fatalf("the canary is %d times in the %d files of the storage directories: plaintext left the gateway", hits, files)
	}
	for node, ids := range names {
		for _, id := range ids {
			for _, o := range objs {
				for _, ch := range o.chunks {
					if bytes.Contains(id.Bytes(), ch.Bytes()) || bytes.Contains(id.Bytes(), ch.Hash()[2:]) {
						t.Fatalf("shard %s on %s names chunk %s of %s", id, node, ch, o.key)
					}
				}
			}
		}
	}
	t.Logf("%d shards in %d files on %d nodes: no canary, no chunk CID", total, files, len(names))
}

// TestSealMigration: a cluster that wrote with --seal=false (its storage
// nodes hold the plaintext, under names that hold the chunks' CIDs) is
// restarted with sealing on, reads everything back, and storectl seal
// migrate seals every stripe: seal status and the chunk records say no
// unsealed stripe is left, and once the GC grace has passed no node holds
// a legacy shard; everything still reads back byte for byte.
func TestSealMigration(t *testing.T) {
	c := newShapedCluster(t, threeNodes(), nil)
	c.healEvery("2s", "--gc-grace", "3s")
	for _, n := range c.nodes {
		n.extra = append(n.extra, "--seal=false")
	}
	ctx := ctxT(t)
	c.bringUp(ctx)
	canary := fmt.Sprintf("CAIRN-LEGACY-%x", time.Now().UnixNano())
	objs := canaryObjects(t, "legacy", canary, []int{100, gateway.DefaultInlineMax + 1, 300 << 10, MiB + 1, 2*MiB + 99})
	written := c.putCanaries(ctx, c.nodes[1], objs)

	// The premise: the data is unsealed, plaintext on disk, under names
	// that hold the chunks' CIDs.
	if hits, _ := c.grepStorage([]byte(canary)); hits == 0 {
		t.Fatal("with --seal=false the canary is on no disk: the grep or the premise is wrong")
	}
	legacy := c.legacyShards()
	if len(legacy) == 0 {
		t.Fatal("with --seal=false no node holds an unsealed shard")
	}
	for _, ci := range c.chunkRecords(ctx) {
		if ci.Stripe.Seal != 0 {
			t.Fatalf("chunk %x was written sealed by a gateway with --seal=false", ci.CID)
		}
	}
	if ss := c.sealStatus(c.nodes[0]); ss.Migrate {
		t.Fatalf("seal status before the migration: %+v", ss)
	}

	// Every node again, with sealing on (the default).
	for _, n := range c.nodes {
		n.kill()
		n.extra = slices.DeleteFunc(n.extra, func(a string) bool { return a == "--seal=false" })
	}
	c.startAll(true)
	c.waitGossip(ctx)
	c.checkEverywhere(ctx, written)
	// A new write is sealed now.
	fresh := canaryObjects(t, "fresh", canary, []int{200 << 10})
	written = append(written, c.putCanaries(ctx, c.nodes[2], fresh)...)
	if st, err := c.admin(c.nodes[0]).ObjectStat(ctx, clusterBucket, fresh[0].key); err != nil || st.Chunks[0].Seal != erasure.SealV1 {
		t.Fatalf("a write after the restart: %+v %v", st, err)
	}

	mctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(mctx, storectlBin, "--node", "http://"+c.nodes[0].admin, "--token", c.token, "seal", "migrate")
	cmd.Env = withoutCairnEnv(os.Environ())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("storectl seal migrate: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Every live stripe is sealed") {
		t.Fatalf("storectl seal migrate ended without saying so:\n%s", out)
	}
	ss := c.sealStatus(c.nodes[1])
	if !ss.Migrate || !ss.Done || ss.Unsealed != 0 || ss.Sealed == 0 {
		t.Fatalf("seal status after the migration: %+v", ss)
	}
	recs := c.chunkRecords(ctx)
	for _, ci := range recs {
		if ci.Stripe.Seal != erasure.SealV1 || ci.Stripe.Name == nil || len(ci.Stripe.Sums) != len(ci.Stripe.Shards) {
			t.Fatalf("chunk %x: seal %d, name %x, %d sums after the migration", ci.CID, ci.Stripe.Seal, ci.Stripe.Name, len(ci.Stripe.Sums))
		}
	}
	t.Logf("%d live chunk records, all sealed; %d legacy shards to go", len(recs), len(legacy))

	// The old shards go as strays once unnamed for the GC grace: the
	// healer needs a pass to see them unnamed, and one after the grace.
	// Then every shard a node holds is one a record names.
	waitFor(t, 2*time.Minute, "no legacy shard, nor any shard no record names, on any node", func() error {
		if l := c.legacyShards(); len(l) > 0 {
			return fmt.Errorf("%d legacy shards left, such as %s (kick: %v)", len(l), l[0], c.admin(c.nodes[0]).Kick(ctx))
		}
		named := map[string]bool{}
		for _, ci := range c.chunkRecords(ctx) {
			for _, s := range ci.Stripe.Shards {
				named[string(s)] = true
			}
		}
		for node, ids := range c.shardNames() {
			for _, id := range ids {
				if !named[string(id.Bytes())] {
					return fmt.Errorf("%s holds %s, which no record names (kick: %v)", node, id, c.admin(c.nodes[0]).Kick(ctx))
				}
			}
		}
		return nil
	})
	c.checkEverywhere(ctx, written)
}
