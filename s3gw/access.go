package s3gw

import (
	"context"
	"errors"
	"net/http"
)

// AccessBackend is what a Backend also implements to keep buckets' access
// control: policies, canned ACLs and CORS rules. It reads them back
// through VersionedBackend.BucketConfig. A Backend without both answers
// those requests NotImplemented, and every signed request is allowed.
type AccessBackend interface {
	// SetBucketPolicy replaces the bucket's policy document, which the
	// gateway has checked ("" removes it).
	SetBucketPolicy(ctx context.Context, bucket, doc string) error
	// SetBucketACL sets the bucket's canned ACL ("" or "private":
	// private).
	SetBucketACL(ctx context.Context, bucket, canned string) error
	// SetBucketCORS replaces the bucket's CORS rules (nil removes them).
	SetBucketCORS(ctx context.Context, bucket string, rules []CORSRule) error
}

// CORSRule is one rule of a bucket's CORS configuration.
type CORSRule struct {
	ID             string
	AllowedOrigins []string
	AllowedMethods []string
	AllowedHeaders []string
	ExposeHeaders  []string
	MaxAgeSeconds  int
}

// Sentinels of AccessBackend's family.
var (
	ErrNoSuchBucketPolicy = errors.New("s3: no such bucket policy")
	ErrNoSuchCORS         = errors.New("s3: no such CORS configuration")
)

var accessErrors = []struct {
	err error
	api *APIError
}{
	{ErrNoSuchBucketPolicy, &APIError{"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist"}},
	{ErrNoSuchCORS, &APIError{"NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist"}},
}

func (s *Server) access() (VersionedBackend, AccessBackend, error) {
	vb, ok1 := s.backend.(VersionedBackend)
	ab, ok2 := s.backend.(AccessBackend)
	if !ok1 || !ok2 {
		return nil, nil, errNotImplemented.withMessage("Bucket policies, ACLs and CORS are not implemented by this store.")
	}
	return vb, ab, nil
}

// rootActions are the actions a signed request may always take on a
// bucket, whatever its policy says: AWS lets an account's root user
// manage a bucket policy that denies everyone else, and every Cairn key
// stands for that user, so that a policy can always be repaired.
var rootActions = map[string]bool{
	"s3:getbucketpolicy": true, "s3:putbucketpolicy": true, "s3:deletebucketpolicy": true,
}

// authorize decides whether the authenticated (or anonymous) request o
// may run, as AWS does within one account: an explicit Deny in the
// bucket's policy refuses it; else a signed request is allowed (a Cairn
// key has full access, as the account's own users do), and an anonymous
// one needs an Allow for "*" in the policy, or a canned ACL that grants
// it.
//
// Identity policies attached to keys would be evaluated in the same pass:
// evaluate(rc, keyPolicy, bucketPolicy), a key with a policy needing an
// Allow from one of them.
//
// It also sets the CORS headers of a request from a browser (cors.go),
// since it reads the bucket's rules.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, o *op) error {
	if o.spec == opPreflight {
		return nil // answered from the CORS rules alone
	}
	if o.bucket == "" || o.spec == opCreateBucket || o.spec == opCreateBucketLocked {
		// No bucket policy applies to ListBuckets, nor to a bucket
		// being created.
		if o.auth.accessKey == "" {
			return errAccessDenied
		}
		return nil
	}
	cfg, err := s.bucketAccess(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	if cfg != nil {
		corsHeaders(w, r, cfg.CORS)
	}
	if o.spec == opPostObject {
		return nil // postObject decides once the form says who signed it, for which key
	}
	return s.decide(r, o, cfg)
}

// bucketAccess returns a bucket's configuration, nil if the backend keeps
// none or the bucket does not exist.
func (s *Server) bucketAccess(ctx context.Context, bucket string) (*BucketConfig, error) {
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		return nil, nil
	}
	cfg, err := vb.BucketConfig(ctx, bucket)
	switch {
	case errors.Is(err, ErrNoSuchBucket):
		return nil, nil // a signed request's handler answers NoSuchBucket
	case err != nil:
		return nil, err
	}
	return &cfg, nil
}

// decide evaluates o's authorization against its bucket's configuration
// (nil: none).
func (s *Server) decide(r *http.Request, o *op, cfg *BucketConfig) error {
	principal := o.auth.accessKey
	if cfg == nil {
		if principal == "" {
			return errAccessDenied
		}
		return nil
	}
	var bucketPolicy *Policy
	if cfg.Policy != "" {
		var err error
		if bucketPolicy, err = parsePolicy([]byte(cfg.Policy), o.bucket); err != nil {
			// It was checked when it was put; a parser that changed
			// since must not open the bucket.
			s.log.Error("stored bucket policy does not parse", "bucket", o.bucket, "err", err)
			return errAccessDenied
		}
	}
	rc := newReqContext(r, principal, iamAction(o), resourceARN(o), s.cfg.Now())
	opConditionKeys(rc, o)
	switch evaluate(rc, bucketPolicy) {
	case decisionDeny:
		if principal != "" && rootActions[rc.action] {
			return nil
		}
		return errAccessDenied
	case decisionAllow:
		return nil
	}
	if principal != "" {
		return nil
	}
	if aclAllowsAnonymous(cfg.ACL, rc.action, false) || bucketACLAllowsWrite(cfg.ACL, rc.action) ||
		s.objectACLAllows(r.Context(), o, rc.action) {
		return nil
	}
	return errAccessDenied
}
