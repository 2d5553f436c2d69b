package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"

	"cairn/erasure"
	"cairn/internal/meta"
	"cairn/s3gw"
)

// written is what writeChunks stored: the chunks in stream order, the MD5 of
// the whole stream and its length.
type written struct {
	chunks []meta.Chunk
	md5    []byte
	size   int64
}

// writeChunks streams r through the chunker and stores every chunk as a
// stripe on the nodes placement picks, with at most ChunksInFlight chunks in
// memory. It reads r to EOF; any error (from r, or too few shards stored)
// fails the whole write, leaving only unreferenced shards behind.
func (g *Gateway) writeChunks(ctx context.Context, r io.Reader, size int64, sl sealing) (*written, error) {
	lv := g.current.Load()
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(g.cfg.ChunksInFlight)
	h := g.md5.NewStream()
	defer h.Close()
	ch := erasure.NewChunker(r, g.cfg.ChunkSize)
	var (
		chunks []*meta.Chunk
		total  int64
		rerr   error
	)
	for ectx.Err() == nil {
		buf, err := g.getBuf(ectx)
		if err != nil {
			break // ectx ended: the group's error or ctx's says why
		}
		data, err := ch.Next(buf.data)
		if err != nil {
			g.putBuf(buf)
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
			break
		}
		// data is hashed for the ETag beside the chunk's CID, with other
		// uploads' chunks; it must not change, nor buf be reused, until
		// hashed() returns.
		hashed := h.Submit(data)
		total += int64(len(data))
		c := new(meta.Chunk)
		chunks = append(chunks, c)
		if sl.inline && len(chunks) == 1 && len(data) <= g.cfg.InlineMax && len(data) < g.cfg.ChunkSize {
			// A short first chunk is the whole stream: small enough to
			// keep in the manifest, with no shards and no fsyncs of its own.
			*c = meta.Chunk{CID: erasure.ChunkCID(data).Bytes(), Size: int64(len(data)), Data: bytes.Clone(data)}
			hashed()
			g.putBuf(buf)
			continue
		}
		eg.Go(func() error {
			defer g.putBuf(buf)
			defer hashed() // before putBuf, whatever writeChunk returns
			return g.writeChunk(ectx, lv, data, buf.parity, c, sl, hashed)
		})
	}
	h.Close() // no more chunks: other uploads' stop waiting for this one's
	werr := eg.Wait()
	switch {
	case rerr != nil:
		return nil, fmt.Errorf("read body: %w", rerr)
	case werr != nil:
		return nil, werr
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case size >= 0 && total != size:
		return nil, fmt.Errorf("%w: got %d of %d bytes", s3gw.ErrIncompleteBody, total, size)
	}
	w := &written{md5: h.Sum(nil), size: total, chunks: make([]meta.Chunk, len(chunks))}
	for i, c := range chunks {
		w.chunks[i] = *c
	}
	return w, nil
}

// writeChunk seals one chunk in place when the gateway seals (data's
// backing array must then hold erasure.SealOverhead more bytes), encodes
// it into a stripe, in place (data's backing array becomes the data
// shards; parity holds the parity shards), places it on the nodes of lv
// that are up (writeRing) and stores its shards in parallel, succeeding
// once the write quorum has them. A sealed stripe's shards are named and
// placed after the chunk's keyed name, and summed as they are sent. The
// stripe records the node of each shard stored, "" for each shard whose
// write failed. Every shard write has ended when it returns, so the
// buffers can be reused. hashed returns when data's MD5 is done: it is
// called after data's CID and before anything changes data.
func (g *Gateway) writeChunk(ctx context.Context, lv *layoutView, data []byte, parity [][]byte, out *meta.Chunk, sl sealing, hashed func()) error {
	id := erasure.ChunkCID(data)
	hashed()
	size := len(data)
	name, seal := id, sl.scheme // what the shards are named and placed after
	switch seal {
	case erasure.SealV1:
		name = sl.sealer.Name(id)
		data = sl.sealer.Seal(data[:0], data, id)
	case erasure.SealCustomer:
		// Known by its keyed name alone: the chunk's CID, a hash of its
		// plaintext, is stored nowhere, and the chunk deduplicates only
		// with the same chunk under the same customer key.
		name = sl.sealer.Name(id)
		id = name
		data = sl.sealer.Seal(data[:0], data, name)
	}
	shards, err := g.codec.EncodeInPlace(data, parity)
	if err != nil {
		return fmt.Errorf("encode chunk %s: %w", id, err)
	}
	n := len(shards)
	// Place gives every shard a node as long as the ring has one, several
	// shards to a node when it has fewer nodes than shards.
	nodes, err := g.writeRing(lv).Place(name.Bytes(), n)
	if err != nil {
		return fmt.Errorf("place chunk %s: %w", id, err)
	}
	ids := make([][]byte, n)
	sids := make([]cid.Cid, n)
	for i := range shards {
		// Shards are named by their place in the chunk's stripe, not by a
		// hash of their bytes: the chunk's CID or its seal covers them
		// (checked when a reader decodes the stripe), and each store
		// checksums its records. A content hash per shard cost a fifth of
		// a PUT's CPU.
		sids[i], err = erasure.ShardName(name, g.cfg.K, g.cfg.M, i)
		if err != nil {
			return fmt.Errorf("chunk %s: %w", id, err)
		}
		ids[i] = sids[i].Bytes()
	}
	errs := make([]error, n)
	var sums [][]byte
	if seal != 0 {
		sums = make([][]byte, n)
	}
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Go(func() {
			if sums != nil {
				sums[i] = g.cfg.Sealer.ShardSum(s)
			}
			errs[i] = g.putShard(ctx, nodes[i], sids[i], s)
		})
	}
	wg.Wait()
	ok := 0
	stored := make([]string, n) // the stripe's nodes: "" where the write failed
	for i, err := range errs {
		if err == nil {
			ok++
			stored[i] = nodes[i]
		}
	}
	if ok < g.quorum {
		return fmt.Errorf("%w: chunk %s: %d of %d shards stored, need %d: %w",
			s3gw.ErrServiceUnavailable, id, ok, n, g.quorum, errors.Join(errs...))
	}
	if ok < n {
		g.log.Warn("chunk stored without all shards; the missing ones are left for repair",
			"chunk", id, "stored", ok, "shards", n, "err", errors.Join(errs...))
	}
	*out = meta.Chunk{
		CID:  id.Bytes(),
		Size: int64(size),
		Stripe: meta.Stripe{
			K: g.cfg.K, M: g.cfg.M,
			Layout:    lv.version,
			ShardSize: len(shards[0]),
			Seal:      seal,
			Shards:    ids,
			Nodes:     stored,
			Sums:      sums,
		},
	}
	if seal != 0 {
		out.Stripe.Name = name.Bytes()
	}
	return nil
}

func (g *Gateway) putShard(ctx context.Context, node string, id cid.Cid, data []byte) error {
	st, err := g.cfg.Nodes.Shards(node)
	if err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	if err := st.Put(ctx, id, data); err != nil {
		return fmt.Errorf("put shard %s on node %s: %w", id, node, err)
	}
	return nil
}

// rootCID computes the object's UnixFS root CID over its chunks.
func rootCID(chunks []meta.Chunk) (string, error) {
	b := erasure.NewDAGBuilder()
	for _, c := range chunks {
		id, err := cid.Cast(c.CID)
		if err != nil {
			return "", fmt.Errorf("chunk CID: %w", err)
		}
		b.Add(id, uint64(c.Size))
	}
	root, err := b.Root()
	if err != nil {
		return "", err
	}
	return root.String(), nil
}

// objectCID is the CID of an object written with sl: its root CID, or
// none for an object sealed under a customer key, whose chunks are known
// by keyed names only: a content address of its plaintext stored beside
// it would tell whoever reads the metadata whether it is a file they know.
func objectCID(chunks []meta.Chunk, sl sealing) (string, error) {
	if sl.scheme == erasure.SealCustomer {
		return "", nil
	}
	return rootCID(chunks)
}

// PutObject implements s3gw.Backend.
func (g *Gateway) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts s3gw.PutOptions) (s3gw.ObjectInfo, error) {
	// Fail fast on a missing bucket before reading a byte of the body.
	b, err := g.cfg.Meta.GetBucket(ctx, bucket)
	if err != nil {
		return s3gw.ObjectInfo{}, s3err(err)
	}
	if err := lockChecksum(b, opts); err != nil {
		return s3gw.ObjectInfo{}, err
	}
	// This read comes before the first shard is stored: the metadata
	// refuses a chunk that garbage collection forgot after it, whose
	// shards it may have deleted under this write.
	fence := b.ReadIndex
	sl, err := g.sealingFor(opts.SSE)
	if err != nil {
		return s3gw.ObjectInfo{}, err
	}
	w, err := g.writeChunks(ctx, r, size, sl)
	if err != nil {
		return s3gw.ObjectInfo{}, err
	}
	if opts.ContentMD5 != nil && !bytes.Equal(opts.ContentMD5, w.md5) {
		return s3gw.ObjectInfo{}, s3gw.ErrBadDigest
	}
	root, err := objectCID(w.chunks, sl)
	if err != nil {
		return s3gw.ObjectInfo{}, err
	}
	obj := &meta.Object{
		V:           meta.FormatVersion,
		Bucket:      bucket,
		Key:         key,
		Size:        w.size,
		ETag:        etag(w.md5, opts.SSE),
		CID:         root,
		Modified:    g.cfg.Now().UTC(),
		ContentType: opts.ContentType,
		Headers:     opts.Headers,
		UserMeta:    opts.UserMeta,
		Chunks:      w.chunks,
		Fence:       fence,
		Tags:        opts.Tags,
		SSE:         metaSSE(opts.SSE),
	}
	setWriteOptions(obj, opts)
	if err := g.idempotent(ctx, g.putManifest(ctx, obj)); err != nil {
		return s3gw.ObjectInfo{}, versionErr(err)
	}
	return objectInfo(obj), nil
}

// idempotent runs a metadata write that leaves the same state however
// often it is applied (storing this manifest under its key; a part under
// its number), trying again when its outcome is unknown or no leader took
// it: a leader election then costs the client some latency, not an error
// for data already stored. The number of tries is bounded.
func (g *Gateway) idempotent(ctx context.Context, write func() error) error {
	wait := 200 * time.Millisecond
	for try := 1; ; try++ {
		err := write()
		if err == nil || try == 3 || !(errors.Is(err, meta.ErrOutcomeUnknown) || errors.Is(err, meta.ErrNotLeader)) {
			return err
		}
		g.log.Info("metadata write interrupted; writing again", "try", try, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// CopyObject implements s3gw.Backend: the copy shares the source's chunks,
// so no data moves.
func (g *Gateway) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts s3gw.CopyOptions) (s3gw.ObjectInfo, error) {
	return g.CopyObjectVersion(ctx, srcBucket, srcKey, "", dstBucket, dstKey, opts)
}

// DeleteObject implements s3gw.Backend.
func (g *Gateway) DeleteObject(ctx context.Context, bucket, key string) error {
	res, err := g.DeleteVersions(ctx, bucket, []s3gw.DeleteTarget{{Key: key}}, false)
	if err != nil {
		return err
	}
	return res[0].Err
}

// DeleteObjects implements s3gw.Backend with one metadata commit.
func (g *Gateway) DeleteObjects(ctx context.Context, bucket string, keys []string) ([]error, error) {
	ts := make([]s3gw.DeleteTarget, len(keys))
	for i, k := range keys {
		ts[i].Key = k
	}
	res, err := g.DeleteVersions(ctx, bucket, ts, false)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(keys))
	for i, r := range res {
		errs[i] = r.Err
	}
	return errs, nil
}

// ListBuckets implements s3gw.Backend.
func (g *Gateway) ListBuckets(ctx context.Context) ([]s3gw.BucketInfo, error) {
	bs, err := g.cfg.Meta.ListBuckets(ctx)
	if err != nil {
		return nil, s3err(err)
	}
	out := make([]s3gw.BucketInfo, len(bs))
	for i, b := range bs {
		out[i] = s3gw.BucketInfo{Name: b.Name, Created: b.Created}
	}
	return out, nil
}

// CreateBucket implements s3gw.Backend.
func (g *Gateway) CreateBucket(ctx context.Context, bucket string) error {
	return s3err(g.cfg.Meta.CreateBucket(ctx, bucket, g.cfg.Now().UTC()))
}

// HeadBucket implements s3gw.Backend.
func (g *Gateway) HeadBucket(ctx context.Context, bucket string) (s3gw.BucketInfo, error) {
	b, err := g.cfg.Meta.GetBucket(ctx, bucket)
	if err != nil {
		return s3gw.BucketInfo{}, s3err(err)
	}
	return s3gw.BucketInfo{Name: b.Name, Created: b.Created}, nil
}

// DeleteBucket implements s3gw.Backend.
func (g *Gateway) DeleteBucket(ctx context.Context, bucket string) error {
	return s3err(g.cfg.Meta.DeleteBucket(ctx, bucket))
}

// ListObjects implements s3gw.Backend.
func (g *Gateway) ListObjects(ctx context.Context, bucket string, q s3gw.ListQuery) (s3gw.ListResult, error) {
	res, err := g.cfg.Meta.ListObjects(ctx, bucket, meta.ListQuery{
		Prefix: q.Prefix, Delimiter: q.Delimiter, Marker: q.Marker, Max: q.MaxKeys,
	})
	if err != nil {
		return s3gw.ListResult{}, s3err(err)
	}
	out := s3gw.ListResult{
		CommonPrefixes: res.CommonPrefixes,
		IsTruncated:    res.Truncated,
		NextMarker:     res.NextMarker,
		Objects:        make([]s3gw.ObjectInfo, len(res.Objects)),
	}
	for i, o := range res.Objects {
		out.Objects[i] = objectInfo(o)
	}
	return out, nil
}

func objectInfo(o *meta.Object) s3gw.ObjectInfo {
	info := s3gw.ObjectInfo{
		Key:          o.Key,
		Size:         o.Size,
		ETag:         o.ETag,
		CID:          o.CID,
		LastModified: o.Modified,
		ContentType:  o.ContentType,
		Headers:      o.Headers,
		UserMeta:     o.UserMeta,
		PartsCount:   len(o.PartSizes),
		PartSizes:    o.PartSizes,
		Tags:         o.Tags,
		SSE:          objectSSE(o.SSE),
	}
	versionInfo(&info, o)
	return info
}

// SetObjectTags implements s3gw.ObjectTagger: one metadata entry that
// changes the tags and nothing else of the object's manifest.
func (g *Gateway) SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	return s3err(g.cfg.Meta.SetObjectTags(ctx, bucket, key, tags))
}

// SetVersionTags implements s3gw.VersionTagger: one metadata entry that
// changes the tags and nothing else of one version's manifest, current
// or noncurrent.
func (g *Gateway) SetVersionTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (string, error) {
	id, err := g.cfg.Meta.SetVersionTags(ctx, bucket, key, versionID, tags)
	if errors.Is(err, meta.ErrDeleteMarker) {
		return "", fmt.Errorf("%w: %w", s3gw.ErrVersionIsDeleteMarker, err)
	}
	return id, versionErr(err)
}

func objectSSE(sse *meta.SSE) s3gw.Encryption {
	if sse == nil {
		return s3gw.Encryption{}
	}
	return s3gw.Encryption{S3: sse.S3, CustomerKeyCheck: sse.CustomerKeyCheck}
}
