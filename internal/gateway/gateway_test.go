package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/meta"
	"cairn/s3gw"
)

// faultyStore wraps a shard store with switchable failures.
type faultyStore struct {
	ShardStore
	down    atomic.Bool  // every call fails
	corrupt atomic.Bool  // Get returns flipped bytes
	stall   atomic.Bool  // Get blocks until its context ends
	delay   atomic.Int64 // ns every Get waits first
	gets    atomic.Int64
	stalled atomic.Int64 // Gets that ended by cancellation
}

var (
	errDown  = errors.New("node down")
	testTime = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
)

func (f *faultyStore) Put(ctx context.Context, id cid.Cid, data []byte) error {
	if f.down.Load() {
		return errDown
	}
	return f.ShardStore.Put(ctx, id, data)
}

func (f *faultyStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	f.gets.Add(1)
	if f.down.Load() {
		return nil, errDown
	}
	if f.stall.Load() {
		<-ctx.Done()
		f.stalled.Add(1)
		return nil, ctx.Err()
	}
	if d := time.Duration(f.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			f.stalled.Add(1)
			return nil, ctx.Err()
		}
	}
	b, err := f.ShardStore.Get(ctx, id, dst)
	if err == nil && f.corrupt.Load() && len(b) > 0 {
		b[len(b)/2] ^= 1
	}
	return b, err
}

type testNodes map[string]*faultyStore

func (n testNodes) Shards(id string) (ShardStore, error) {
	s, ok := n[id]
	if !ok {
		return nil, fmt.Errorf("no node %s", id)
	}
	return s, nil
}

type env struct {
	g     *Gateway
	ms    *meta.Store
	cfg   Config
	nodes testNodes
	ids   []string
}

// newEnv builds a gateway over a real single-voter metadata store and six
// real directory stores in three zones, with chunkSize-byte chunks.
func newEnv(t *testing.T, chunkSize int) *env {
	t.Helper()
	return newEnvNodes(t, chunkSize, 6)
}

// newEnvNodes is newEnv with n storage nodes, n0 to n(n-1), node i in
// zone z(i%3).
func newEnvNodes(t *testing.T, chunkSize, n int) *env {
	t.Helper()
	dir := t.TempDir()
	_, tr := raft.NewInmemTransport("")
	mc := meta.Default()
	mc.Dir, mc.NodeID, mc.Transport, mc.Bootstrap = filepath.Join(dir, "meta"), "n1", tr, true
	ms, err := meta.Open(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	ctx := context.Background()
	if err := ms.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	l := &meta.Layout{V: 1, Version: 1, PlacementKey: []byte("test key")}
	e := &env{nodes: testNodes{}, ms: ms}
	for i := range n {
		id := fmt.Sprintf("n%d", i)
		st, err := blob.OpenDir(filepath.Join(dir, id))
		if err != nil {
			t.Fatal(err)
		}
		e.nodes[id] = &faultyStore{ShardStore: st}
		e.ids = append(e.ids, id)
		l.Nodes = append(l.Nodes, meta.LayoutNode{ID: id, Zone: fmt.Sprintf("z%d", i%3), Weight: 1})
	}
	if err := ms.SetLayout(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := ms.CreateBucket(ctx, "b", testTime); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Meta, cfg.Nodes, cfg.ChunkSize = ms, e.nodes, chunkSize
	cfg.HedgeAfter = 20 * time.Millisecond
	e.cfg = cfg
	e.g, err = New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (e *env) put(t *testing.T, key string, data []byte) s3gw.ObjectInfo {
	t.Helper()
	info, err := e.g.PutObject(context.Background(), "b", key, bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return info
}

func (e *env) open(key string, off, n int64) (io.ReadCloser, error) {
	ctx := context.Background()
	o, err := e.g.GetObject(ctx, "b", key)
	if err != nil {
		return nil, err
	}
	return o.Open(ctx, off, n)
}

func (e *env) read(key string, off, n int64) ([]byte, error) {
	r, err := e.open(key, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// writerOnly hides any ReadFrom of its writer, as a network connection's
// generic path does, so io.Copy takes the reader's WriteTo.
type writerOnly struct{ io.Writer }

// readVia reads a range of an object through its reader's WriteTo.
func (e *env) readVia(key string, off, n int64) ([]byte, error) {
	r, err := e.open(key, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, ok := r.(io.WriterTo); !ok && n > 0 {
		return nil, fmt.Errorf("reader %T has no WriteTo", r)
	}
	var buf bytes.Buffer
	_, err = io.Copy(writerOnly{&buf}, r)
	return buf.Bytes(), err
}

func TestPutGetSizes(t *testing.T) {
	e := newEnv(t, 1024)
	for _, n := range []int{0, 1, 3, 1023, 1024, 1025, 4096, 10000} {
		data := randBytes(uint64(n), n)
		info := e.put(t, fmt.Sprint(n), data)
		if info.Size != int64(n) || info.ETag != fmt.Sprintf("%x", md5.Sum(data)) {
			t.Fatalf("size %d: info %+v", n, info)
		}
		got, err := e.read(fmt.Sprint(n), 0, int64(n))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read %d bytes, err %v", n, len(got), err)
		}
		// Every range that crosses a chunk boundary.
		for _, r := range [][2]int64{{0, 1}, {1000, 100}, {1023, 2}, {int64(n) / 3, int64(n) / 3}} {
			if r[0]+r[1] > int64(n) {
				continue
			}
			got, err := e.read(fmt.Sprint(n), r[0], r[1])
			if err != nil || !bytes.Equal(got, data[r[0]:r[0]+r[1]]) {
				t.Fatalf("size %d range %v: %d bytes, err %v", n, r, len(got), err)
			}
			got, err = e.readVia(fmt.Sprint(n), r[0], r[1])
			if err != nil || !bytes.Equal(got, data[r[0]:r[0]+r[1]]) {
				t.Fatalf("size %d range %v through WriteTo: %d bytes, err %v", n, r, len(got), err)
			}
		}
	}
}

func TestDegradedAndCorrupt(t *testing.T) {
	e := newEnv(t, 4096)
	data := randBytes(7, 50000)
	e.put(t, "k", data)
	// Any two faults, each pair of nodes: one down and one corrupt, or two
	// that lie (the chunk fails its CID, and the gateway finds the four
	// shards that agree).
	faults := map[string]func(n *faultyStore) *atomic.Bool{
		"down":    func(n *faultyStore) *atomic.Bool { return &n.down },
		"corrupt": func(n *faultyStore) *atomic.Bool { return &n.corrupt },
	}
	for _, pair := range [][2]string{{"down", "corrupt"}, {"corrupt", "down"}, {"corrupt", "corrupt"}} {
		for i := range e.ids {
			for j := i + 1; j < len(e.ids); j++ {
				fa, fb := faults[pair[0]](e.nodes[e.ids[i]]), faults[pair[1]](e.nodes[e.ids[j]])
				fa.Store(true)
				fb.Store(true)
				got, err := e.read("k", 0, int64(len(data)))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s %s, %s %s: %d bytes, err %v", e.ids[i], pair[0], e.ids[j], pair[1], len(got), err)
				}
				fa.Store(false)
				fb.Store(false)
			}
		}
	}
	// Three bad nodes: more than parity covers. An error, never wrong bytes.
	for _, id := range e.ids[:3] {
		e.nodes[id].corrupt.Store(true)
	}
	got, err := e.read("k", 0, int64(len(data)))
	if err == nil {
		t.Fatalf("read with 3 corrupt nodes succeeded (equal=%v)", bytes.Equal(got, data))
	}
	if !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("read with 3 corrupt nodes: %v, want ErrServiceUnavailable", err)
	}
}

// TestShardsAreNamed: a stripe's shards are named by the chunk's CID and
// their place in it (no hash of their bytes), and each node holds the
// shard its name says.
func TestShardsAreNamed(t *testing.T) {
	e := newEnv(t, 4096)
	data := randBytes(9, 4096*2+100)
	e.put(t, "k", data)
	obj, err := e.ms.GetObject(context.Background(), "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(obj.Chunks) != 3 {
		t.Fatalf("%d chunks, want 3", len(obj.Chunks))
	}
	codec, _ := erasure.NewCodec(4, 2)
	for ci, c := range obj.Chunks {
		chunk, err := cid.Cast(c.CID)
		if err != nil {
			t.Fatal(err)
		}
		plain := data[ci*4096 : min((ci+1)*4096, len(data))]
		if chunk != erasure.ChunkCID(plain) {
			t.Fatalf("chunk %d: CID %s is not its bytes'", ci, chunk)
		}
		shards, _ := codec.Encode(plain, nil)
		for i, raw := range c.Stripe.Shards {
			id, _ := cid.Cast(raw)
			want, _ := erasure.ShardName(chunk, 4, 2, i)
			if id != want {
				t.Fatalf("chunk %d shard %d is %s, want %s", ci, i, id, want)
			}
			var held []byte
			for _, n := range e.nodes {
				if b, err := n.Get(context.Background(), id, nil); err == nil {
					held = b
				}
			}
			if !bytes.Equal(held, shards[i]) {
				t.Fatalf("chunk %d shard %d: a node holds %d bytes that are not the shard", ci, i, len(held))
			}
		}
	}
}

func TestHappyPathReadsOnlyDataShards(t *testing.T) {
	e := newEnv(t, 4096)
	e.put(t, "k", randBytes(8, 4096*3))
	var before int64
	for _, n := range e.nodes {
		before += n.gets.Load()
	}
	if _, err := e.read("k", 0, 4096*3); err != nil {
		t.Fatal(err)
	}
	var after int64
	for _, n := range e.nodes {
		after += n.gets.Load()
	}
	if got := after - before; got != 3*4 {
		t.Fatalf("read 3 chunks with %d shard GETs, want 12 (data shards only)", got)
	}
}

func TestWriteQuorum(t *testing.T) {
	e := newEnv(t, 4096)
	e.nodes[e.ids[0]].down.Store(true)
	data := randBytes(9, 9000)
	e.put(t, "one-down", data) // 5 of 6 shards: quorum k+1 holds
	if got, err := e.read("one-down", 0, 9000); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after one-down write: %v", err)
	}
	e.nodes[e.ids[1]].down.Store(true)
	_, err := e.g.PutObject(context.Background(), "b", "two-down", bytes.NewReader(data), 9000, s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("write with two nodes down: %v, want ErrServiceUnavailable", err)
	}
	if _, err := e.g.GetObject(context.Background(), "b", "two-down"); !errors.Is(err, s3gw.ErrNoSuchKey) {
		t.Fatalf("a failed write is visible: %v", err)
	}
}

func TestPutErrors(t *testing.T) {
	e := newEnv(t, 1024)
	ctx := context.Background()
	if _, err := e.g.PutObject(ctx, "nope", "k", bytes.NewReader(nil), 0, s3gw.PutOptions{}); !errors.Is(err, s3gw.ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
	_, err := e.g.PutObject(ctx, "b", "k", bytes.NewReader([]byte("abc")), 3, s3gw.PutOptions{ContentMD5: make([]byte, 16)})
	if !errors.Is(err, s3gw.ErrBadDigest) {
		t.Fatalf("bad MD5: %v", err)
	}
	_, err = e.g.PutObject(ctx, "b", "k", bytes.NewReader([]byte("abc")), 10, s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrIncompleteBody) {
		t.Fatalf("short body: %v", err)
	}
	boom := errors.New("client went away")
	_, err = e.g.PutObject(ctx, "b", "k", io.MultiReader(bytes.NewReader(randBytes(1, 5000)), errReader{boom}), -1, s3gw.PutOptions{})
	if !errors.Is(err, boom) {
		t.Fatalf("reader error: %v", err)
	}
	if _, err := e.g.GetObject(ctx, "b", "k"); !errors.Is(err, s3gw.ErrNoSuchKey) {
		t.Fatalf("failed puts left an object: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestMultipartAndCopy(t *testing.T) {
	e := newEnv(t, 256<<10) // a 5 MiB part in 1 KiB chunks would be 30k fsynced files
	ctx := context.Background()
	id, err := e.g.CreateMultipartUpload(ctx, "b", "mp", s3gw.PutOptions{ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(1, MinPartSize), randBytes(2, 3000)
	var parts []s3gw.CompletePart
	for i, p := range [][]byte{p1, p2} {
		pi, err := e.g.UploadPart(ctx, "b", "mp", id, i+1, bytes.NewReader(p), int64(len(p)), s3gw.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3gw.CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	info, err := e.g.CompleteMultipartUpload(ctx, "b", "mp", id, parts)
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := md5.Sum(p1), md5.Sum(p2)
	if want := fmt.Sprintf("%x-2", md5.Sum(append(m1[:], m2[:]...))); info.ETag != want || info.PartsCount != 2 {
		t.Fatalf("etag %q parts %d, want %q 2", info.ETag, info.PartsCount, want)
	}
	want := append(bytes.Clone(p1), p2...)
	if got, err := e.read("mp", 0, int64(len(want))); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("multipart read: %v", err)
	}
	c, err := e.g.CopyObject(ctx, "b", "mp", "b", "copy", s3gw.CopyOptions{ReplaceMetadata: true, Put: s3gw.PutOptions{ContentType: "x/y"}})
	if err != nil || c.ContentType != "x/y" || c.CID != info.CID {
		t.Fatalf("copy: %+v %v", c, err)
	}
	// Deleting the source leaves the copy readable: chunks are shared.
	if err := e.g.DeleteObject(ctx, "b", "mp"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.read("copy", 0, int64(len(want))); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copy read: %v", err)
	}
}

// TestConcurrentReadersClose opens many readers and closes them part way:
// every read-ahead goroutine and buffer is given back (run with -race).
func TestConcurrentReadersClose(t *testing.T) {
	e := newEnv(t, 1024)
	data := randBytes(3, 64*1024)
	e.put(t, "k", data)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			o, err := e.g.GetObject(ctx, "b", "k")
			if err != nil {
				t.Error(err)
				return
			}
			r, err := o.Open(ctx, int64(i), int64(len(data)-i))
			if err != nil {
				t.Error(err)
				return
			}
			buf := make([]byte, 1000*(i+1))
			if _, err := io.ReadFull(r, buf); err != nil {
				t.Error(err)
			} else if !bytes.Equal(buf, data[i:i+len(buf)]) {
				t.Error("wrong bytes")
			}
			r.Close()
			if _, err := r.Read(buf); err == nil {
				t.Error("read after close succeeded")
			}
		}()
	}
	wg.Wait()
}

// TestHedgedRead stalls data-shard holders: reads still complete from
// parity once the hedge fires, and the stalled requests are cancelled, not
// leaked. (If hedging did not work the read would block forever; the
// context bound only turns that into a failure.)
func TestHedgedRead(t *testing.T) {
	e := newEnv(t, 4096)
	data := randBytes(11, 4096*5+7)
	e.put(t, "k", data)
	for i := range e.ids {
		for j := i + 1; j < len(e.ids); j++ {
			a, b := e.nodes[e.ids[i]], e.nodes[e.ids[j]]
			a.stall.Store(true)
			b.stall.Store(true)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			o, err := e.g.GetObject(ctx, "b", "k")
			if err != nil {
				t.Fatal(err)
			}
			r, err := o.Open(ctx, 0, int64(len(data)))
			if err != nil {
				t.Fatalf("%s and %s stalled: open: %v", e.ids[i], e.ids[j], err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			cancel()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s and %s stalled: %d bytes, err %v", e.ids[i], e.ids[j], len(got), err)
			}
			a.stall.Store(false)
			b.stall.Store(false)
		}
	}
	var gets, stalled int64
	for _, n := range e.nodes {
		gets += n.gets.Load()
		stalled += n.stalled.Load()
	}
	if stalled == 0 {
		t.Fatal("no stalled request was ever cancelled: the test did not exercise hedging")
	}
	t.Logf("%d shard GETs, %d stalled ones cancelled after the hedge", gets, stalled)
}

func TestHedgeDelay(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct{ floor, avg, want time.Duration }{
		{250 * ms, 0, 250 * ms},                       // nothing read yet: the floor
		{250 * ms, 2 * ms, 250 * ms},                  // quick reads: the floor
		{250 * ms, 100 * ms, 400 * ms},                // every read slow: four times as slow
		{250 * ms, 10 * time.Second, 2 * time.Second}, // at most eight times the floor
	} {
		if got := hedgeDelay(c.floor, c.avg); got != c.want {
			t.Errorf("hedgeDelay(%v, %v) = %v, want %v", c.floor, c.avg, got, c.want)
		}
	}
}

// TestHedgeLearnsSlowReads: when every node reads slower than
// HedgeAfter, reads learn it, and the hedge waits for longer than a read
// takes (the data shards are not late, everything is slow), while a
// stalled node is still hedged around (TestHedgedRead). Asserted on the
// learnt average, which a read's latency bounds from below, not on how
// many shards a read asked for, which would depend on the machine's pace.
func TestHedgeLearnsSlowReads(t *testing.T) {
	e := newEnv(t, 4096)
	data := randBytes(12, 4096*8)
	e.put(t, "k", data)
	slow := 3 * e.cfg.HedgeAfter / 2
	for _, n := range e.nodes {
		n.delay.Store(int64(slow))
	}
	read := func() {
		t.Helper()
		o, err := e.g.GetObject(context.Background(), "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		r, err := o.Open(context.Background(), 0, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes, err %v", len(got), err)
		}
	}
	// Every shard read observed took at least slow: after enough of them
	// the average is at least slow too (its first sample is taken whole).
	for range 4 {
		read()
	}
	avg := time.Duration(e.g.shardRead.Load())
	if avg < slow*9/10 {
		t.Fatalf("learnt a shard read takes %v; every one took at least %v", avg, slow)
	}
	if d := hedgeDelay(e.cfg.HedgeAfter, avg); d < 2*slow {
		t.Fatalf("hedges after %v, when every read takes %v", d, slow)
	}
}

func TestObserveShardRead(t *testing.T) {
	var g Gateway
	ms := time.Millisecond
	g.observeShardRead(10 * ms)
	if got := time.Duration(g.shardRead.Load()); got != 10*ms {
		t.Fatalf("first sample: average %v, want 10ms", got)
	}
	for range 200 {
		g.observeShardRead(20 * ms)
	}
	if got := time.Duration(g.shardRead.Load()); got < 19*ms || got > 20*ms {
		t.Fatalf("after many 20ms samples: average %v", got)
	}
	// One node 100 times slower moves the average by at most
	// (hedgeFactor-1)/16 of it per sample.
	before := g.shardRead.Load()
	g.observeShardRead(2 * time.Second)
	if got, limit := g.shardRead.Load(), before+before*(hedgeFactor-1)/16; got > limit {
		t.Fatalf("one slow sample moved the average from %v to %v", time.Duration(before), time.Duration(got))
	}
}

// TestInlineSmallObjects: objects up to InlineMax live in their manifest —
// written and read with every storage node down, ranges included — and
// one byte more takes a stripe.
func TestInlineSmallObjects(t *testing.T) {
	e := newEnv(t, 1<<20)
	for _, n := range e.nodes {
		n.down.Store(true)
	}
	for _, size := range []int{1, 1000, DefaultInlineMax} {
		data := randBytes(uint64(size), size)
		info := e.put(t, fmt.Sprint(size), data)
		if want := erasure.ChunkCID(data).String(); info.CID != want {
			t.Errorf("%d bytes inline: CID %s, want %s", size, info.CID, want)
		}
		if got, err := e.read(fmt.Sprint(size), 0, int64(size)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes inline: read %d bytes, err %v", size, len(got), err)
		}
		if size > 10 {
			if got, err := e.read(fmt.Sprint(size), 3, 7); err != nil || !bytes.Equal(got, data[3:10]) {
				t.Fatalf("%d bytes inline, range 3+7: %q, err %v", size, got, err)
			}
		}
	}
	_, err := e.g.PutObject(context.Background(), "b", "striped", bytes.NewReader(make([]byte, DefaultInlineMax+1)), DefaultInlineMax+1, s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("a %d-byte object with every node down: %v, want ErrServiceUnavailable (it needs a stripe)", DefaultInlineMax+1, err)
	}
}

// lossyMeta applies a write and then loses its answer, as a leader that
// steps down right after committing does.
type lossyMeta struct {
	*meta.Store
	lose atomic.Int32 // answers still to lose
	drop atomic.Int32 // writes still to drop, unapplied, with an unknown outcome
}

func (m *lossyMeta) PutObject(ctx context.Context, obj *meta.Object) error {
	if m.drop.Add(-1) >= 0 {
		return fmt.Errorf("leader stepped down before committing: %w", meta.ErrOutcomeUnknown)
	}
	err := m.Store.PutObject(ctx, obj)
	if err == nil && m.lose.Add(-1) >= 0 {
		return fmt.Errorf("leader stepped down: %w", meta.ErrOutcomeUnknown)
	}
	return err
}

// TestPutRetriesUnknownOutcome: a PUT whose manifest commit has an unknown
// outcome writes it again, and the object's chunks are counted once.
func TestPutRetriesUnknownOutcome(t *testing.T) {
	e := newEnv(t, 4096)
	lm := &lossyMeta{Store: e.ms}
	cfg := e.cfg
	cfg.Meta = lm
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(11, 3*4096)
	lm.lose.Store(2)
	if _, err := g.PutObject(context.Background(), "b", "k", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{}); err != nil {
		t.Fatalf("put with two lost answers: %v", err)
	}
	obj, err := e.ms.GetObject(context.Background(), "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range obj.Chunks {
		if n, err := e.ms.ChunkRefs(context.Background(), c.CID); err != nil || n != 1 {
			t.Errorf("chunk %x has %d references (err %v), want 1", c.CID, n, err)
		}
	}
	lm.drop.Store(3) // more than the gateway tries
	_, err = g.PutObject(context.Background(), "b", "k2", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{})
	if !errors.Is(err, s3gw.ErrServiceUnavailable) {
		t.Fatalf("put with three writes dropped: %v, want ErrServiceUnavailable", err)
	}

	// In a versioning bucket, the retry finds the first attempt applied:
	// one version, whose ID the PUT answers, and an If-None-Match that
	// holds (the first attempt was this write).
	ctx := context.Background()
	if err := e.ms.SetBucketConfig(ctx, "b", meta.ConfigVersioning, &meta.BucketConfig{Versioning: meta.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	lm.lose.Store(1)
	info, err := g.PutObject(ctx, "b", "k3", bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{Cond: &s3gw.WriteCond{IfNoneMatch: true}})
	if err != nil {
		t.Fatalf("conditional put with a lost answer: %v", err)
	}
	l, err := e.ms.ListObjectVersions(ctx, "b", meta.VersionQuery{Prefix: "k3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Versions) != 1 || l.Versions[0].VersionID != info.VersionID || info.VersionID == "" {
		t.Fatalf("%d versions after a retried put answering version %q", len(l.Versions), info.VersionID)
	}
}

// TestMemoryBudget: with a budget of the fewest chunk buffers a request
// needs, many concurrent writers and readers all finish (none waits
// forever for a buffer), and every buffer is given back.
func TestMemoryBudget(t *testing.T) {
	e := newEnv(t, 4096)
	cfg := e.cfg
	cfg.MemoryBudget = 1 // the minimum: ChunksInFlight+ReadAhead+2 buffers
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	slots := bufferSlots(g.cfg)
	data := randBytes(12, 20*4096+17)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("budget-", i)
			if _, err := g.PutObject(context.Background(), "b", key, bytes.NewReader(data), int64(len(data)), s3gw.PutOptions{}); err != nil {
				errs <- err
				return
			}
			o, err := g.GetObject(context.Background(), "b", key)
			if err != nil {
				errs <- err
				return
			}
			r, err := o.Open(context.Background(), 0, int64(len(data)))
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err == nil && !bytes.Equal(got, data) {
				err = fmt.Errorf("%s: wrong bytes", key)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !g.bufSlots.TryAcquire(slots) {
		t.Fatalf("chunk buffers still held after every request ended (of %d)", slots)
	}
}

// TestVerifyingStoresAreTrusted: the gateway checks shards from a store
// that does not verify its reads (the corrupt flag is caught), and stores
// that do are real blob stores and node API clients.
func TestVerifyingStoresAreTrusted(t *testing.T) {
	var _ VerifyingStore = (*blob.DirStore)(nil)
	var st ShardStore = &faultyStore{}
	if _, ok := st.(VerifyingStore); ok {
		t.Fatal("a wrapper that can corrupt bytes claims to verify its reads")
	}
}

// barrierReader holds its first Read until every body of the batch has
// been opened, so that all of them are hashed at once.
type barrierReader struct {
	r       io.Reader
	once    sync.Once
	arrive  *sync.WaitGroup
	release <-chan struct{}
}

func (b *barrierReader) Read(p []byte) (int, error) {
	b.once.Do(func() { b.arrive.Done(); <-b.release })
	return b.r.Read(p)
}

// TestConcurrentPutsETags writes twelve objects at once, so that their
// chunks are hashed together on md5x's lanes, through a gateway that
// seals chunks in place (right after their MD5) and one that does not,
// and checks every ETag against crypto/md5 and every object's bytes.
func TestConcurrentPutsETags(t *testing.T) {
	plain := newEnv(t, 64<<10)
	sealed, _ := newSealedEnv(t, 64<<10)
	for name, e := range map[string]*env{"plain": plain, "sealed": sealed} {
		t.Run(name, func(t *testing.T) {
			const n = 12
			var arrive sync.WaitGroup
			arrive.Add(n)
			release := make(chan struct{})
			go func() { arrive.Wait(); close(release) }()
			bodies := make([][]byte, n)
			infos := make([]s3gw.ObjectInfo, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				bodies[i] = randBytes(uint64(100+i), 1000+i*37_000) // 1 KB to 408 KB: inline and multi-chunk
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := &barrierReader{r: bytes.NewReader(bodies[i]), arrive: &arrive, release: release}
					infos[i], errs[i] = e.g.PutObject(context.Background(), "b", fmt.Sprint("k", i), body, int64(len(bodies[i])), s3gw.PutOptions{})
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("put %d: %v", i, errs[i])
				}
				if want := fmt.Sprintf("%x", md5.Sum(bodies[i])); infos[i].ETag != want {
					t.Errorf("put %d: ETag %s, want %s", i, infos[i].ETag, want)
				}
				got, err := e.read(fmt.Sprint("k", i), 0, int64(len(bodies[i])))
				if err != nil || !bytes.Equal(got, bodies[i]) {
					t.Errorf("read %d: %d bytes, %v", i, len(got), err)
				}
			}
		})
	}
}
