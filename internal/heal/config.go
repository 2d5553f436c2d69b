package heal

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"

	"cairn/erasure"
	"cairn/internal/meta"
)

// Meta is the metadata healing reads and changes: the layout, the chunk
// table and the seal migration flag. *meta.Store and *metarpc.Client
// satisfy it.
type Meta interface {
	Layout(ctx context.Context) (*meta.Layout, error)
	LayoutVersion(ctx context.Context, version uint64) (*meta.Layout, error)
	Chunks(ctx context.Context, after []byte, limit int) ([]meta.ChunkInfo, []byte, error)
	SetStripeNodes(ctx context.Context, cid []byte, old, nodes []string, layout uint64) error
	Chunk(ctx context.Context, cid []byte) (*meta.ChunkInfo, error)
	ChunkByName(ctx context.Context, name []byte) (*meta.ChunkInfo, error)
	ReplaceStripe(ctx context.Context, cid []byte, old [][]byte, next meta.Stripe) error
	SealMigration(ctx context.Context) (bool, error)
	Collect(ctx context.Context, cids [][]byte, olderThan time.Time) error
	ForgetGarbage(ctx context.Context, cids [][]byte) error

	// The auditor's: ejections change the layout (layout.Change), and
	// what audits find goes to the nodes' reputation records.
	SetLayout(ctx context.Context, l *meta.Layout) error
	AddReputation(ctx context.Context, deltas []meta.ReputationDelta) error
	Reputations(ctx context.Context) ([]meta.Reputation, error)
}

var _ Meta = (*meta.Store)(nil)

// ShardStore is one storage node's shards. Put is durable when it returns
// nil. Walk lists every shard the node holds (its inventory).
type ShardStore interface {
	Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error)
	Put(ctx context.Context, id cid.Cid, data []byte) error
	Delete(ctx context.Context, id cid.Cid) error
	Has(ctx context.Context, id cid.Cid) (bool, error)
	Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error
}

// Nodes resolves a storage node ID to its shards.
type Nodes interface {
	Shards(nodeID string) (ShardStore, error)
}

// Config configures a Healer. Start from Default().
type Config struct {
	// Meta is the metadata (required).
	Meta Meta
	// Nodes reaches the storage nodes (required).
	Nodes Nodes
	// Alive reports whether a storage node is alive (gossip's view). A
	// node of the layout that is not alive is down: its shards wait for
	// it during its grace period. Nil: every node is alive.
	Alive func(nodeID string) bool
	// Leader reports whether this node should heal now: the metadata
	// leader does, the others wait. Nil: always.
	Leader func() bool
	// Sealer opens sealed stripes (erasure.Sealer, from the tenant's
	// master key) to rebuild their shards, and seals unsealed stripes
	// when the seal migration is asked for (meta's SetSealMigration).
	// Nil: the shards of sealed stripes still move, but none is rebuilt,
	// and the migration waits for a healer that has the key.
	Sealer *erasure.Sealer

	// Rate bounds the bytes per second that repair and rebalance write
	// (shards rebuilt or copied), so that clients keep their latency while
	// the cluster heals (storaged --repair-rate). Default DefaultRate.
	Rate int64
	// Concurrency is how many stripes are healed at once. Default 8: a
	// stripe's heal waits on reads, a write and a metadata commit in turn.
	Concurrency int
	// Interval is the time between two passes over the chunk table when
	// nothing asks for one sooner (Kick). Default 30s.
	Interval time.Duration
	// MaxQueue bounds the stripes one pass keeps to work on, those with
	// the fewest available shards first; the rest wait for the next pass.
	// Default 100000.
	MaxQueue int
	// Timeout bounds each call to a storage node or to the metadata.
	// Default 30s.
	Timeout time.Duration
	// GCGrace is how long a chunk stays unreferenced before its shards are
	// deleted (storaged --gc-grace), and how long a shard that no chunk
	// record names (a stray: left by a crashed PUT, a failed move) stays
	// before it is: a PUT in flight has written shards it has not
	// recorded yet. Default DefaultGCGrace.
	GCGrace time.Duration

	// AuditRate is how many shards per second the auditor checks, over
	// the whole cluster (storaged --audit-rate): each audit reads one
	// shard from its node and compares it with the sum recorded when it
	// was written. Audit reads also wait on Rate, so that audits and
	// repair together stay within it. 0: DefaultAuditRate; negative: no
	// audits.
	AuditRate float64
	// AuditConcurrency bounds the audits in flight. Default 4.
	AuditConcurrency int
	// EjectThreshold and EjectRatio are the ejection rule (doc.go,
	// "Audits"): a node whose reputation window holds at least
	// EjectThreshold failures, more than EjectRatio of its checks, is
	// taken out of the layout (storaged --eject-threshold). 0: the
	// defaults; a negative EjectThreshold never ejects.
	EjectThreshold int
	EjectRatio     float64
	// K is the data shards of new stripes: an ejection never leaves fewer
	// than K+1 storage nodes that take data. Default 4.
	K int
	// ReputationFlush is how often the auditor adds what it found to the
	// nodes' reputation records (one raft entry for every node) and
	// weighs them. Default 5s.
	ReputationFlush time.Duration

	// Logger receives what healing does; nil discards.
	Logger *slog.Logger
	// Metrics registers the healer's metrics (docs/metrics.md); nil
	// registers none.
	Metrics prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultGCGrace is the default GCGrace.
const DefaultGCGrace = time.Hour

// DefaultRate is the default Rate: 64 MiB/s, a fraction of what one disk
// or a gigabit link carries.
const DefaultRate = 64 << 20

// DefaultAuditRate is the default AuditRate: 4 shards a second, about
// 1 MiB/s of reads over the whole cluster with 4+2 stripes of 1 MiB
// chunks, 350 000 audits a day.
const DefaultAuditRate = 4

// DefaultEjectThreshold and DefaultEjectRatio are the default ejection
// rule: at least 10 failures in the window, more than 2% of its checks.
// An honest node fails an audit only when its disk lost a shard that its
// scrub has not found yet: far below 2%. A node that drops or alters one
// shard in ten fails fewer audits than that while readers are busy: a
// read that finds the shard first has it marked for repair, and it is out
// of the audits' sight until healing has rebuilt it there (the
// integration tests measured 3%).
const (
	DefaultEjectThreshold = 10
	DefaultEjectRatio     = 0.02
)

// Default returns a complete Config but for Meta and Nodes.
func Default() Config {
	return Config{
		Rate:        DefaultRate,
		Concurrency: 8,
		Interval:    30 * time.Second,
		MaxQueue:    100000,
		Timeout:     30 * time.Second,
		GCGrace:     DefaultGCGrace,

		AuditRate:        DefaultAuditRate,
		AuditConcurrency: 4,
		EjectThreshold:   DefaultEjectThreshold,
		EjectRatio:       DefaultEjectRatio,
		K:                4,
		ReputationFlush:  5 * time.Second,

		Now: time.Now,
	}
}

// withDefaults fills the zero fields from Default.
func (c Config) withDefaults() Config {
	d := Default()
	if c.Rate == 0 {
		c.Rate = d.Rate
	}
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = d.MaxQueue
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.GCGrace == 0 {
		c.GCGrace = d.GCGrace
	}
	if c.AuditRate == 0 {
		c.AuditRate = d.AuditRate
	}
	if c.AuditConcurrency == 0 {
		c.AuditConcurrency = d.AuditConcurrency
	}
	if c.EjectThreshold == 0 {
		c.EjectThreshold = d.EjectThreshold
	}
	if c.EjectRatio == 0 {
		c.EjectRatio = d.EjectRatio
	}
	if c.K == 0 {
		c.K = d.K
	}
	if c.ReputationFlush == 0 {
		c.ReputationFlush = d.ReputationFlush
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	switch {
	case c.Meta == nil:
		return errors.New("heal: Config.Meta is required")
	case c.Nodes == nil:
		return errors.New("heal: Config.Nodes is required")
	case c.Rate < 0:
		return errors.New("heal: Rate must not be negative")
	case c.Concurrency < 1:
		return errors.New("heal: Concurrency must be at least 1")
	case c.Interval <= 0:
		return errors.New("heal: Interval must be positive")
	case c.MaxQueue < 1:
		return errors.New("heal: MaxQueue must be at least 1")
	case c.GCGrace < 0:
		return errors.New("heal: GCGrace must not be negative")
	case c.AuditConcurrency < 1:
		return errors.New("heal: AuditConcurrency must be at least 1")
	case c.EjectRatio < 0 || c.EjectRatio >= 1:
		return errors.New("heal: EjectRatio must be in [0, 1)")
	case c.K < 1:
		return errors.New("heal: K must be at least 1")
	case c.ReputationFlush <= 0:
		return errors.New("heal: ReputationFlush must be positive")
	}
	return nil
}
