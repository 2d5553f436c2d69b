package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/placement"
	"cairn/s3gw"
)

// GetObject implements s3gw.Backend.
func (g *Gateway) GetObject(ctx context.Context, bucket, key string) (s3gw.Object, error) {
	o, err := g.cfg.Meta.GetObject(ctx, bucket, key)
	if err != nil {
		return nil, s3err(err)
	}
	return newObject(g, o), nil
}

// object is a handle on one manifest; it keeps reading that version even if
// the key is overwritten.
type object struct {
	g       *Gateway
	m       *meta.Object
	offsets []int64 // offsets[i] is where chunk i starts; len(chunks)+1 entries
}

func newObject(g *Gateway, m *meta.Object) *object {
	offs := make([]int64, len(m.Chunks)+1)
	for i, c := range m.Chunks {
		offs[i+1] = offs[i] + c.Size
	}
	return &object{g: g, m: m, offsets: offs}
}

func (o *object) Info() s3gw.ObjectInfo { return objectInfo(o.m) }

// Open implements s3gw.Object. The first chunk is fetched before Open
// returns, so a stripe that cannot be read fails the request before any
// byte is sent.
func (o *object) Open(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || length < 0 || offset+length > o.m.Size {
		return nil, fmt.Errorf("range %d+%d outside object of %d bytes", offset, length, o.m.Size)
	}
	cust, err := o.g.customerSealer(o.m, s3gw.CustomerKey(ctx))
	if err != nil {
		return nil, err
	}
	if length == 0 {
		return io.NopCloser(eofReader{}), nil
	}
	// chunk i holds bytes [offsets[i], offsets[i+1]).
	first := sort.Search(len(o.m.Chunks), func(i int) bool { return o.offsets[i+1] > offset })
	last := sort.Search(len(o.m.Chunks), func(i int) bool { return o.offsets[i+1] >= offset+length })
	ctx, cancel := context.WithCancel(ctx)
	r := &reader{
		cancel:  cancel,
		g:       o.g,
		cust:    cust,
		pending: make(chan *fetch, o.g.cfg.ReadAhead),
		skip:    offset - o.offsets[first],
		left:    length,
	}
	r.wg.Add(1)
	go r.produce(ctx, o.m.Chunks[first:last+1])
	if err := r.next(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// fetch is one chunk being read.
type fetch struct {
	done chan struct{}
	buf  *chunkBuf // from the gateway's chunk pool
	data []byte
	err  error
}

// reader streams a byte range of an object, fetching up to ReadAhead chunks
// ahead of the consumer. Every goroutine it starts is joined by Close.
type reader struct {
	cancel  context.CancelFunc
	g       *Gateway
	cust    *erasure.Sealer // opens SSE-C stripes; nil for other objects
	pending chan *fetch
	wg      sync.WaitGroup

	cur  *fetch
	rest []byte // unread bytes of cur
	skip int64  // bytes to drop from the first chunk
	left int64  // bytes still to return
	err  error
}

// produce starts one fetch per chunk, in order; the channel's capacity
// bounds how far it runs ahead.
func (r *reader) produce(ctx context.Context, chunks []meta.Chunk) {
	defer r.wg.Done()
	defer close(r.pending)
	for _, c := range chunks {
		buf, err := r.g.getBuf(ctx)
		if err != nil {
			return // the reader was closed
		}
		f := &fetch{done: make(chan struct{}), buf: buf}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer close(f.done)
			f.data, f.err = r.g.readChunk(ctx, c, f.buf, r.cust)
		}()
		select {
		case r.pending <- f:
		case <-ctx.Done():
			<-f.done
			r.g.putBuf(f.buf)
			return
		}
	}
}

// next makes the next fetched chunk current.
func (r *reader) next() error {
	if r.cur != nil {
		r.g.putBuf(r.cur.buf)
		r.cur = nil
	}
	f, ok := <-r.pending
	if !ok {
		return io.ErrUnexpectedEOF
	}
	<-f.done
	r.cur = f
	if f.err != nil {
		return f.err
	}
	r.rest = f.data[r.skip:]
	r.skip = 0
	return nil
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left == 0 {
		return 0, io.EOF
	}
	if len(r.rest) == 0 {
		if err := r.next(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p[:min(int64(len(p)), r.left)], r.rest)
	r.rest = r.rest[n:]
	r.left -= int64(n)
	return n, nil
}

// WriteTo writes the rest of the range to w a chunk at a time: io.Copy
// uses it, so a GET's bytes go from the chunk buffer to the connection in
// one write per chunk rather than through a 32 KiB copy buffer.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 {
		if r.err != nil {
			return total, r.err
		}
		if len(r.rest) == 0 {
			if err := r.next(); err != nil {
				r.err = err
				return total, err
			}
		}
		n, err := w.Write(r.rest[:min(int64(len(r.rest)), r.left)])
		r.rest = r.rest[n:]
		r.left -= int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Close stops the read-ahead and waits for it.
func (r *reader) Close() error {
	r.cancel()
	for f := range r.pending {
		<-f.done
		r.g.putBuf(f.buf)
	}
	r.wg.Wait()
	if r.cur != nil {
		r.g.putBuf(r.cur.buf)
		r.cur = nil
	}
	if r.err == nil {
		r.err = errors.New("gateway: read after close")
	}
	return nil
}

// readChunk reads one chunk into buf from the nodes of its stripe
// (layout.StripeNodes): the data shards first (no decoding on the happy
// path), each read straight into its place in buf.data; a shard that is
// missing (on its node, or recorded on none), fails its CID or whose node
// errors is replaced at once by a parity shard, and when data shards are still outstanding after
// HedgeAfter, the remaining parity shards are asked for too and the first
// K good shards win. A sealed stripe's chunk is then opened, in place:
// the seal authenticates it, which is its check. An unsealed chunk is
// checked against its own CID when it was rebuilt from parity, or when a
// shard came from a store that cannot vouch for it (a shard name read
// from another node). If the check fails, recoverChunk looks for K shards
// that agree. It never returns bytes that fail their seal or content
// address. The result is in buf.data unless the stripe is larger than the
// gateway's chunks (written under another configuration) or had to be
// recovered.
func (g *Gateway) readChunk(ctx context.Context, c meta.Chunk, buf *chunkBuf, cust *erasure.Sealer) ([]byte, error) {
	id, err := cid.Cast(c.CID)
	if err != nil {
		return nil, fmt.Errorf("manifest chunk CID: %w", err)
	}
	if c.Inline() {
		// The bytes came with the manifest; they are checked all the same,
		// as every byte the gateway serves is.
		if err := erasure.Verify(id, c.Data); err != nil {
			return nil, fmt.Errorf("%w: inline chunk %s: %w", s3gw.ErrServiceUnavailable, id, err)
		}
		return append(buf.data[:0], c.Data...), nil
	}
	st := c.Stripe
	n := st.K + st.M
	if len(st.Shards) != n {
		return nil, fmt.Errorf("chunk %s: manifest lists %d shards for a %d+%d stripe", id, len(st.Shards), st.K, st.M)
	}
	codec, err := g.codecFor(st.K, st.M)
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", id, err)
	}
	sl, err := g.stripeSealer(c, cust)
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %s: %w", s3gw.ErrServiceUnavailable, id, err)
	}
	coded := int(c.Size)
	if sl != nil {
		coded += erasure.SealOverhead
	}
	nodes, err := layout.StripeNodes(&st, c.CID, func(v uint64) (*placement.Ring, error) {
		lv, err := g.layoutAt(ctx, v)
		if err != nil {
			return nil, err
		}
		return lv.ring, nil
	})
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", id, err)
	}
	dsts := shardDests(buf, st)
	shards, vouched, errs := g.gatherShards(ctx, st, nodes, dsts)
	for i, err := range errs {
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrCorrupt) {
			g.report(c.CID, i, nodes[i], false)
		}
	}
	have, missing, check := 0, 0, false
	for i, s := range shards {
		switch {
		case s != nil:
			have++
			check = check || !vouched[i]
		case i < st.K:
			missing++
			shards[i] = dsts[i] // rebuilt in place when it has room
		}
	}
	if have < st.K {
		return nil, fmt.Errorf("%w: chunk %s: %d of %d shards readable, need %d: %w",
			s3gw.ErrServiceUnavailable, id, have, n, st.K, errors.Join(errs...))
	}
	if missing > 0 {
		if err := errors.Join(errs...); err != nil {
			g.log.Warn("degraded read: rebuilding chunk from parity", "chunk", id, "missing", missing, "err", err)
		}
		if err := codec.ReconstructData(shards); err != nil {
			return nil, fmt.Errorf("chunk %s: reconstruct: %w", id, err)
		}
	}
	out, err := assemble(buf.data, shards[:st.K], coded)
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", id, err)
	}
	if st.Seal != 0 {
		// Opening the seal is the check, whoever vouched for what.
		plain, err := sl.Open(out[:0], out, id)
		if err != nil {
			g.log.Warn("chunk failed its seal; reading every shard to find the bad ones",
				"chunk", id, "rebuilt", missing, "err", err)
			return g.recoverChunk(ctx, id, c, codec, nodes, out[:0], sl)
		}
		return plain, nil
	}
	if missing > 0 || check {
		// Rebuilt bytes are checked against the chunk's own CID too: a
		// manifest's shard list is trusted, but cheaply double-checked when
		// the decoder had to work.
		if err := erasure.Verify(id, out); err != nil {
			g.log.Warn("chunk failed its CID; reading every shard to find the bad ones",
				"chunk", id, "rebuilt", missing, "err", err)
			return g.recoverChunk(ctx, id, c, codec, nodes, out[:0], nil)
		}
	}
	return out, nil
}

// maxRecoverTries bounds the sets of K shards recoverChunk decodes: all
// of them for the stripes Cairn writes (15 for 4+2), the first ones for
// wide stripes, where trying every set would cost more than failing.
const maxRecoverTries = 256

// stripeSealer returns the sealer that opens a chunk's stripe: nil for
// an unsealed one, the gateway's for SealV1, cust (the object's customer
// key's) for SealCustomer; an error when the gateway or the request lacks
// the key, or does not know the scheme.
func (g *Gateway) stripeSealer(c meta.Chunk, cust *erasure.Sealer) (*erasure.Sealer, error) {
	switch c.Stripe.Seal {
	case 0:
		return nil, nil
	case erasure.SealV1:
		if g.cfg.Sealer == nil {
			return nil, errors.New("the stripe is sealed, and this gateway has no sealing key")
		}
		return g.cfg.Sealer, nil
	case erasure.SealCustomer:
		if cust == nil {
			return nil, errors.New("the stripe is sealed under a customer key, and the read has none")
		}
		return cust, nil
	}
	return nil, fmt.Errorf("the stripe is sealed with scheme %d, which this gateway does not know", c.Stripe.Seal)
}

// checkChunk checks coded, the bytes a chunk's stripe decoded to, and
// returns the chunk: a sealed one opened in place by sl (coded's bytes
// are then the plaintext's, or zeroed when it fails), an unsealed one
// checked against its CID.
func checkChunk(sl *erasure.Sealer, id cid.Cid, coded []byte) ([]byte, error) {
	if sl != nil {
		return sl.Open(coded[:0], coded, id)
	}
	if err := erasure.Verify(id, coded); err != nil {
		return nil, err
	}
	return coded, nil
}

// recoverChunk is readChunk's last resort when the decoded chunk fails its
// seal or its CID: some shard came back with the wrong bytes (a node that
// lies, or bitrot its store did not catch). It reads every shard of the
// stripe into memory of its own and decodes sets of K of them until one
// opens (sealed) or gives the chunk its CID names, then logs which shards
// differ from the stripe that chunk encodes to, so the operator knows which
// node to distrust, and reports them to healing. The chunk is returned in
// dst when it fits.
func (g *Gateway) recoverChunk(ctx context.Context, id cid.Cid, c meta.Chunk, codec *erasure.Codec, nodes []string, dst []byte, sl *erasure.Sealer) ([]byte, error) {
	st := c.Stripe
	n := st.K + st.M
	coded := int(c.Size)
	if sl != nil {
		coded += erasure.SealOverhead
	}
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], _, errs[i] = g.getShard(ctx, nodes[i], st.Shards[i], st.ShardSize, nil)
		})
	}
	wg.Wait()
	var avail []int
	for i, b := range got {
		if errs[i] == nil && b != nil {
			avail = append(avail, i)
		}
	}
	// Data shards a set lacks are rebuilt into scratch, reused by every set.
	shards, scratch := make([][]byte, n), make([][]byte, st.K)
	for i := range scratch {
		scratch[i] = make([]byte, 0, st.ShardSize)
	}
	tries := 0
	var found []byte
	erasure.ForSubsets(len(avail), st.K, func(set []int) bool {
		if tries++; tries > maxRecoverTries || ctx.Err() != nil {
			return false
		}
		clear(shards)
		copy(shards, scratch)
		for _, j := range set {
			shards[avail[j]] = got[avail[j]]
		}
		if codec.ReconstructData(shards) != nil {
			return true
		}
		out, err := assemble(dst, shards[:st.K], coded)
		if err != nil {
			return true
		}
		if out, err = checkChunk(sl, id, out); err != nil {
			return true
		}
		found = out
		return false
	})
	if found == nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: chunk %s: no %d of the %d readable shards decode to its seal or CID: %w",
			s3gw.ErrServiceUnavailable, id, st.K, len(avail), errors.Join(errs...))
	}
	// The stripe the chunk encodes to: sealing is deterministic, so
	// sealing it again gives the bytes that were coded.
	want := found
	if sl != nil {
		want = sl.Seal(nil, found, id)
	}
	if good, err := codec.Encode(want, nil); err == nil {
		for _, i := range avail {
			if !bytes.Equal(got[i], good[i]) {
				g.log.Error("a node returned a shard with the wrong bytes; the chunk was rebuilt without it",
					"chunk", id, "shard", i, "node", nodes[i])
				g.report(c.CID, i, nodes[i], true)
			}
		}
	}
	return found, nil
}

// shardDests returns where each shard of a stripe is to be read: data
// shard i at its place in buf.data, parity shard j in buf.parity[j], as
// empty slices whose capacity is the shard size. A shard with no room in
// buf (a stripe larger than the gateway's chunks) gets nil, and is read
// into memory of its own.
func shardDests(buf *chunkBuf, st meta.Stripe) [][]byte {
	size := st.ShardSize
	dsts := make([][]byte, st.K+st.M)
	if size <= 0 {
		return dsts
	}
	if st.K*size <= len(buf.data) {
		for i := range st.K {
			dsts[i] = buf.data[i*size : i*size : (i+1)*size]
		}
	}
	for j := range min(st.M, len(buf.parity)) {
		if cap(buf.parity[j]) >= size {
			dsts[st.K+j] = buf.parity[j][:0:size]
		}
	}
	return dsts
}

// assemble returns the first size bytes of the data shards laid end to end
// in dst's backing array, copying only the shards that were not read into
// their place there. dst is reallocated if it is too small.
func assemble(dst []byte, data [][]byte, size int) ([]byte, error) {
	if len(data) == 0 {
		return nil, errors.New("assemble: no data shards")
	}
	n := len(data[0])
	if size < 0 || size > len(data)*n {
		return nil, fmt.Errorf("assemble: %d bytes from %d shards of %d", size, len(data), n)
	}
	if cap(dst) < size {
		dst = make([]byte, 0, len(data)*n)
	}
	out := dst[:size]
	for i, s := range data {
		if len(s) != n {
			return nil, fmt.Errorf("assemble: data shard %d is %d bytes, shard 0 is %d", i, len(s), n)
		}
		off := i * n
		if off >= size {
			break
		}
		if &out[off] != &s[0] {
			copy(out[off:], s[:min(n, size-off)])
		}
	}
	return out, nil
}

// Hedging reads: how much longer than a typical shard read a read waits
// for its data shards before it asks the parity holders too, and how far
// beyond HedgeAfter that may take it.
const (
	hedgeFactor    = 4
	maxHedgeFactor = 8
)

// hedgeDelay is how long a read waits for its data shards before it
// hedges: HedgeAfter, or hedgeFactor times the moving average of recent
// shard reads if that is longer, at most maxHedgeFactor times HedgeAfter.
// A hedge is for a node that is slow when the others are not: when every
// read is slow (the gateway's CPU is saturated, say), hedging at a fixed
// delay asks for two more shards per chunk, and cancelling the losers
// closes their connections (HTTP/1.1 cannot abandon a response and keep
// its connection), so the next requests pay TLS handshakes: 5.5% of a
// saturated cluster's GET CPU (bench/RESULTS.md, 2026-12-07).
func hedgeDelay(floor, avg time.Duration) time.Duration {
	return min(max(floor, hedgeFactor*avg), maxHedgeFactor*floor)
}

// observeShardRead folds the latency of a successful shard read into the
// moving average hedgeDelay reads (weight 1/16 for the new sample, which
// counts as at most hedgeFactor times the average: one slow node must not
// drag the average up to its own pace, or nothing would hedge around it).
func (g *Gateway) observeShardRead(d time.Duration) {
	for {
		old := g.shardRead.Load()
		sample := int64(d)
		if old > 0 {
			sample = min(sample, hedgeFactor*old)
		}
		next := old + (sample-old)/16
		if old == 0 {
			next = int64(d)
		}
		if g.shardRead.CompareAndSwap(old, next) {
			return
		}
	}
}

// gatherShards fetches shards of a stripe until K good ones are in hand or
// every shard has been tried, shard i into dsts[i] when that has room. It
// asks the K data-shard holders first; each failure launches the next
// parity request, and if data shards are still outstanding after
// hedgeDelay, all remaining parity requests start. It returns with every
// request it started finished (the rest are cancelled), so nothing writes
// to dsts after it.
func (g *Gateway) gatherShards(ctx context.Context, st meta.Stripe, nodes []string, dsts [][]byte) (shards [][]byte, vouched []bool, errs []error) {
	n := st.K + st.M
	shards, vouched, errs = make([][]byte, n), make([]bool, n), make([]error, n)
	type result struct {
		i    int
		b    []byte
		ok   bool
		err  error
		took time.Duration
	}
	ctx, cancel := context.WithCancel(ctx)
	results := make(chan result, n)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	next := 0
	launch := func() {
		i := next
		next++
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			b, ok, err := g.getShard(ctx, nodes[i], st.Shards[i], st.ShardSize, dsts[i])
			results <- result{i, b, ok, err, time.Since(start)}
		}()
	}
	for range st.K {
		launch()
	}
	hedge := time.NewTimer(hedgeDelay(g.cfg.HedgeAfter, time.Duration(g.shardRead.Load())))
	defer hedge.Stop()
	have, inflight := 0, st.K
	for have < st.K && inflight > 0 {
		select {
		case r := <-results:
			inflight--
			if r.err != nil {
				errs[r.i] = r.err
				if next < n {
					launch()
					inflight++
				}
				continue
			}
			shards[r.i], vouched[r.i] = r.b, r.ok
			have++
			g.observeShardRead(r.took)
		case <-hedge.C:
			for next < n {
				launch()
				inflight++
			}
		}
	}
	return shards, vouched, errs
}

// errNoNode is getShard's error for a shard that its stripe records on no
// node (its write failed, or its node lost it): it is missing, and no
// node is asked for it.
var errNoNode = errors.New("stored on no node; left for repair")

// getShard reads one shard into dst (or new memory if dst is nil). A
// content-addressed shard is checked against its CID (here, or by a store
// that vouches for it), and vouched is true. A shard name is vouched for
// only by a store that checks its records (VerifyingStore); otherwise
// vouched is false, and the caller checks the decoded chunk. node "" is a
// shard stored nowhere: errNoNode.
func (g *Gateway) getShard(ctx context.Context, node string, raw []byte, size int, dst []byte) (b []byte, vouched bool, err error) {
	id, err := cid.Cast(raw)
	if err != nil {
		return nil, false, fmt.Errorf("manifest shard CID: %w", err)
	}
	if node == "" {
		return nil, false, fmt.Errorf("shard %s: %w", id, errNoNode)
	}
	st, err := g.cfg.Nodes.Shards(node)
	if err != nil {
		return nil, false, fmt.Errorf("node %s: %w", node, err)
	}
	if dst == nil {
		dst = make([]byte, 0, size)
	}
	b, err = st.Get(ctx, id, dst)
	if err != nil {
		return nil, false, fmt.Errorf("get shard %s from node %s: %w", id, node, err)
	}
	if len(b) != size {
		return nil, false, fmt.Errorf("shard %s from node %s: %d bytes, the manifest says %d", id, node, len(b), size)
	}
	if vs, ok := st.(VerifyingStore); ok && vs.VerifiesReads(id) {
		return b, true, nil // checked by the store, once is enough
	}
	switch err := erasure.Verify(id, b); {
	case errors.Is(err, erasure.ErrNotContentAddressed):
		return b, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("shard %s from node %s: %w", id, node, err)
	}
	return b, true, nil
}

// report tells healing of a shard found missing or wrong (lied: bytes
// the node gave as good), if it listens.
func (g *Gateway) report(chunkCID []byte, shard int, node string, lied bool) {
	if g.cfg.Report != nil && node != "" {
		g.cfg.Report(chunkCID, shard, node, lied)
	}
}
