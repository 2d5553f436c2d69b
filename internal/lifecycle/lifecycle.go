package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/meta"
	"cairn/internal/metrics"
)

// Meta is what a Runner needs of the metadata store. *meta.Store
// satisfies it.
type Meta interface {
	ListBuckets(ctx context.Context) ([]*meta.Bucket, error)
	GetBucketConfig(ctx context.Context, bucket string) (*meta.BucketConfig, error)
	ListObjectVersions(ctx context.Context, bucket string, q meta.VersionQuery) (*meta.VersionList, error)
	DeleteVersions(ctx context.Context, bucket string, targets []meta.DeleteTarget, bypass bool) ([]meta.DeleteOutcome, error)
	ListUploads(ctx context.Context, bucket string, q meta.UploadQuery) (*meta.UploadList, error)
	AbortUpload(ctx context.Context, bucket, key, id string) error
}

var _ Meta = (*meta.Store)(nil)

// DefaultDay is a lifecycle day: a day.
const DefaultDay = 24 * time.Hour

// Config configures a Runner. Meta and Leader are required.
type Config struct {
	Meta Meta
	// Leader reports whether this node leads the metadata group: a pass
	// runs only then.
	Leader func() bool
	// Day is how long a lifecycle day lasts. Default DefaultDay.
	Day time.Duration
	// Interval is the time between passes. Default Day/24, at least 1s.
	Interval time.Duration
	// Page is how many versions one listing call returns, and how many
	// deletes one metadata command carries. Default 1000.
	Page int
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Metrics, if set, receives the cairn_lifecycle_* metrics
	// (docs/metrics.md).
	Metrics prometheus.Registerer
}

// Runner carries out lifecycle rules; see the package documentation.
type Runner struct {
	cfg Config
	log *slog.Logger

	passes, expired, aborted, refused atomic.Int64
}

// New returns a Runner for cfg.
func New(cfg Config) (*Runner, error) {
	if cfg.Meta == nil || cfg.Leader == nil {
		return nil, errors.New("lifecycle: Config.Meta and Config.Leader are required")
	}
	if cfg.Day <= 0 {
		cfg.Day = DefaultDay
	}
	if cfg.Interval <= 0 {
		cfg.Interval = max(cfg.Day/24, time.Second)
	}
	if cfg.Page <= 0 {
		cfg.Page = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, log: log}
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "lifecycle", Name: name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	if err := metrics.Register(cfg.Metrics,
		counter("passes_total", "Lifecycle passes run while this node led the metadata group.", &r.passes),
		counter("expired_total", "Versions and delete markers that lifecycle rules deleted, and delete markers they made.", &r.expired),
		counter("aborted_uploads_total", "Multipart uploads that lifecycle rules aborted.", &r.aborted),
		counter("refused_total", "Deletes the metadata store refused (a locked version, a version written meanwhile); tried again at the next pass.", &r.refused),
	); err != nil {
		return nil, fmt.Errorf("lifecycle: %w", err)
	}
	return r, nil
}

// Stats are a Runner's figures since it started.
type Stats struct {
	Passes  int64 // passes run (as leader)
	Expired int64 // versions and delete markers deleted, delete markers made
	Aborted int64 // uploads aborted
	Refused int64 // deletes the store refused (object lock, a version changed)
}

// Stats returns the Runner's figures.
func (r *Runner) Stats() Stats {
	return Stats{r.passes.Load(), r.expired.Load(), r.aborted.Load(), r.refused.Load()}
}

// Run runs passes until ctx ends; it returns ctx's cause.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
		if !r.cfg.Leader() {
			continue
		}
		if err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("lifecycle: pass failed", "err", err)
		}
	}
}

// Pass runs one pass over every bucket with enabled rules.
func (r *Runner) Pass(ctx context.Context) error {
	r.passes.Add(1)
	buckets, err := r.cfg.Meta.ListBuckets(ctx)
	if err != nil {
		return fmt.Errorf("lifecycle: list buckets: %w", err)
	}
	var errs []error
	for _, b := range buckets {
		cfg, err := r.cfg.Meta.GetBucketConfig(ctx, b.Name)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var rules []meta.LifecycleRule
		for _, rl := range cfg.Lifecycle {
			if rl.Enabled {
				rules = append(rules, rl)
			}
		}
		if len(rules) == 0 {
			continue
		}
		if err := r.bucket(ctx, b.Name, rules); err != nil {
			errs = append(errs, fmt.Errorf("lifecycle: bucket %q: %w", b.Name, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) days(n int) time.Duration { return time.Duration(n) * r.cfg.Day }

// tags returns an object version's tags, which lifecycle filters match:
// those of its manifest (S3 object tagging; a delete marker has none).
func (r *Runner) tags(o *meta.Object) map[string]string { return o.Tags }

func (r *Runner) matches(rl *meta.LifecycleRule, o *meta.Object) bool {
	if !strings.HasPrefix(o.Key, rl.Prefix) {
		return false
	}
	if len(rl.Tags) == 0 {
		return true
	}
	tags := r.tags(o)
	for _, t := range rl.Tags {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// bucket runs the rules of one bucket.
func (r *Runner) bucket(ctx context.Context, bucket string, rules []meta.LifecycleRule) error {
	now := r.cfg.Now()
	var batch []meta.DeleteTarget
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		outs, err := r.cfg.Meta.DeleteVersions(ctx, bucket, batch, false)
		if err != nil {
			return fmt.Errorf("delete %d versions: %w", len(batch), err)
		}
		for i, o := range outs {
			if o.Err != nil {
				r.refused.Add(1)
				r.log.Info("lifecycle: delete refused", "bucket", bucket, "key", batch[i].Key, "version", batch[i].VersionID, "err", o.Err)
				continue
			}
			r.expired.Add(1)
			r.log.Debug("lifecycle: expired", "bucket", bucket, "key", batch[i].Key, "version", batch[i].VersionID, "delete_marker", o.DeleteMarker)
		}
		batch = batch[:0]
		return nil
	}
	var group []*meta.Object
	decide := func() error {
		batch = append(batch, r.decide(rules, group, now)...)
		group = group[:0]
		if len(batch) >= r.cfg.Page {
			return flush()
		}
		return nil
	}
	q := meta.VersionQuery{Max: r.cfg.Page}
	for {
		l, err := r.cfg.Meta.ListObjectVersions(ctx, bucket, q)
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		for _, v := range l.Versions {
			if len(group) > 0 && group[0].Key != v.Key {
				if err := decide(); err != nil {
					return err
				}
			}
			group = append(group, v)
		}
		if !l.Truncated {
			break
		}
		q.KeyMarker, q.VersionIDMarker = l.NextKeyMarker, l.NextVersionIDMarker
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
	if len(group) > 0 {
		if err := decide(); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return r.uploads(ctx, bucket, rules, now)
}

// decide returns the deletes the rules call for among the versions of one
// key (newest first, the current one first).
func (r *Runner) decide(rules []meta.LifecycleRule, versions []*meta.Object, now time.Time) []meta.DeleteTarget {
	if len(versions) == 0 {
		return nil
	}
	var out []meta.DeleteTarget
	cur := versions[0]
	if !cur.Latest {
		cur = nil
	}
	if cur != nil {
		for i := range rules {
			rl := &rules[i]
			if !r.matches(rl, cur) {
				continue
			}
			if !cur.DeleteMarker {
				due := (rl.ExpirationDays > 0 && !now.Before(cur.Modified.Add(r.days(rl.ExpirationDays)))) ||
					(!rl.ExpirationDate.IsZero() && !now.Before(rl.ExpirationDate))
				if due {
					out = append(out, meta.DeleteTarget{Key: cur.Key, IfStamp: meta.StampOf(cur)})
					break
				}
				continue
			}
			// A delete marker with no version under it.
			if len(versions) == 1 && (rl.ExpiredObjectDeleteMarker || rl.ExpirationDays > 0 || !rl.ExpirationDate.IsZero()) {
				out = append(out, meta.DeleteTarget{Key: cur.Key, VersionID: cur.ID(), IfStamp: meta.StampOf(cur)})
				break
			}
		}
	}
	for i := 1; i < len(versions); i++ {
		nc := versions[i]
		since := versions[i-1].Modified // when the version above replaced it
		newer := i - 1                  // noncurrent versions newer than it
		for j := range rules {
			rl := &rules[j]
			if rl.NoncurrentDays <= 0 || !r.matches(rl, nc) {
				continue
			}
			if newer >= rl.NewerNoncurrent && !now.Before(since.Add(r.days(rl.NoncurrentDays))) {
				out = append(out, meta.DeleteTarget{Key: nc.Key, VersionID: nc.ID(), IfStamp: meta.StampOf(nc)})
				break
			}
		}
	}
	return out
}

// uploads aborts the bucket's uploads that rules say are too old.
func (r *Runner) uploads(ctx context.Context, bucket string, rules []meta.LifecycleRule, now time.Time) error {
	some := false
	for _, rl := range rules {
		some = some || rl.AbortMultipartDays > 0
	}
	if !some {
		return nil
	}
	q := meta.UploadQuery{Max: r.cfg.Page}
	for {
		l, err := r.cfg.Meta.ListUploads(ctx, bucket, q)
		if err != nil {
			return fmt.Errorf("list uploads: %w", err)
		}
		for _, u := range l.Uploads {
			for _, rl := range rules {
				if rl.AbortMultipartDays <= 0 || !strings.HasPrefix(u.Key, rl.Prefix) || len(rl.Tags) > 0 {
					continue
				}
				if now.Before(u.Initiated.Add(r.days(rl.AbortMultipartDays))) {
					continue
				}
				err := r.cfg.Meta.AbortUpload(ctx, bucket, u.Key, u.ID)
				switch {
				case err == nil:
					r.aborted.Add(1)
					r.log.Debug("lifecycle: upload aborted", "bucket", bucket, "key", u.Key, "upload", u.ID)
				case errors.Is(err, meta.ErrNoSuchUpload):
				default:
					return fmt.Errorf("abort upload %s: %w", u.ID, err)
				}
				break
			}
		}
		if !l.Truncated {
			return nil
		}
		q.KeyMarker, q.UploadIDMarker = l.NextKeyMarker, l.NextUploadIDMarker
	}
}
