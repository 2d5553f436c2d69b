package upkeep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/blob"
)

// Store is the store a node keeps up: *blob.LogStore and *blob.DirStore
// (any blob.Local) satisfy it.
type Store interface {
	blob.Scrubber
	blob.Compactor
	Usage(ctx context.Context) (blob.Usage, error)
}

// Config configures an Upkeep. Start from Default().
type Config struct {
	// Store is the node's store (required).
	Store Store

	// ScrubInterval is how often a scrub pass begins: every shard is
	// checked about this often (storaged --scrub-interval). Default
	// DefaultScrubInterval.
	ScrubInterval time.Duration
	// MinScrubRate and MaxScrubRate bound the bytes per second a
	// scheduled pass reads: at least the minimum, so that a small store
	// is done in a short while, and at most the maximum, so that clients
	// keep the disk however much the node holds (a pass that needs more
	// ends late). A pass asked for with ScrubNow reads at MaxScrubRate.
	// Defaults DefaultMinScrubRate and DefaultMaxScrubRate.
	MinScrubRate, MaxScrubRate int64
	// Checkpoint is how often a pass saves where it got to, and updates
	// its progress in Status and the metrics. Default 1 minute.
	Checkpoint time.Duration
	// StateFile is where the scrub's progress is kept across restarts
	// (JSON, written atomically); "" keeps none, and every start begins a
	// pass.
	StateFile string

	// CompactInterval is the time between two compactions of the store.
	// Default DefaultCompactInterval.
	CompactInterval time.Duration

	// Logger receives findings (Warn), passes and compactions that did
	// something (Info), and the rest (Debug). Nil discards.
	Logger *slog.Logger
	// Metrics registers the metrics of docs/metrics.md (cairn_scrub_*,
	// cairn_compact_*); nil registers none.
	Metrics prometheus.Registerer
	// Now is the clock of the schedule and of Status. Default time.Now.
	Now func() time.Time
}

// DefaultScrubInterval is a week, as Ceph's deep scrub: a node that holds
// 1 TiB then reads 2.2 MiB/s (a few percent of one disk), and a shard that
// rots is found and rebuilt long before a second fault in the same stripe
// is likely.
const DefaultScrubInterval = 7 * 24 * time.Hour

// DefaultMinScrubRate (1 MiB/s) ends a pass over 10 GiB in three hours;
// DefaultMaxScrubRate (64 MiB/s) is what repair writes at most by default
// (heal.DefaultRate), a fraction of what one disk reads.
const (
	DefaultMinScrubRate = 1 << 20
	DefaultMaxScrubRate = 64 << 20
)

// DefaultCompactInterval is half a minute: a compaction with nothing to do
// costs no I/O, and one with work costs the same whenever it runs.
const DefaultCompactInterval = 30 * time.Second

// Default returns a complete Config but for Store.
func Default() Config {
	return Config{
		ScrubInterval:   DefaultScrubInterval,
		MinScrubRate:    DefaultMinScrubRate,
		MaxScrubRate:    DefaultMaxScrubRate,
		Checkpoint:      time.Minute,
		CompactInterval: DefaultCompactInterval,
		Now:             time.Now,
	}
}

// withDefaults fills the zero fields from Default.
func (c Config) withDefaults() Config {
	d := Default()
	if c.ScrubInterval == 0 {
		c.ScrubInterval = d.ScrubInterval
	}
	if c.MinScrubRate == 0 {
		c.MinScrubRate = d.MinScrubRate
	}
	if c.MaxScrubRate == 0 {
		c.MaxScrubRate = max(d.MaxScrubRate, c.MinScrubRate)
	}
	if c.Checkpoint == 0 {
		c.Checkpoint = d.Checkpoint
	}
	if c.CompactInterval == 0 {
		c.CompactInterval = d.CompactInterval
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
	case c.Store == nil:
		return errors.New("upkeep: Config.Store is required")
	case c.ScrubInterval <= 0:
		return fmt.Errorf("upkeep: ScrubInterval %v: want a positive duration", c.ScrubInterval)
	case c.MinScrubRate <= 0 || c.MaxScrubRate < c.MinScrubRate:
		return fmt.Errorf("upkeep: scrub rates %d..%d bytes/s: want 0 < min <= max", c.MinScrubRate, c.MaxScrubRate)
	case c.Checkpoint <= 0:
		return fmt.Errorf("upkeep: Checkpoint %v: want a positive duration", c.Checkpoint)
	case c.CompactInterval <= 0:
		return fmt.Errorf("upkeep: CompactInterval %v: want a positive duration", c.CompactInterval)
	}
	return nil
}
