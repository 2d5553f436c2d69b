package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cairn/internal/meta"
	"cairn/s3gw"
)

// VersionMeta is the metadata of versioning, object lock and bucket
// configuration that the gateway needs besides Meta's.
type VersionMeta interface {
	GetBucketConfig(ctx context.Context, bucket string) (*meta.BucketConfig, error)
	SetBucketConfig(ctx context.Context, bucket string, part meta.BucketConfigPart, cfg *meta.BucketConfig) error
	CreateBucketConfigured(ctx context.Context, name string, now time.Time, cfg *meta.BucketConfig) error
	GetObjectVersion(ctx context.Context, bucket, key, id string) (*meta.Object, error)
	DeleteVersions(ctx context.Context, bucket string, targets []meta.DeleteTarget, bypass bool) ([]meta.DeleteOutcome, error)
	ListObjectVersions(ctx context.Context, bucket string, q meta.VersionQuery) (*meta.VersionList, error)
	SetObjectLock(ctx context.Context, bucket, key, id string, c meta.LockChange) (string, error)
}

var _ s3gw.VersionedBackend = (*Gateway)(nil)

// versionErr translates the errors of versioning's metadata calls.
func versionErr(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range []struct{ from, to error }{
		{meta.ErrNoSuchVersion, s3gw.ErrNoSuchVersion},
		{meta.ErrPreconditionFailed, s3gw.ErrPreconditionFailed},
		{meta.ErrObjectLocked, s3gw.ErrObjectLocked},
		{meta.ErrLockNotEnabled, s3gw.ErrLockNotEnabled},
		{meta.ErrInvalidBucketState, s3gw.ErrInvalidBucketState},
		{meta.ErrInvalidArgument, s3gw.ErrInvalidVersionID},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return s3err(err)
}

// CreateBucketWithLock implements s3gw.VersionedBackend.
func (g *Gateway) CreateBucketWithLock(ctx context.Context, bucket string) error {
	return versionErr(g.cfg.Meta.CreateBucketConfigured(ctx, bucket, g.cfg.Now().UTC(),
		&meta.BucketConfig{Versioning: meta.VersioningEnabled, ObjectLock: &meta.ObjectLockConfig{}}))
}

// BucketConfig implements s3gw.VersionedBackend.
func (g *Gateway) BucketConfig(ctx context.Context, bucket string) (s3gw.BucketConfig, error) {
	c, err := g.cfg.Meta.GetBucketConfig(ctx, bucket)
	if err != nil {
		return s3gw.BucketConfig{}, versionErr(err)
	}
	out := s3gw.BucketConfig{Versioning: c.Versioning}
	if l := c.ObjectLock; l != nil {
		out.ObjectLock = &s3gw.ObjectLockConfig{Mode: l.DefaultMode, Days: l.DefaultDays, Years: l.DefaultYears}
	}
	for _, t := range c.Tags {
		out.Tags = append(out.Tags, s3gw.Tag(t))
	}
	for _, r := range c.Lifecycle {
		rl := s3gw.LifecycleRule{
			ID: r.ID, Enabled: r.Enabled, Prefix: r.Prefix,
			ExpirationDays: r.ExpirationDays, ExpirationDate: r.ExpirationDate,
			ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker,
			NoncurrentDays:            r.NoncurrentDays, NewerNoncurrent: r.NewerNoncurrent,
			AbortMultipartDays: r.AbortMultipartDays,
		}
		for _, t := range r.Tags {
			rl.Tags = append(rl.Tags, s3gw.Tag(t))
		}
		out.Lifecycle = append(out.Lifecycle, rl)
	}
	accessConfig(&out, c)
	return out, nil
}

// SetBucketVersioning implements s3gw.VersionedBackend.
func (g *Gateway) SetBucketVersioning(ctx context.Context, bucket, status string) error {
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigVersioning, &meta.BucketConfig{Versioning: status}))
}

// SetObjectLockConfig implements s3gw.VersionedBackend.
func (g *Gateway) SetObjectLockConfig(ctx context.Context, bucket string, c s3gw.ObjectLockConfig) error {
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigObjectLock, &meta.BucketConfig{
		ObjectLock: &meta.ObjectLockConfig{DefaultMode: c.Mode, DefaultDays: c.Days, DefaultYears: c.Years},
	}))
}

// SetBucketTags implements s3gw.VersionedBackend.
func (g *Gateway) SetBucketTags(ctx context.Context, bucket string, tags []s3gw.Tag) error {
	cfg := &meta.BucketConfig{}
	for _, t := range tags {
		cfg.Tags = append(cfg.Tags, meta.Tag(t))
	}
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigTags, cfg))
}

// SetBucketLifecycle implements s3gw.VersionedBackend.
func (g *Gateway) SetBucketLifecycle(ctx context.Context, bucket string, rules []s3gw.LifecycleRule) error {
	cfg := &meta.BucketConfig{}
	for _, r := range rules {
		rl := meta.LifecycleRule{
			ID: r.ID, Enabled: r.Enabled, Prefix: r.Prefix,
			ExpirationDays: r.ExpirationDays, ExpirationDate: r.ExpirationDate,
			ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker,
			NoncurrentDays:            r.NoncurrentDays, NewerNoncurrent: r.NewerNoncurrent,
			AbortMultipartDays: r.AbortMultipartDays,
		}
		for _, t := range r.Tags {
			rl.Tags = append(rl.Tags, meta.Tag(t))
		}
		cfg.Lifecycle = append(cfg.Lifecycle, rl)
	}
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigLifecycle, cfg))
}

// GetObjectVersion implements s3gw.VersionedBackend.
func (g *Gateway) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (s3gw.Object, error) {
	o, err := g.cfg.Meta.GetObjectVersion(ctx, bucket, key, versionID)
	if err != nil {
		return nil, versionErr(err)
	}
	return newObject(g, o), nil
}

// DeleteVersions implements s3gw.VersionedBackend in one metadata commit.
func (g *Gateway) DeleteVersions(ctx context.Context, bucket string, targets []s3gw.DeleteTarget, bypass bool) ([]s3gw.DeleteResult, error) {
	ts := make([]meta.DeleteTarget, len(targets))
	for i, t := range targets {
		ts[i] = meta.DeleteTarget{Key: t.Key, VersionID: t.VersionID}
	}
	outs, err := g.cfg.Meta.DeleteVersions(ctx, bucket, ts, bypass)
	if err != nil {
		return nil, versionErr(err)
	}
	res := make([]s3gw.DeleteResult, len(outs))
	for i, o := range outs {
		res[i] = s3gw.DeleteResult{VersionID: o.VersionID, DeleteMarker: o.DeleteMarker, Err: versionErr(o.Err)}
	}
	return res, nil
}

// ListObjectVersions implements s3gw.VersionedBackend.
func (g *Gateway) ListObjectVersions(ctx context.Context, bucket string, q s3gw.VersionQuery) (s3gw.VersionList, error) {
	l, err := g.cfg.Meta.ListObjectVersions(ctx, bucket, meta.VersionQuery{
		Prefix: q.Prefix, Delimiter: q.Delimiter, KeyMarker: q.KeyMarker, VersionIDMarker: q.VersionIDMarker, Max: q.MaxKeys,
	})
	if err != nil {
		return s3gw.VersionList{}, versionErr(err)
	}
	out := s3gw.VersionList{
		CommonPrefixes: l.CommonPrefixes, IsTruncated: l.Truncated,
		NextKeyMarker: l.NextKeyMarker, NextVersionIDMarker: l.NextVersionIDMarker,
		Versions: make([]s3gw.ObjectInfo, len(l.Versions)),
	}
	for i, v := range l.Versions {
		out.Versions[i] = objectInfo(v)
		out.Versions[i].VersionID = v.ID()
	}
	return out, nil
}

// CopyObjectVersion implements s3gw.VersionedBackend: the copy shares the
// source version's chunks; it takes opts.Put's lock (or the bucket's
// default), never the source's.
func (g *Gateway) CopyObjectVersion(ctx context.Context, srcBucket, srcKey, srcVersion, dstBucket, dstKey string, opts s3gw.CopyOptions) (s3gw.ObjectInfo, error) {
	src, err := g.cfg.Meta.GetObjectVersion(ctx, srcBucket, srcKey, srcVersion)
	if err != nil {
		return s3gw.ObjectInfo{}, versionErr(err)
	}
	if src.DeleteMarker {
		return s3gw.ObjectInfo{}, s3gw.ErrNoSuchKey
	}
	if keyCheck(src.SSE) != nil {
		// Its stripes open with the customer's key only: s3gw copies it
		// by reading and writing (s3gw.CopyOptions).
		return s3gw.ObjectInfo{}, s3gw.ErrCustomerKeyRequired
	}
	if opts.SSES3 && (src.SSE == nil || !src.SSE.S3) {
		return s3gw.ObjectInfo{}, errors.New("gateway: a copy to SSE-S3 of an object written without it shares chunks that may be inline or unsealed")
	}
	dst := *src
	dst.Bucket, dst.Key = dstBucket, dstKey
	dst.Modified = g.cfg.Now().UTC()
	dst.SSE = nil
	if opts.SSES3 {
		dst.SSE = &meta.SSE{S3: true}
	}
	if opts.ReplaceMetadata {
		dst.ContentType = opts.Put.ContentType
		dst.Headers = opts.Put.Headers
		dst.UserMeta = opts.Put.UserMeta
	}
	if opts.ReplaceTags {
		dst.Tags = opts.Tags
	}
	setWriteOptions(&dst, opts.Put)
	if err := g.cfg.Meta.PutObject(ctx, &dst); err != nil {
		return s3gw.ObjectInfo{}, versionErr(err)
	}
	return objectInfo(&dst), nil
}

// setWriteOptions gives a manifest to be written the condition and lock
// of a write's options, and nothing of a version it was copied from.
func setWriteOptions(o *meta.Object, opts s3gw.PutOptions) {
	o.VersionID, o.Seq, o.DeleteMarker, o.Latest = "", 0, false, false
	o.LockMode, o.RetainUntil, o.LegalHold = opts.LockMode, opts.RetainUntil, opts.LegalHold
	o.HoldSet = false
	o.Cond = nil
	if c := opts.Cond; c != nil {
		o.Cond = &meta.WriteCond{IfNoneMatch: c.IfNoneMatch, IfMatch: c.IfMatch}
	}
}

// SetObjectLock implements s3gw.VersionedBackend.
func (g *Gateway) SetObjectLock(ctx context.Context, bucket, key, versionID string, c s3gw.LockChange) (string, error) {
	id, err := g.cfg.Meta.SetObjectLock(ctx, bucket, key, versionID, meta.LockChange(c))
	return id, versionErr(err)
}

// CompleteMultipartUpload implements s3gw.Backend.
func (g *Gateway) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []s3gw.CompletePart) (s3gw.ObjectInfo, error) {
	return g.completeMultipart(ctx, bucket, key, uploadID, parts, nil)
}

// CompleteMultipartUploadCond implements s3gw.VersionedBackend.
func (g *Gateway) CompleteMultipartUploadCond(ctx context.Context, bucket, key, uploadID string, parts []s3gw.CompletePart, cond s3gw.WriteCond) (s3gw.ObjectInfo, error) {
	return g.completeMultipart(ctx, bucket, key, uploadID, parts, &meta.WriteCond{IfNoneMatch: cond.IfNoneMatch, IfMatch: cond.IfMatch})
}

// versionInfo adds to info a version's ID, kind and lock.
func versionInfo(info *s3gw.ObjectInfo, o *meta.Object) {
	info.VersionID = o.VersionID
	info.DeleteMarker = o.DeleteMarker
	info.IsLatest = o.Latest
	info.LockMode, info.RetainUntil, info.LegalHold = o.LockMode, o.RetainUntil, o.LegalHold
	info.LegalHoldSet = o.HoldSet
}

// lockChecksum refuses, as S3 does, a PutObject without Content-MD5 or a
// checksum that would take a retention: one of its own, or bucket b's
// default.
func lockChecksum(b *meta.Bucket, opts s3gw.PutOptions) error {
	if opts.Checksummed {
		return nil
	}
	dflt := b.Config != nil && b.Config.ObjectLock != nil && b.Config.ObjectLock.DefaultMode != ""
	if opts.LockMode != "" || opts.LegalHold || dflt {
		return s3gw.ErrLockChecksumRequired
	}
	return nil
}

// putManifest returns the metadata write of a PUT's manifest, for
// idempotent: written again after an outcome it could not learn, it first
// reads the key's current version, and if that is obj (the same write
// time, ETag, CID and size: the first attempt was applied) takes it as
// done, so that a retry makes no second version and does not fail its own
// If-None-Match.
func (g *Gateway) putManifest(ctx context.Context, obj *meta.Object) func() error {
	tries := 0
	return func() error {
		tries++
		if tries > 1 {
			cur, err := g.cfg.Meta.GetObjectVersion(ctx, obj.Bucket, obj.Key, "")
			if err == nil && !cur.DeleteMarker && cur.Modified.Equal(obj.Modified) &&
				cur.ETag == obj.ETag && cur.CID == obj.CID && cur.Size == obj.Size {
				obj.VersionID = cur.VersionID
				return nil
			}
		}
		return g.cfg.Meta.PutObject(ctx, obj)
	}
}
