package heal

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Config says what Run measures. DefaultConfig returns a complete one.
type Config struct {
	// Go is the go command that builds storaged. Default "go".
	Go string
	// Storaged is a storaged binary to use instead of building
	// cairn/cmd/storaged (which needs the current directory to be in the
	// cairn module).
	Storaged string
	// Dir is where the temporary directory with the cluster goes, which
	// decides the disk it uses (and the disk write limit is measured on).
	// Default os.TempDir().
	Dir string

	// Data is the size of the data set in bytes, rounded up to whole
	// objects. Default 2 GiB.
	Data int64
	// ObjectSize is the size of each object. Default 4 MiB.
	ObjectSize int64
	// Load is the length of each GET phase; the one during repair ends
	// sooner when the repair does. Default 20s.
	Load time.Duration
	// Concurrency is the GETs in flight. Default 4.
	Concurrency int
	// Rates are the repair rates to measure, each on a cluster of its own:
	// RateDefault (storaged's own default, no flag), RateUnlimited (the
	// most --repair-rate takes, 1 PiB/s), or bytes per second ("128MiB").
	// Default [RateDefault].
	Rates []string
	// HealInterval is the meta nodes' --heal-interval. A layout change
	// starts a pass at once whatever it is; it decides how soon a later
	// pass confirms that every stripe is whole (and how soon healing is
	// seen idle after the writes). Default 5s.
	HealInterval time.Duration
	// Timeout bounds each wait on the cluster: healing idle after the
	// writes, the dead node seen down, the repair. Default 10m.
	Timeout time.Duration
	// KeepDir keeps the cluster's directory (data and logs) after a run
	// that succeeded; after a failure it is always kept.
	KeepDir bool

	// Command is the command line, printed with the figures.
	Command string
	// Log receives status lines, build output and progress; nil discards
	// them.
	Log io.Writer
	// LogTTY overwrites progress lines in place.
	LogTTY bool
}

// The repair rates that are not a number.
const (
	RateDefault   = "default"
	RateUnlimited = "unlimited"
)

// unlimitedRate is the largest --repair-rate storaged accepts.
const unlimitedRate = "1PiB"

// DefaultConfig returns the full benchmark: 2 GiB of 4 MiB objects, 20 s
// GET phases at concurrency 4, the default repair rate.
func DefaultConfig() Config {
	return Config{
		Go:           "go",
		Data:         2 << 30,
		ObjectSize:   4 << 20,
		Load:         20 * time.Second,
		Concurrency:  4,
		Rates:        []string{RateDefault},
		HealInterval: 5 * time.Second,
		Timeout:      10 * time.Minute,
	}
}

// Validate returns an error for each field that cannot be used.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Go == "" && c.Storaged == "" {
		bad("no go command to build storaged, and no storaged binary")
	}
	if c.ObjectSize <= 64<<10 {
		bad("object size %d: more than 64 KiB, or objects are kept inline and have no shards to repair", c.ObjectSize)
	}
	if c.Data < c.ObjectSize {
		bad("data %d: at least one object of %d bytes", c.Data, c.ObjectSize)
	}
	if c.Load <= 0 || c.HealInterval <= 0 || c.Timeout <= 0 {
		bad("load, heal interval and timeout must be positive")
	}
	if c.Concurrency < 1 {
		bad("concurrency %d: at least 1", c.Concurrency)
	}
	if len(c.Rates) == 0 {
		bad("no repair rate to measure")
	}
	for _, r := range c.Rates {
		if _, err := rateFlag(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// objects is the number of objects of the data set.
func (c Config) objects() int {
	return int((c.Data + c.ObjectSize - 1) / c.ObjectSize)
}

// rateFlag returns the --repair-rate value for a Rates entry, "" for the
// default.
func rateFlag(rate string) (string, error) {
	switch strings.ToLower(rate) {
	case RateDefault:
		return "", nil
	case RateUnlimited:
		return unlimitedRate, nil
	}
	n, err := humanize.ParseBytes(rate)
	if err != nil || n == 0 || n > 1<<50 {
		return "", fmt.Errorf("repair rate %q: want %s, %s, or bytes per second such as 128MiB", rate, RateDefault, RateUnlimited)
	}
	return rate, nil
}
