//go:build integration

package itest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/admin/adminapi"
	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
	"cairn/internal/metrics/metricstest"
)

// gcGrace is the --gc-grace of the garbage collection tests: short, so
// that they see it pass; healing passes every second.
const gcGrace = 3 * time.Second

func startGCDev(t *testing.T) *proc {
	t.Helper()
	return startDevArgs(t, "", []string{"--gc-grace", gcGrace.String(), "--heal-interval", "1s"},
		"CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
}

// allocated is the space every storage directory of the dev cluster takes
// on the disk (st_blocks).
func allocated(t *testing.T, p *proc) int64 {
	t.Helper()
	var total int64
	for _, d := range p.nodeDirs() {
		n, err := blobtest.AllocatedBytes(d)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestGCReturnsBytes (issue 12, item 4): objects written (plain, multipart
// with a part uploaded twice, one overwritten, an upload aborted) and then
// all deleted: once the grace period passes, healing deletes their
// shards, the stores compact, and the space all storage directories take
// falls back to what it was before the first write, within a fixed
// overhead: blobtest.ReclaimOverhead per store (64 KiB: directories that
// grew do not shrink on ext4), 384 KiB for the six, whatever was written.
func TestGCReturnsBytes(t *testing.T) {
	p := startGCDev(t)
	ctx := ctxT(t)
	c := p.client()
	core := minio.Core{Client: c}
	before := allocated(t, p)
	mkBucket(t, c, "gcbytes")
	set := putSet(t, c, "gcbytes")
	// Overwritten: the first version's chunks become garbage at once.
	for _, seed := range []uint64{70, 71} {
		if _, err := c.PutObject(ctx, "gcbytes", "again", newPayload(seed, 2*MiB+3), 2*MiB+3, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Multipart, part 2 uploaded twice (the first upload's chunks are
	// garbage once replaced).
	id, err := core.NewMultipartUpload(ctx, "gcbytes", "parts", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []minio.CompletePart
	for i, seed := range []uint64{80, 81, 82} {
		n := i + 1
		if n == 3 {
			n = 2
		}
		op, err := core.PutObjectPart(ctx, "gcbytes", "parts", id, n, bytes.NewReader(payloadBytes(seed, 5*MiB+1)), 5*MiB+1, minio.PutObjectPartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i != 1 {
			parts = append(parts, minio.CompletePart{PartNumber: n, ETag: op.ETag})
		}
	}
	if _, err := core.CompleteMultipartUpload(ctx, "gcbytes", "parts", id, parts, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// An upload with two parts, aborted.
	id, err = core.NewMultipartUpload(ctx, "gcbytes", "aborted", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ {
		if _, err := core.PutObjectPart(ctx, "gcbytes", "aborted", id, n, bytes.NewReader(payloadBytes(uint64(90+n), 5*MiB+7)), 5*MiB+7, minio.PutObjectPartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := core.AbortMultipartUpload(ctx, "gcbytes", "aborted", id); err != nil {
		t.Fatal(err)
	}
	full := allocated(t, p)
	checkSet(t, c, "gcbytes", set)

	for _, key := range []string{"again", "parts"} {
		set = append(set, stored{key: key})
	}
	for _, s := range set {
		if err := c.RemoveObject(ctx, "gcbytes", s.key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deleted := time.Now()
	overhead := int64(len(p.nodeDirs())) * blobtest.ReclaimOverhead
	var now int64
	// The grace period, a heal pass or two to delete the shards, and a
	// compaction or two (30 s apart): the segments that held the shards
	// go, and those of the tombstones their deletes appended.
	waitFor(t, 3*time.Minute, "the bytes to return", func() error {
		now = allocated(t, p)
		if now > before+overhead {
			return fmt.Errorf("%d bytes allocated, %d before the writes (+%d)", now, before, overhead)
		}
		return nil
	})
	t.Logf("allocated under the storage dirs: %d bytes before the writes, %d with the objects, %d %v after they were deleted (overhead allowed %d)",
		before, full, now, time.Since(deleted).Round(time.Second), overhead)
	if full < before+40*MiB {
		t.Fatalf("the writes took only %d bytes: the test proves nothing", full-before)
	}
	if recs := shardRecords(t, p); len(recs) != 0 {
		t.Fatalf("%d shards still held", len(recs))
	}
}

// TestGCRaceWithPut (issue 12, item 4): an object is deleted, so that its
// one chunk becomes garbage, and around the time the grace period ends,
// while healing collects the chunk, the same content is PUT under a new
// key; many times over (CAIRN_GC_RACE_ROUNDS, default 30). The new object
// always reads back, also once every collection that could touch its
// chunk is over. The PUTs are spread around the collection, and the test
// checks that both sides were hit: some PUTs took the garbage chunk back
// before it was collected (its shards stayed where they were), some came
// after (its shards were written again).
//
// A PUT is refused with 503 SlowDown while its chunk is being collected,
// and when the chunk was forgotten (its collection ended) after the
// gateway's first metadata read for it (its fence): minio-go's own
// retries of a SlowDown must carry every PUT through.
func TestGCRaceWithPut(t *testing.T) {
	rounds := 30
	if s := os.Getenv("CAIRN_GC_RACE_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_GC_RACE_ROUNDS=%q: want a positive count", s)
		}
		rounds = n
	}
	p := startGCDev(t)
	ctx := ctxT(t)
	c := p.client()
	// minio-go's default retries, unlike p.client's two.
	retrying, err := minio.New(p.endpoint, &minio.Options{Creds: credentials.NewStaticV4(p.access, p.secret, ""), Region: region})
	if err != nil {
		t.Fatal(err)
	}
	adm := p.adminClient()
	mkBucket(t, c, "race")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	type race struct {
		data   []byte
		shards map[string]blob.ShardRecord // by CID: where they were before the delete
		offset time.Duration               // the PUT, after the delete plus the grace
		gaveUp int                         // times minio-go's retries ran out
		err    error
	}
	const batch = 6
	var all []*race
	for first := 0; first < rounds; first += batch {
		var rs []*race
		for i := first; i < min(first+batch, rounds); i++ {
			// One chunk, striped: 300 KiB.
			r := &race{data: payloadBytes(seed+uint64(i), 300<<10), shards: map[string]blob.ShardRecord{},
				offset: time.Duration(rng.Int64N(int64(4*time.Second))) - 1500*time.Millisecond}
			if _, err := c.PutObject(ctx, "race", fmt.Sprintf("a-%d", i), bytes.NewReader(r.data), int64(len(r.data)), minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		held := map[string]blob.ShardRecord{}
		for _, rec := range shardRecords(t, p) {
			held[rec.CID.String()] = rec
		}
		for j, r := range rs {
			st, err := adm.ObjectStat(ctx, "race", fmt.Sprintf("a-%d", first+j))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Chunks) != 1 || st.Chunks[0].Inline || len(st.Chunks[0].Shards) != 6 {
				t.Fatalf("a-%d: %+v, want one chunk of six shards", first+j, st.Chunks)
			}
			for _, s := range st.Chunks[0].Shards {
				rec, ok := held[s.CID]
				if !ok {
					t.Fatalf("a-%d: shard %s is held nowhere", first+j, s.CID)
				}
				r.shards[s.CID] = rec
			}
		}
		var wg sync.WaitGroup
		for j, r := range rs {
			i := first + j
			wg.Go(func() {
				if err := c.RemoveObject(ctx, "race", fmt.Sprintf("a-%d", i), minio.RemoveObjectOptions{}); err != nil {
					r.err = err
					return
				}
				time.Sleep(gcGrace + r.offset)
				r.gaveUp, r.err = putAgain(ctx, retrying, "race", fmt.Sprintf("b-%d", i), r.data)
			})
		}
		wg.Wait()
		for j, r := range rs {
			if r.err != nil {
				t.Fatalf("race %d: %v", first+j, r.err)
			}
		}
		all = append(all, rs...)
	}

	// Every collection that could have touched a chunk is over once a
	// grace period and a few passes went by after the last PUT.
	time.Sleep(gcGrace + 3*time.Second)
	held := map[string]blob.ShardRecord{}
	for _, rec := range shardRecords(t, p) {
		held[rec.CID.String()] = rec
	}
	var kept, rewritten, gaveUp int
	for i, r := range all {
		key := fmt.Sprintf("b-%d", i)
		obj, err := c.GetObject(ctx, "race", key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, r.data) {
			t.Fatalf("%s (PUT %v after the grace): read %d of %d bytes, equal %v, err %v",
				key, r.offset, len(got), len(r.data), bytes.Equal(got, r.data), err)
		}
		same := 0
		for id, was := range r.shards {
			now, ok := held[id]
			if !ok {
				t.Fatalf("%s: shard %s is held nowhere", key, id)
			}
			if now.Path == was.Path && now.Offset == was.Offset {
				same++
			}
		}
		gaveUp += r.gaveUp
		switch same {
		case len(r.shards):
			kept++
		case 0:
			rewritten++
		default:
			t.Logf("%s: %d of %d shards in their old records", key, same, len(r.shards))
		}
	}
	m, err := metricstest.Scrape(ctx, http.DefaultClient, p.metrics)
	if err != nil {
		t.Fatal(err)
	}
	slowDowns, _ := m.Value("cairn_s3_requests_total", "op", "PutObject", "code", "503")
	t.Logf("%d races: %d PUTs took the garbage chunk back before its collection, %d wrote it again after; "+
		"%v PUT attempts refused with SlowDown, %d times minio-go's retries ran out",
		len(all), kept, rewritten, slowDowns, gaveUp)
	if rounds >= 10 && (kept == 0 || rewritten == 0) {
		t.Fatalf("the PUTs did not straddle the collections (%d before, %d after): the race was not run", kept, rewritten)
	}
}

// putAgain PUTs data under key with c, whose own retries of a SlowDown
// must carry it through; it returns how many times they ran out (0, or
// an error).
func putAgain(ctx context.Context, c *minio.Client, bucket, key string, data []byte) (gaveUp int, err error) {
	if _, err := c.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		return 1, fmt.Errorf("put %s, with minio-go's retries: %w", key, err)
	}
	return 0, nil
}

// adminClient returns an admin API client of the dev cluster's metadata
// node, from the banner's storectl flags.
func (p *proc) adminClient() *adminapi.Client {
	p.t.Helper()
	if len(p.admin) != 4 || p.admin[0] != "--node" || p.admin[2] != "--token-file" {
		p.t.Fatalf("the banner's Admin line gave %q, want --node URL --token-file FILE", p.admin)
	}
	tok, err := os.ReadFile(p.admin[3])
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := adminapi.NewClient(p.admin[1], string(bytes.TrimSpace(tok)), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}
