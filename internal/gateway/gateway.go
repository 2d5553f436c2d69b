package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/klauspost/reedsolomon"
	"golang.org/x/sync/semaphore"

	"cairn/erasure"
	"cairn/internal/layout"
	"cairn/internal/md5x"
	"cairn/internal/meta"
	"cairn/placement"
	"cairn/s3gw"
)

// ShardStore is one storage node's shards as the gateway sees them.
// blob.Store satisfies it for a local node; a node API client will for a
// remote one. Put is durable when it returns nil. Get may or may not verify
// the bytes: the gateway verifies every shard it reads against its CID.
type ShardStore interface {
	Put(ctx context.Context, id cid.Cid, data []byte) error
	Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error)
}

// VerifyingStore is a ShardStore that may vouch for what Get returns:
// VerifiesReads(id) reports that Get(id) returns only the bytes stored
// under id (a blob.LogStore checks a CRC-32C of each record; a
// nodeapi.Client hashes content-addressed shards), and the gateway does
// not check them again. Every other shard the gateway checks: a content
// address by hashing the shard, a shard name (erasure.ShardName) by the
// chunk's CID once the stripe is decoded.
type VerifyingStore interface {
	ShardStore
	VerifiesReads(id cid.Cid) bool
}

// Nodes resolves a storage node ID to its shards.
type Nodes interface {
	Shards(nodeID string) (ShardStore, error)
}

// Meta is the metadata the gateway needs. *meta.Store satisfies it; so will
// a client that forwards to the metadata leader.
type Meta interface {
	CreateBucket(ctx context.Context, name string, now time.Time) error
	DeleteBucket(ctx context.Context, name string) error
	GetBucket(ctx context.Context, name string) (*meta.Bucket, error)
	ListBuckets(ctx context.Context) ([]*meta.Bucket, error)
	PutObject(ctx context.Context, obj *meta.Object) error
	GetObject(ctx context.Context, bucket, key string) (*meta.Object, error)
	DeleteObjects(ctx context.Context, bucket string, keys []string) error
	ListObjects(ctx context.Context, bucket string, q meta.ListQuery) (*meta.ListResult, error)
	CreateUpload(ctx context.Context, u *meta.Upload) error
	GetUpload(ctx context.Context, bucket, key, id string) (*meta.Upload, error)
	PutPart(ctx context.Context, bucket, key, id string, p *meta.Part) error
	ListParts(ctx context.Context, bucket, key, id string, marker, max int) ([]*meta.Part, bool, error)
	CompleteUpload(ctx context.Context, id string, parts []meta.PartRef, obj *meta.Object) error
	AbortUpload(ctx context.Context, bucket, key, id string) error
	ListUploads(ctx context.Context, bucket string, q meta.UploadQuery) (*meta.UploadList, error)
	GetKey(ctx context.Context, id string) (*meta.Key, error)
	Layout(ctx context.Context) (*meta.Layout, error)
	LayoutVersion(ctx context.Context, v uint64) (*meta.Layout, error)
	SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error
	SetVersionTags(ctx context.Context, bucket, key, id string, tags map[string]string) (string, error)
	VersionMeta
}

var _ Meta = (*meta.Store)(nil)

// Config configures a Gateway. Default returns a complete one but for Meta
// and Nodes, which the caller must set.
type Config struct {
	Meta  Meta
	Nodes Nodes
	// K and M are the data and parity shards of every new stripe.
	K, M int
	// ChunkSize is the plaintext size of every chunk but an object's (or a
	// part's) last.
	ChunkSize int
	// Sealer seals and opens chunks under the tenant's master key
	// (erasure.Sealer). It is needed to read sealed stripes, whatever
	// Seal says: a gateway without one fails their reads. Nil: none.
	Sealer *erasure.Sealer
	// Seal makes new stripes sealed: each chunk is sealed before it is
	// coded (Stripe.Seal erasure.SealV1), its shards are named and placed
	// after its keyed name, and the stripe records the name and a sum of
	// each shard, so that a storage node sees no plaintext byte and no
	// plaintext CID. It needs Sealer. A cluster being upgraded runs its
	// gateways with Seal off until every gateway has a Sealer; stripes
	// written unsealed record no sums, and their manifests keep the
	// format that binaries from before sealing read.
	Seal bool
	// WriteQuorum is how many of a stripe's K+M shards must be stored before
	// the chunk counts as written; the rest are left to repair. Default K+1.
	WriteQuorum int
	// ChunksInFlight bounds the chunks one PUT encodes and sends at once.
	ChunksInFlight int
	// ReadAhead is how many chunks a GET fetches ahead of the client.
	ReadAhead int
	// HedgeAfter is how long a read waits for its data shards before it
	// also asks the parity holders, using whichever K shards come first:
	// at least this long, and longer while shard reads are slow across
	// the board (hedgeDelay), up to maxHedgeFactor times it.
	HedgeAfter time.Duration
	// MemoryBudget bounds the bytes of chunks (and their shards) that all
	// requests together hold at once; a request beyond it waits for
	// another to release a chunk. It is what keeps memory bounded however
	// many clients there are. Default DefaultMemoryBudget.
	MemoryBudget int64
	// InlineMax is the size up to which an object (or a part) is kept in
	// its manifest, replicated by Raft, instead of as a stripe of K+M
	// shards: a small object then costs one metadata commit rather than
	// K+M shard writes. 0 stores everything as stripes. At most
	// meta.MaxInline.
	InlineMax int
	// Down reports whether a storage node is known to be down (for a
	// cluster node, from its gossip view). New stripes are placed on the
	// layout's nodes without the down ones (layout.LiveRing), so that a
	// cluster that can still read can still write: with three nodes and
	// one down, the six shards of a 4+2 stripe go to the two that are up,
	// and repair moves them once the layout says where they belong. If
	// every node is down, stripes are placed as if none were. Every
	// stripe records the nodes its shards went to, so reads find them
	// whatever Down said. Down is called for each node of the layout as
	// each chunk is written: it must be cheap and safe for concurrent
	// use. Nil: no node is known to be down.
	Down func(nodeID string) bool
	// Report, when set, is told of each shard a read found missing on
	// the node its stripe names, or corrupt there, or with bytes that do
	// not decode to the chunk (a node that lies: lied is true): healing
	// records it and rebuilds the shard, and counts a lie against the
	// node (heal.Reporter). It must not block.
	Report func(chunkCID []byte, shard int, node string, lied bool)
	Logger *slog.Logger
	Now    func() time.Time
}

// DefaultMemoryBudget is the default MemoryBudget: room for 16 requests
// with their chunks in flight, in 4+2 stripes of 1 MiB chunks.
const DefaultMemoryBudget = 256 << 20

// bufferSlots is how many chunk buffers MemoryBudget allows: each costs
// its chunk and the chunk's parity shards (the data shards are slices of
// the chunk), and one request at a time can always make progress.
func bufferSlots(cfg Config) int64 {
	n := int64(shardSize(cfg))
	cost := n * int64(cfg.K+cfg.M)
	return max(cfg.MemoryBudget/cost, int64(cfg.ChunksInFlight+cfg.ReadAhead+2))
}

// shardSize is the size of the shards of a full chunk, sealed: sealing
// adds erasure.SealOverhead bytes, which a full chunk's buffers must hold
// whether this gateway seals or only reads sealed stripes.
func shardSize(cfg Config) int { return (cfg.ChunkSize + erasure.SealOverhead + cfg.K - 1) / cfg.K }

// chunkBuf is the memory of one chunk in flight, reused across requests. A
// PUT reads a chunk into data, seals it there and codes it in place: its
// data shards are slices of data, and its parity shards go to parity. A
// GET reads the data shards straight into their places in data, and
// parity shards, when it needs them, into parity, then opens the seal in
// place.
type chunkBuf struct {
	data   []byte   // K × shardSize bytes, at least ChunkSize + SealOverhead
	parity [][]byte // M buffers of shardSize bytes
}

// getBuf returns a chunk buffer once the memory budget has room for it.
func (g *Gateway) getBuf(ctx context.Context) (*chunkBuf, error) {
	if err := g.bufSlots.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	return g.chunkBufs.Get().(*chunkBuf), nil
}

// putBuf returns a buffer from getBuf.
func (g *Gateway) putBuf(b *chunkBuf) {
	g.chunkBufs.Put(b)
	g.bufSlots.Release(1)
}

// DefaultInlineMax is the default InlineMax: objects up to 64 KiB live in
// their manifests.
const DefaultInlineMax = 64 << 10

// Default returns the default configuration: 4+2 stripes of 1 MiB chunks.
func Default() Config {
	return Config{
		K:              4,
		M:              2,
		ChunkSize:      erasure.DefaultChunkSize,
		ChunksInFlight: 4,
		ReadAhead:      4,
		HedgeAfter:     250 * time.Millisecond,
		InlineMax:      DefaultInlineMax,
		MemoryBudget:   DefaultMemoryBudget,
		Logger:         slog.New(slog.DiscardHandler),
		Now:            time.Now,
	}
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	switch {
	case c.Meta == nil:
		return errors.New("gateway: Meta is required")
	case c.Nodes == nil:
		return errors.New("gateway: Nodes is required")
	case c.K < 1 || c.M < 0 || c.K+c.M > 256:
		return fmt.Errorf("gateway: bad stripe %d+%d: want k>=1, m>=0, k+m<=256", c.K, c.M)
	case c.ChunkSize < c.K:
		return fmt.Errorf("gateway: chunk size %d is smaller than k=%d", c.ChunkSize, c.K)
	case c.WriteQuorum != 0 && (c.WriteQuorum < c.K || c.WriteQuorum > c.K+c.M):
		return fmt.Errorf("gateway: write quorum %d outside [k=%d, k+m=%d]", c.WriteQuorum, c.K, c.K+c.M)
	case c.ChunksInFlight < 1 || c.ReadAhead < 0 || c.HedgeAfter < 0:
		return errors.New("gateway: ChunksInFlight must be >= 1, ReadAhead and HedgeAfter >= 0")
	case c.InlineMax < 0 || c.InlineMax > meta.MaxInline:
		return fmt.Errorf("gateway: InlineMax %d outside [0, %d]", c.InlineMax, meta.MaxInline)
	case c.Seal && c.Sealer == nil:
		return errors.New("gateway: Seal needs a Sealer")
	}
	return nil
}

// Gateway stores and reads objects: it chunks, hashes, seals,
// erasure-codes and places data on storage nodes, and keeps manifests in
// the metadata store.
// It implements s3gw.Backend and s3gw.Credentials. Safe for concurrent use.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	codec  *erasure.Codec // for new stripes
	quorum int

	chunkBufs sync.Pool           // *chunkBuf
	md5       *md5x.Batcher       // bodies' MD5s for their ETags, hashed together
	shardRead atomic.Int64        // moving average of a shard read's latency, ns (hedgeDelay)
	bufSlots  *semaphore.Weighted // chunk buffers in use, across all requests

	current atomic.Pointer[layoutView]
	mu      sync.Mutex
	layouts map[uint64]*layoutView // immutable once stored
	codecs  map[[2]int]*erasure.Codec
}

var (
	_ s3gw.Backend      = (*Gateway)(nil)
	_ s3gw.Credentials  = (*Gateway)(nil)
	_ s3gw.ObjectTagger = (*Gateway)(nil)

	_ s3gw.PolicyCredentials = (*Gateway)(nil)
)

// New returns a gateway over cfg, reading the current layout from the
// metadata store (which must have one).
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	d := Default()
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = d.ChunkSize
	}
	if cfg.K == 0 {
		cfg.K, cfg.M = d.K, d.M
	}
	if cfg.ChunksInFlight == 0 {
		cfg.ChunksInFlight = d.ChunksInFlight
	}
	if cfg.ReadAhead == 0 {
		cfg.ReadAhead = d.ReadAhead
	}
	if cfg.HedgeAfter == 0 {
		cfg.HedgeAfter = d.HedgeAfter
	}
	if cfg.MemoryBudget == 0 {
		cfg.MemoryBudget = d.MemoryBudget
	}
	if cfg.Logger == nil {
		cfg.Logger = d.Logger
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Chunks are coded in parallel already (ChunksInFlight); reedsolomon's
	// own goroutines on top made 4+2 encoding slower (9.5 vs 15.8 GB/s on 2
	// cores, erasure benchmarks).
	codec, err := erasure.NewCodec(cfg.K, cfg.M, erasure.WithConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &Gateway{
		cfg:     cfg,
		log:     cfg.Logger,
		codec:   codec,
		quorum:  cfg.WriteQuorum,
		layouts: make(map[uint64]*layoutView),
		codecs:  map[[2]int]*erasure.Codec{{cfg.K, cfg.M}: codec},
		md5:     md5x.NewBatcher(md5x.Options{}),
	}
	if g.quorum == 0 {
		g.quorum = min(cfg.K+1, cfg.K+cfg.M)
	}
	n := shardSize(cfg)
	g.chunkBufs.New = func() any {
		b := &chunkBuf{data: reedsolomon.AllocAligned(1, cfg.K*n)[0]}
		if cfg.M > 0 {
			b.parity = reedsolomon.AllocAligned(cfg.M, n)
		}
		return b
	}
	g.bufSlots = semaphore.NewWeighted(bufferSlots(cfg))
	if err := g.Refresh(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// layoutView is a layout ready for placement: its ring is built once per
// layout version, not once per chunk, and so is each ring without the
// nodes known to be down that new stripes are placed on.
type layoutView struct {
	version uint64
	layout  *meta.Layout
	ring    *placement.Ring
	nodes   []string // IDs of layout.Nodes: bit i of a down set is nodes[i]

	mu   sync.Mutex
	live map[string]*placement.Ring // by down set; nil: every node is down
}

// maxLiveRings bounds the rings without down nodes that a layout view
// keeps. Down sets change seldom; a flapping node makes two of them.
const maxLiveRings = 64

func newLayoutView(l *meta.Layout) (*layoutView, error) {
	ring, err := layout.Ring(l)
	if err != nil {
		return nil, err
	}
	v := &layoutView{version: l.Version, layout: l, ring: ring, live: map[string]*placement.Ring{}}
	for _, n := range layout.Nodes(l) {
		v.nodes = append(v.nodes, n.ID)
	}
	return v, nil
}

// writeRing returns the ring to place a new stripe on under lv: lv's ring
// without the nodes Config.Down reports down, or lv's ring itself when
// none is down or every one is. Rings are built once per down set.
func (g *Gateway) writeRing(lv *layoutView) *placement.Ring {
	if g.cfg.Down == nil {
		return lv.ring
	}
	var buf [32]byte // down sets of layouts up to 256 nodes, on the stack
	var set []byte   // bit i: lv.nodes[i] is down
	if n := (len(lv.nodes) + 7) / 8; n <= len(buf) {
		set = buf[:n]
	} else {
		set = make([]byte, n)
	}
	down := false
	for i, id := range lv.nodes {
		if g.cfg.Down(id) {
			set[i/8] |= 1 << (i % 8)
			down = true
		}
	}
	if !down {
		return lv.ring
	}
	if r := lv.liveRing(set, g.log); r != nil {
		return r
	}
	return lv.ring
}

// liveRing returns the ring of lv without the nodes in the down set, or
// nil when no node is up.
func (lv *layoutView) liveRing(set []byte, log *slog.Logger) *placement.Ring {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if r, ok := lv.live[string(set)]; ok {
		return r
	}
	key := string(set)
	var down []string
	for i, id := range lv.nodes {
		if key[i/8]&(1<<(i%8)) != 0 {
			down = append(down, id)
		}
	}
	r, err := layout.LiveRing(lv.layout, func(id string) bool { return slices.Contains(down, id) })
	if err != nil {
		log.Warn("every storage node is down; placing new stripes as if none were",
			"layout", lv.version, "down", down, "err", err)
		r = nil
	} else {
		log.Info("placing new stripes on the nodes that are up",
			"layout", lv.version, "down", down, "up", r.Len())
	}
	if len(lv.live) >= maxLiveRings {
		clear(lv.live)
	}
	lv.live[key] = r
	return r
}

// Refresh reloads the current layout from the metadata store. New stripes
// are placed under the layout of the last Refresh.
func (g *Gateway) Refresh(ctx context.Context) error {
	l, err := g.cfg.Meta.Layout(ctx)
	if err != nil {
		return fmt.Errorf("gateway: read layout: %w", err)
	}
	if l == nil || len(l.Nodes) == 0 {
		return errors.New("gateway: the cluster has no storage nodes in its layout yet")
	}
	v, err := newLayoutView(l)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	g.mu.Lock()
	g.layouts[v.version] = v
	g.mu.Unlock()
	g.current.Store(v)
	return nil
}

// layoutAt returns the layout of the given version, fetching it once.
func (g *Gateway) layoutAt(ctx context.Context, version uint64) (*layoutView, error) {
	g.mu.Lock()
	v, ok := g.layouts[version]
	g.mu.Unlock()
	if ok {
		return v, nil
	}
	l, err := g.cfg.Meta.LayoutVersion(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("read layout version %d: %w", version, err)
	}
	if l == nil {
		return nil, fmt.Errorf("layout version %d is unknown", version)
	}
	if v, err = newLayoutView(l); err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.layouts[version] = v
	g.mu.Unlock()
	return v, nil
}

// codecFor returns a codec for k+m stripes (stripes written under another
// redundancy setting stay readable).
func (g *Gateway) codecFor(k, m int) (*erasure.Codec, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.codecs[[2]int{k, m}]; ok {
		return c, nil
	}
	c, err := erasure.NewCodec(k, m, erasure.WithConcurrency(1))
	if err != nil {
		return nil, err
	}
	g.codecs[[2]int{k, m}] = c
	return c, nil
}

// SecretKey implements s3gw.Credentials from the access keys in the
// metadata store.
func (g *Gateway) SecretKey(ctx context.Context, accessKey string) (string, error) {
	k, err := g.cfg.Meta.GetKey(ctx, accessKey)
	if err != nil {
		return "", s3err(err)
	}
	return k.Secret, nil
}

// KeyPolicy implements s3gw.PolicyCredentials: the key's secret and what
// its policy (meta.Key.Policy) lets it do, in one metadata read.
func (g *Gateway) KeyPolicy(ctx context.Context, accessKey string) (string, *s3gw.KeyPolicy, error) {
	k, err := g.cfg.Meta.GetKey(ctx, accessKey)
	if err != nil {
		return "", nil, s3err(err)
	}
	if k.Policy == nil {
		return k.Secret, nil, nil
	}
	p := &s3gw.KeyPolicy{Bucket: k.Policy.Bucket, Prefix: k.Policy.Prefix}
	switch k.Policy.Access {
	case meta.AccessReadOnly:
		p.ReadOnly = true
	case meta.AccessReadWrite:
	default:
		// A policy this binary does not know allows nothing it cannot
		// tell is allowed: reads of its bucket and prefix only.
		g.log.Warn("access key with an unknown policy; treating it as read-only", "key", accessKey, "access", k.Policy.Access)
		p.ReadOnly = true
	}
	return k.Secret, p, nil
}

// s3err translates metadata errors into the s3gw sentinels, keeping the
// original in the chain for logs. It is the one place that knows both.
func s3err(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range []struct{ from, to error }{
		{meta.ErrNoSuchBucket, s3gw.ErrNoSuchBucket},
		{meta.ErrBucketExists, s3gw.ErrBucketAlreadyOwnedByYou},
		{meta.ErrBucketNotEmpty, s3gw.ErrBucketNotEmpty},
		{meta.ErrNoSuchKey, s3gw.ErrNoSuchKey},
		{meta.ErrNoSuchUpload, s3gw.ErrNoSuchUpload},
		{meta.ErrInvalidPart, s3gw.ErrInvalidPart},
		{meta.ErrNoSuchAccess, s3gw.ErrInvalidAccessKeyID},
		{meta.ErrNotLeader, s3gw.ErrServiceUnavailable},
		// The write may be applied or not: a client that retries (S3 SDKs
		// retry 503) converges either way, since a PUT is idempotent.
		{meta.ErrOutcomeUnknown, s3gw.ErrServiceUnavailable},
		// A chunk of the write is being garbage collected. Once the
		// collector has forgotten it, the same PUT stores the chunk's
		// shards afresh and succeeds: the client is to retry, a little
		// later (SlowDown carries Retry-After).
		{meta.ErrChunkCollecting, s3gw.ErrSlowDown},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return err
}
