package gateway

import (
	"context"

	"cairn/internal/meta"
	"cairn/s3gw"
)

var _ s3gw.AccessBackend = (*Gateway)(nil)

// accessConfig copies a bucket's access control into out.
func accessConfig(out *s3gw.BucketConfig, c *meta.BucketConfig) {
	out.Policy, out.ACL = c.Policy, c.ACL
	for _, r := range c.CORS {
		out.CORS = append(out.CORS, s3gw.CORSRule(r))
	}
}

// SetBucketPolicy implements s3gw.AccessBackend.
func (g *Gateway) SetBucketPolicy(ctx context.Context, bucket, doc string) error {
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigPolicy, &meta.BucketConfig{Policy: doc}))
}

// SetBucketACL implements s3gw.AccessBackend.
func (g *Gateway) SetBucketACL(ctx context.Context, bucket, canned string) error {
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigACL, &meta.BucketConfig{ACL: canned}))
}

// SetBucketCORS implements s3gw.AccessBackend.
func (g *Gateway) SetBucketCORS(ctx context.Context, bucket string, rules []s3gw.CORSRule) error {
	cfg := &meta.BucketConfig{}
	for _, r := range rules {
		cfg.CORS = append(cfg.CORS, meta.CORSRule(r))
	}
	return versionErr(g.cfg.Meta.SetBucketConfig(ctx, bucket, meta.ConfigCORS, cfg))
}
