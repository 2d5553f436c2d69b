package metarpc

import (
	"context"
	"time"

	"cairn/internal/meta"
)

// The calls of versioning, object lock and bucket configuration (meta's
// versions.go and bucketconfig.go). A server without them answers
// UnknownMethod, so a gateway never silently loses a lock or a version
// against an older metadata node.
var (
	mGetBucketConfig        = method{"GetBucketConfig", false}
	mSetBucketConfig        = method{"SetBucketConfig", true}
	mCreateBucketConfigured = method{"CreateBucketConfigured", true}
	mGetObjectVersion       = method{"GetObjectVersion", false}
	mDeleteVersions         = method{"DeleteVersions", true}
	mListObjectVersions     = method{"ListObjectVersions", false}
	mSetObjectLock          = method{"SetObjectLock", true}
	mSetVersionTags         = method{"SetVersionTags", true}
)

// Requests and results.
type (
	bucketConfigReq struct {
		Bucket string                `json:"bucket"`
		Part   meta.BucketConfigPart `json:"part,omitempty"`
		Config *meta.BucketConfig    `json:"config,omitempty"`
		Now    time.Time             `json:"now,omitzero"`
	}
	bucketConfigResult struct {
		Config *meta.BucketConfig `json:"config"`
	}
	objectVersionReq struct {
		Bucket    string `json:"bucket"`
		Key       string `json:"key"`
		VersionID string `json:"vid"`
	}
	deleteVersionsReq struct {
		Bucket  string              `json:"bucket"`
		Targets []meta.DeleteTarget `json:"targets"`
		Bypass  bool                `json:"bypass,omitempty"`
	}
	deleteOutcome struct {
		VersionID    string `json:"vid,omitempty"`
		DeleteMarker bool   `json:"dm,omitempty"`
		Code         string `json:"code,omitempty"`
		Message      string `json:"message,omitempty"`
	}
	deleteVersionsResult struct {
		Outcomes []deleteOutcome `json:"outcomes"`
	}
	versionQuery struct {
		Prefix          string `json:"prefix"`
		Delimiter       string `json:"delimiter"`
		KeyMarker       string `json:"key_marker"`
		VersionIDMarker string `json:"version_id_marker"`
		Max             int    `json:"max"`
	}
	listVersionsReq struct {
		Bucket string       `json:"bucket"`
		Query  versionQuery `json:"query"`
	}
	listVersionsResult struct {
		Versions            []*meta.Object `json:"versions"`
		CommonPrefixes      []string       `json:"common_prefixes"`
		Truncated           bool           `json:"truncated"`
		NextKeyMarker       string         `json:"next_key_marker"`
		NextVersionIDMarker string         `json:"next_version_id_marker"`
	}
	setObjectLockReq struct {
		Bucket    string          `json:"bucket"`
		Key       string          `json:"key"`
		VersionID string          `json:"vid"`
		Change    meta.LockChange `json:"change"`
	}
	setVersionTagsReq struct {
		Bucket    string            `json:"bucket"`
		Key       string            `json:"key"`
		VersionID string            `json:"vid"`
		Tags      map[string]string `json:"tags"`
	}
	// versionResult answers a write that makes or names a version:
	// PutObject, CompleteUpload, SetObjectLock, SetVersionTags. A server from before
	// versioning answers {}: the null version.
	versionResult struct {
		VersionID string `json:"vid,omitempty"`
	}
)

func versionHandlers(hs map[string]handler) {
	hs[mGetBucketConfig.name] = decode(func(ctx context.Context, api API, r *bucketConfigReq) (any, error) {
		c, err := api.GetBucketConfig(ctx, r.Bucket)
		return &bucketConfigResult{c}, err
	})
	hs[mSetBucketConfig.name] = write(func(ctx context.Context, api API, r *bucketConfigReq) error {
		return api.SetBucketConfig(ctx, r.Bucket, r.Part, r.Config)
	})
	hs[mCreateBucketConfigured.name] = write(func(ctx context.Context, api API, r *bucketConfigReq) error {
		return api.CreateBucketConfigured(ctx, r.Bucket, r.Now, r.Config)
	})
	hs[mGetObjectVersion.name] = decode(func(ctx context.Context, api API, r *objectVersionReq) (any, error) {
		o, err := api.GetObjectVersion(ctx, r.Bucket, r.Key, r.VersionID)
		return &objectResult{o}, err
	})
	hs[mDeleteVersions.name] = decode(func(ctx context.Context, api API, r *deleteVersionsReq) (any, error) {
		outs, err := api.DeleteVersions(ctx, r.Bucket, r.Targets, r.Bypass)
		if err != nil {
			return nil, err
		}
		res := &deleteVersionsResult{Outcomes: make([]deleteOutcome, len(outs))}
		for i, o := range outs {
			res.Outcomes[i] = deleteOutcome{VersionID: o.VersionID, DeleteMarker: o.DeleteMarker}
			if o.Err != nil {
				res.Outcomes[i].Code, _ = codeOf(o.Err)
				res.Outcomes[i].Message = o.Err.Error()
			}
		}
		return res, nil
	})
	hs[mListObjectVersions.name] = decode(func(ctx context.Context, api API, r *listVersionsReq) (any, error) {
		l, err := api.ListObjectVersions(ctx, r.Bucket, meta.VersionQuery(r.Query))
		if err != nil {
			return nil, err
		}
		return &listVersionsResult{l.Versions, l.CommonPrefixes, l.Truncated, l.NextKeyMarker, l.NextVersionIDMarker}, nil
	})
	hs[mSetObjectLock.name] = decode(func(ctx context.Context, api API, r *setObjectLockReq) (any, error) {
		id, err := api.SetObjectLock(ctx, r.Bucket, r.Key, r.VersionID, r.Change)
		return &versionResult{id}, err
	})
	hs[mSetVersionTags.name] = decode(func(ctx context.Context, api API, r *setVersionTagsReq) (any, error) {
		id, err := api.SetVersionTags(ctx, r.Bucket, r.Key, r.VersionID, r.Tags)
		return &versionResult{id}, err
	})
}

// GetBucketConfig implements API.
func (c *Client) GetBucketConfig(ctx context.Context, bucket string) (*meta.BucketConfig, error) {
	var res bucketConfigResult
	if err := c.call(ctx, mGetBucketConfig, &bucketConfigReq{Bucket: bucket}, &res); err != nil {
		return nil, err
	}
	return res.Config, nil
}

// SetBucketConfig implements API.
func (c *Client) SetBucketConfig(ctx context.Context, bucket string, part meta.BucketConfigPart, cfg *meta.BucketConfig) error {
	return c.call(ctx, mSetBucketConfig, &bucketConfigReq{Bucket: bucket, Part: part, Config: cfg}, &noResult{})
}

// CreateBucketConfigured implements API; not idempotent, as CreateBucket.
func (c *Client) CreateBucketConfigured(ctx context.Context, name string, now time.Time, cfg *meta.BucketConfig) error {
	return c.call(ctx, mCreateBucketConfigured, &bucketConfigReq{Bucket: name, Config: cfg, Now: now}, &noResult{})
}

// GetObjectVersion implements API.
func (c *Client) GetObjectVersion(ctx context.Context, bucket, key, id string) (*meta.Object, error) {
	var res objectResult
	if err := c.call(ctx, mGetObjectVersion, &objectVersionReq{bucket, key, id}, &res); err != nil {
		return nil, err
	}
	return res.Object, nil
}

// DeleteVersions implements API.
func (c *Client) DeleteVersions(ctx context.Context, bucket string, targets []meta.DeleteTarget, bypass bool) ([]meta.DeleteOutcome, error) {
	var res deleteVersionsResult
	if err := c.call(ctx, mDeleteVersions, &deleteVersionsReq{bucket, targets, bypass}, &res); err != nil {
		return nil, err
	}
	out := make([]meta.DeleteOutcome, len(res.Outcomes))
	for i, o := range res.Outcomes {
		out[i] = meta.DeleteOutcome{VersionID: o.VersionID, DeleteMarker: o.DeleteMarker}
		if o.Code != "" {
			out[i].Err = fromWire(mDeleteVersions, 0, &wireError{Code: o.Code, Message: o.Message})
		}
	}
	return out, nil
}

// ListObjectVersions implements API.
func (c *Client) ListObjectVersions(ctx context.Context, bucket string, q meta.VersionQuery) (*meta.VersionList, error) {
	var res listVersionsResult
	if err := c.call(ctx, mListObjectVersions, &listVersionsReq{bucket, versionQuery(q)}, &res); err != nil {
		return nil, err
	}
	return &meta.VersionList{Versions: res.Versions, CommonPrefixes: res.CommonPrefixes, Truncated: res.Truncated,
		NextKeyMarker: res.NextKeyMarker, NextVersionIDMarker: res.NextVersionIDMarker}, nil
}

// SetObjectLock implements API.
func (c *Client) SetObjectLock(ctx context.Context, bucket, key, id string, ch meta.LockChange) (string, error) {
	var res versionResult
	if err := c.call(ctx, mSetObjectLock, &setObjectLockReq{bucket, key, id, ch}, &res); err != nil {
		return "", err
	}
	return res.VersionID, nil
}

// SetVersionTags implements API. Idempotent: the same tags replace
// themselves.
func (c *Client) SetVersionTags(ctx context.Context, bucket, key, id string, tags map[string]string) (string, error) {
	var res versionResult
	if err := c.call(ctx, mSetVersionTags, &setVersionTagsReq{bucket, key, id, tags}, &res); err != nil {
		return "", err
	}
	return res.VersionID, nil
}
