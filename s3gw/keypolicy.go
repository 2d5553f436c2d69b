package s3gw

import (
	"context"
	"net/http"
	"strings"
)

// KeyPolicy limits what an access key may do. Every request is checked
// against its signer's policy once it is authenticated; anything outside
// it is 403 AccessDenied.
type KeyPolicy struct {
	// ReadOnly allows GET and HEAD requests only: reads, listings and the
	// bucket's settings, never a write.
	ReadOnly bool
	// Bucket is the only bucket the key may use ("": every bucket). A key
	// limited to a bucket may not list the buckets.
	Bucket string
	// Prefix, with Bucket, is the start of every object key the key may
	// use: a listing must ask for a prefix that starts with it, and the
	// bucket itself may not be created, deleted or configured.
	Prefix string
}

// PolicyCredentials is Credentials that also know what each key may do.
type PolicyCredentials interface {
	Credentials
	// KeyPolicy returns the secret of an access key and its policy (nil:
	// the key may do everything): ErrInvalidAccessKeyID for an unknown
	// key.
	KeyPolicy(ctx context.Context, accessKey string) (string, *KeyPolicy, error)
}

// lookupKey returns an access key's secret and policy.
func (s *Server) lookupKey(ctx context.Context, accessKey string) (string, *KeyPolicy, error) {
	if pc, ok := s.cfg.Credentials.(PolicyCredentials); ok {
		return pc.KeyPolicy(ctx, accessKey)
	}
	secret, err := s.cfg.Credentials.SecretKey(ctx, accessKey)
	return secret, nil, err
}

// authorize checks an authenticated request against its key's policy.
// Writes are told from reads by method (GET and HEAD read), so that an
// operation added later is a write for a read-only key until shown
// otherwise. A copy's source must be readable too.
func authorize(r *http.Request, o *op, p *KeyPolicy) error {
	if p == nil {
		return nil
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	switch {
	case write && p.ReadOnly:
		return errAccessDenied
	case o.bucket == "":
		if p.Bucket != "" {
			return errAccessDenied // ListBuckets
		}
		return nil
	case p.Bucket != "" && o.bucket != p.Bucket:
		return errAccessDenied
	}
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
		b, k, _, err := parseCopySource(src)
		if err != nil {
			return err
		}
		if (p.Bucket != "" && b != p.Bucket) || !strings.HasPrefix(k, p.Prefix) {
			return errAccessDenied
		}
	}
	if p.Prefix == "" {
		return nil
	}
	if o.key != "" {
		if !strings.HasPrefix(o.key, p.Prefix) {
			return errAccessDenied
		}
		return nil
	}
	// A bucket-level request under a prefix: listings within it, the
	// bucket's own read-only answers, and DeleteObjects, whose keys
	// deleteObjects checks one by one.
	switch o.spec {
	case opListObjects, opListObjectsV2, opListMultipartUploads:
		if !strings.HasPrefix(o.query.Get("prefix"), p.Prefix) {
			return errAccessDenied
		}
		return nil
	case opDeleteObjects:
		return nil
	}
	if write {
		return errAccessDenied
	}
	return nil
}

// Permits reports whether the policy lets its key make a request outside
// S3 (the web console's) of the given kind: a write or a read of object
// key in bucket; key "" for the bucket itself (a listing passes its
// prefix as key), bucket "" for the list of buckets. A nil policy
// permits everything. The same rules as S3 requests: a read-only key
// never writes, a bucket key reaches no other bucket and not the bucket
// list, a prefix key only object keys (and listings) under its prefix.
func (p *KeyPolicy) Permits(write bool, bucket, key string) bool {
	switch {
	case p == nil:
		return true
	case write && p.ReadOnly:
		return false
	case bucket == "":
		return p.Bucket == ""
	case p.Bucket != "" && bucket != p.Bucket:
		return false
	}
	return strings.HasPrefix(key, p.Prefix)
}

// keyAllowed reports whether a key's policy lets it use object key k of
// the request's bucket (authorize has checked the bucket).
func keyAllowed(p *KeyPolicy, k string) bool {
	return p == nil || strings.HasPrefix(k, p.Prefix)
}
