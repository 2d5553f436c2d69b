package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BucketConfig is a bucket's settings that S3 calls sub-resources: one
// record per bucket, in the bucket-config bbolt bucket, absent for a bucket
// that never had one (every field then has its zero value: versioning
// never enabled, no object lock, no lifecycle, no tags). A later
// sub-resource (policy, CORS) is a new field here, and a new
// BucketConfigPart to set it on its own.
type BucketConfig struct {
	V int `json:"v"`
	// Versioning is "" (never enabled), VersioningEnabled or
	// VersioningSuspended.
	Versioning string `json:"versioning,omitempty"`
	// ObjectLock is set on a bucket created with object lock; it cannot
	// be removed, and it keeps Versioning Enabled.
	ObjectLock *ObjectLockConfig `json:"object_lock,omitempty"`
	// Lifecycle holds the bucket's lifecycle rules (nil: none).
	Lifecycle []LifecycleRule `json:"lifecycle,omitempty"`
	// Tags are the bucket's tags, in the order given (nil: none).
	Tags []Tag `json:"tags,omitempty"`

	// Access control (access.go): the bucket policy document as given
	// ("" none), the bucket's canned ACL ("" private) and its CORS rules.
	Policy string     `json:"policy,omitempty"`
	ACL    string     `json:"acl,omitempty"`
	CORS   []CORSRule `json:"cors,omitempty"`
}

// Versioning states.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// Retention modes.
const (
	LockGovernance = "GOVERNANCE"
	LockCompliance = "COMPLIANCE"
)

// ObjectLockConfig is a bucket's object lock configuration: its default
// retention, which every new version that names none takes.
type ObjectLockConfig struct {
	// DefaultMode is LockGovernance or LockCompliance, "" for no default
	// retention; then one of DefaultDays and DefaultYears is positive.
	DefaultMode  string `json:"mode,omitempty"`
	DefaultDays  int    `json:"days,omitempty"`
	DefaultYears int    `json:"years,omitempty"`
}

// defaultUntil returns the retention a version written at now takes.
func (c *ObjectLockConfig) defaultUntil(now time.Time) time.Time {
	return now.AddDate(c.DefaultYears, 0, c.DefaultDays)
}

// Tag is a key=value tag.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// LifecycleRule is one rule of a bucket's lifecycle configuration. Days
// are counted in lifecycle days (storaged --lifecycle-day).
type LifecycleRule struct {
	ID      string `json:"id,omitempty"`
	Enabled bool   `json:"enabled"`
	// The filter: keys with Prefix whose object has every tag of Tags
	// (the object's tags are another matter's; see Object.UserMeta).
	Prefix string `json:"prefix,omitempty"`
	Tags   []Tag  `json:"tags,omitempty"`
	// Expiration of current versions, Days after they were written or
	// from Date on (0 and zero: none).
	ExpirationDays int       `json:"exp_days,omitempty"`
	ExpirationDate time.Time `json:"exp_date,omitzero"`
	// ExpiredObjectDeleteMarker removes a delete marker that is the only
	// version left of its key.
	ExpiredObjectDeleteMarker bool `json:"exp_dm,omitempty"`
	// NoncurrentDays expires a version that many days after it became
	// noncurrent, keeping the NewerNoncurrent newest noncurrent ones.
	NoncurrentDays  int `json:"nc_days,omitempty"`
	NewerNoncurrent int `json:"nc_newer,omitempty"`
	// AbortMultipartDays aborts uploads that many days after they began.
	AbortMultipartDays int `json:"abort_days,omitempty"`
}

// BucketConfigPart names the part of a BucketConfig that SetBucketConfig
// sets.
type BucketConfigPart byte

// The parts of a BucketConfig.
const (
	ConfigVersioning BucketConfigPart = iota + 1
	ConfigObjectLock
	ConfigLifecycle
	ConfigTags
)

// The parts of access control (access.go), numbered apart from the parts
// above so that parts other branches append cannot take their numbers:
// the number is in the raft log.
const (
	ConfigPolicy BucketConfigPart = 16 + iota
	ConfigACL
	ConfigCORS
)

func (p BucketConfigPart) String() string {
	switch p {
	case ConfigVersioning:
		return "versioning"
	case ConfigObjectLock:
		return "object lock"
	case ConfigLifecycle:
		return "lifecycle"
	case ConfigTags:
		return "tags"
	case ConfigPolicy:
		return "policy"
	case ConfigACL:
		return "acl"
	case ConfigCORS:
		return "cors"
	}
	return fmt.Sprintf("part %d", byte(p))
}

// GetBucketConfig returns a bucket's configuration (zero for a bucket that
// has none): ErrNoSuchBucket.
func (s *Store) GetBucketConfig(ctx context.Context, bucket string) (*BucketConfig, error) {
	var cfg *BucketConfig
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if !hasBucket(tx, bucket) {
			return ErrNoSuchBucket
		}
		var err error
		cfg, err = readBucketConfig(tx.Bucket(bBucketConfig), bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get bucket config %q: %w", bucket, err)
	}
	return cfg, nil
}

func readBucketConfig(b *bolt.Bucket, bucket string) (*BucketConfig, error) {
	cfg := &BucketConfig{V: FormatVersion}
	v := b.Get([]byte(bucket))
	if v == nil {
		return cfg, nil
	}
	if err := decodeJSON(v, cfg, &cfg.V); err != nil {
		return nil, fmt.Errorf("bucket config: %w", err)
	}
	return cfg, nil
}

// SetBucketConfig replaces one part of a bucket's configuration with
// cfg's: ErrNoSuchBucket; ErrInvalidBucketState to suspend versioning or
// remove it on an object lock bucket; ErrLockNotEnabled for an object
// lock configuration on a bucket created without object lock;
// ErrInvalidArgument for a malformed part.
func (s *Store) SetBucketConfig(ctx context.Context, bucket string, part BucketConfigPart, cfg *BucketConfig) error {
	if cfg == nil {
		cfg = &BucketConfig{}
	}
	err := checkBucket(bucket)
	if err == nil {
		err = checkBucketConfig(part, cfg)
	}
	var v []byte
	if err == nil {
		v, err = json.Marshal(cfg)
	}
	if err == nil {
		e := newCmd(opSetBucketConfig, s.cfg.Now(), len(bucket)+len(v)+8)
		e.str(bucket)
		e.uvarint(uint64(part))
		e.bytes(v)
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("set bucket %s of %q: %w", part, bucket, err)
	}
	return nil
}

// checkBucketConfig checks the part of cfg to be set.
func checkBucketConfig(part BucketConfigPart, cfg *BucketConfig) error {
	switch part {
	case ConfigVersioning:
		if cfg.Versioning != VersioningEnabled && cfg.Versioning != VersioningSuspended {
			return fmt.Errorf("%w: versioning %q", ErrInvalidArgument, cfg.Versioning)
		}
	case ConfigObjectLock:
		if cfg.ObjectLock == nil {
			return fmt.Errorf("%w: no object lock configuration", ErrInvalidArgument)
		}
		return checkLockConfig(cfg.ObjectLock)
	case ConfigLifecycle:
		if len(cfg.Lifecycle) > 1000 {
			return fmt.Errorf("%w: more than 1000 lifecycle rules", ErrInvalidArgument)
		}
	case ConfigTags:
		if len(cfg.Tags) > 50 {
			return fmt.Errorf("%w: more than 50 tags", ErrInvalidArgument)
		}
	case ConfigPolicy, ConfigACL, ConfigCORS:
		return checkAccessConfig(part, cfg)
	default:
		return fmt.Errorf("%w: %s", ErrInvalidArgument, part)
	}
	return nil
}

func checkLockConfig(c *ObjectLockConfig) error {
	switch {
	case c.DefaultMode == "" && (c.DefaultDays != 0 || c.DefaultYears != 0):
		return fmt.Errorf("%w: a default retention period without a mode", ErrInvalidArgument)
	case c.DefaultMode == "":
	case c.DefaultMode != LockGovernance && c.DefaultMode != LockCompliance:
		return fmt.Errorf("%w: retention mode %q", ErrInvalidArgument, c.DefaultMode)
	case (c.DefaultDays > 0) == (c.DefaultYears > 0) || c.DefaultDays < 0 || c.DefaultYears < 0:
		return fmt.Errorf("%w: default retention needs either days or years, positive", ErrInvalidArgument)
	case c.DefaultDays > 36500 || c.DefaultYears > 100:
		return fmt.Errorf("%w: default retention longer than 100 years", ErrInvalidArgument)
	}
	return nil
}

func (w *wtx) setBucketConfig(d *dec) error {
	bucket := d.str()
	part := BucketConfigPart(d.int())
	v := d.raw()
	if err := args(d); err != nil {
		return err
	}
	var in BucketConfig
	if err := json.Unmarshal(v, &in); err != nil {
		return reject(fmt.Errorf("%w: bucket config: %v", errCorrupt, err))
	}
	if err := checkBucketConfig(part, &in); err != nil {
		return reject(err)
	}
	if w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchBucket)
	}
	cfg, err := readBucketConfig(w.bconfig, bucket)
	if err != nil {
		return err
	}
	switch part {
	case ConfigVersioning:
		if cfg.ObjectLock != nil && in.Versioning != VersioningEnabled {
			return reject(fmt.Errorf("%w: versioning cannot be suspended on an object lock bucket", ErrInvalidBucketState))
		}
		cfg.Versioning = in.Versioning
	case ConfigObjectLock:
		if cfg.ObjectLock == nil {
			return reject(ErrLockNotEnabled)
		}
		cfg.ObjectLock = in.ObjectLock
	case ConfigLifecycle:
		cfg.Lifecycle = in.Lifecycle
	case ConfigTags:
		cfg.Tags = in.Tags
	case ConfigPolicy, ConfigACL, ConfigCORS:
		setAccessConfig(part, cfg, &in)
	}
	return w.putBucketConfig(bucket, cfg)
}

func (w *wtx) putBucketConfig(bucket string, cfg *BucketConfig) error {
	cfg.V = FormatVersion
	v, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return w.bconfig.Put([]byte(bucket), v)
}

// CreateBucketConfigured creates a bucket as CreateBucket does, with cfg
// as its configuration: a cfg with ObjectLock makes an object lock bucket,
// whose versioning is Enabled whatever cfg says.
func (s *Store) CreateBucketConfigured(ctx context.Context, name string, now time.Time, cfg *BucketConfig) error {
	if cfg == nil {
		cfg = &BucketConfig{}
	}
	err := checkBucket(name)
	if err == nil && cfg.ObjectLock != nil {
		err = checkLockConfig(cfg.ObjectLock)
	}
	var v []byte
	if err == nil {
		v, err = json.Marshal(cfg)
	}
	if err == nil {
		e := newCmd(opCreateBucketConfigured, now, len(name)+len(v)+4)
		e.str(name)
		e.bytes(v)
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	return nil
}

func (w *wtx) createBucketConfigured(d *dec) error {
	name := d.str()
	v := d.raw()
	if err := args(d); err != nil {
		return err
	}
	var cfg BucketConfig
	if err := json.Unmarshal(v, &cfg); err != nil {
		return reject(fmt.Errorf("%w: bucket config: %v", errCorrupt, err))
	}
	if cfg.ObjectLock != nil {
		if err := checkLockConfig(cfg.ObjectLock); err != nil {
			return reject(err)
		}
		cfg.Versioning = VersioningEnabled
	}
	e := enc{}
	e.str(name)
	if err := w.createBucket(&dec{b: e.b}); err != nil {
		return err
	}
	return w.putBucketConfig(name, &cfg)
}
