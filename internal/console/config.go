package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/s3gw"
)

// Defaults of Config.
const (
	DefaultTimeout         = 15 * time.Second
	DefaultTransferTimeout = time.Hour
	DefaultInterval        = 15 * time.Second
	DefaultWindow          = 6 * time.Hour
	DefaultSessionTTL      = 12 * time.Hour
	DefaultMaxSessions     = 1024
)

// Gateway is what the console needs of the node's S3 gateway: its store
// and its access keys. *gateway.Gateway satisfies it. Safe for concurrent
// use.
type Gateway interface {
	s3gw.Backend
	s3gw.Credentials
}

// Config configures a Server. Admin, AdminToken and Gateway are required;
// the rest have defaults.
type Config struct {
	// Admin is the admin API (an *admin.Server), called in-process with
	// AdminToken for the cluster status, shard maps and access keys.
	Admin      http.Handler
	AdminToken string
	// Gateway returns the node's S3 gateway, or nil while it has none yet
	// (it waits for its first layout): object views and S3-key logins
	// answer 503 until then.
	Gateway func() Gateway
	// Metrics is the node's Prometheus registry, sampled for the charts
	// (cairn_s3_*). Nil: the charts show only cluster health.
	Metrics prometheus.Gatherer
	// Interval is the time between two samples of the charts; Window how
	// far back they go (the ring holds Window/Interval samples).
	Interval, Window time.Duration
	// Timeout bounds an API request; TransferTimeout an upload or a
	// download.
	Timeout, TransferTimeout time.Duration
	// SessionTTL is how long a login lasts; MaxSessions how many sessions
	// the server keeps (a login past it ends the oldest).
	SessionTTL  time.Duration
	MaxSessions int
	// Logger logs logins and failed requests. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	switch {
	case c.Admin == nil:
		return errors.New("console: Config.Admin is required")
	case c.AdminToken == "":
		return errors.New("console: Config.AdminToken is required")
	case c.Gateway == nil:
		return errors.New("console: Config.Gateway is required")
	case c.Interval < 0 || c.Window < 0 || c.Timeout < 0 || c.TransferTimeout < 0 || c.SessionTTL < 0 || c.MaxSessions < 0:
		return errors.New("console: negative durations and counts are not allowed")
	case c.Interval > 0 && c.Window > 0 && c.Window < c.Interval:
		return fmt.Errorf("console: window %v is shorter than the interval %v", c.Window, c.Interval)
	}
	return nil
}

// ensureDefaults fills in the zero fields.
func (c *Config) ensureDefaults() {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.TransferTimeout == 0 {
		c.TransferTimeout = DefaultTransferTimeout
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
