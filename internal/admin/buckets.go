package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"cairn/internal/admin/adminapi"
	"cairn/internal/meta"
	"cairn/s3gw"
)

// Buckets and access keys: thin calls to the metadata store.

func (s *Server) buckets(ctx context.Context) ([]adminapi.Bucket, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	bs, err := s.cfg.Meta.ListBuckets(ctx)
	if err != nil {
		return nil, fail(err, "")
	}
	out := make([]adminapi.Bucket, len(bs))
	for i, b := range bs {
		out[i] = adminapi.Bucket{Name: b.Name, Created: b.Created}
	}
	return out, nil
}

func (s *Server) createBucket(ctx context.Context, name string) (*adminapi.Bucket, error) {
	if !s3gw.ValidBucketName(name) {
		return nil, newError(http.StatusBadRequest, adminapi.CodeInvalidBucketName,
			"bucket name %q is not valid: use 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit", name)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	now := s.cfg.Now().UTC()
	if err := s.cfg.Meta.CreateBucket(ctx, name, now); err != nil {
		return nil, fail(err, fmt.Sprintf("bucket %q", name))
	}
	return &adminapi.Bucket{Name: name, Created: now}, nil
}

func (s *Server) deleteBucket(ctx context.Context, name string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.cfg.Meta.DeleteBucket(ctx, name); err != nil {
		return fail(err, fmt.Sprintf("bucket %q", name))
	}
	return nil
}

func (s *Server) keys(ctx context.Context) ([]adminapi.Key, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	ks, err := s.cfg.Meta.ListKeys(ctx)
	if err != nil {
		return nil, fail(err, "")
	}
	out := make([]adminapi.Key, len(ks))
	for i, k := range ks {
		out[i] = adminapi.Key{ID: k.ID, Created: k.Created, Policy: apiPolicy(k.Policy)}
	}
	return out, nil
}

// createKey stores a new access key: "CAIRN" and 16 upper-case hex digits
// (64 random bits), and a secret of 40 hex digits (160 bits).
func (s *Server) createKey(ctx context.Context, pol *meta.KeyPolicy) (*adminapi.NewKey, error) {
	id := make([]byte, 8)
	secret := make([]byte, 20)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	_, _ = rand.Read(secret)
	k := &meta.Key{
		V:       meta.FormatVersion,
		ID:      "CAIRN" + strings.ToUpper(hex.EncodeToString(id)),
		Secret:  hex.EncodeToString(secret),
		Created: s.cfg.Now().UTC(),
		Policy:  pol,
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.cfg.Meta.PutKey(ctx, k); err != nil {
		return nil, fail(err, fmt.Sprintf("access key %q", k.ID))
	}
	s.log.Info("access key created by an operator", "id", k.ID, "policy", apiPolicy(pol))
	return &adminapi.NewKey{ID: k.ID, Secret: k.Secret, Created: k.Created, Policy: apiPolicy(pol)}, nil
}

// keyPolicyParams reads the policy of a new key from the query: policy
// (read-only or read-write), bucket and prefix; none: nil, a key that may
// do everything.
func keyPolicyParams(r *http.Request) (*meta.KeyPolicy, error) {
	q := r.URL.Query()
	pol := &meta.KeyPolicy{Access: q.Get("policy"), Bucket: q.Get("bucket"), Prefix: q.Get("prefix")}
	switch {
	case *pol == meta.KeyPolicy{}:
		return nil, nil
	case pol.Access != meta.AccessReadOnly && pol.Access != meta.AccessReadWrite:
		return nil, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "bad policy=%q: want %s or %s", pol.Access, meta.AccessReadOnly, meta.AccessReadWrite)
	case pol.Bucket != "" && !s3gw.ValidBucketName(pol.Bucket):
		return nil, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "bad bucket=%q: not a valid bucket name", pol.Bucket)
	case pol.Prefix != "" && pol.Bucket == "":
		return nil, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "a prefix needs a bucket")
	}
	return pol, nil
}

func apiPolicy(p *meta.KeyPolicy) *adminapi.KeyPolicy {
	if p == nil {
		return nil
	}
	return &adminapi.KeyPolicy{Access: p.Access, Bucket: p.Bucket, Prefix: p.Prefix}
}

func (s *Server) deleteKey(ctx context.Context, id string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.cfg.Meta.DeleteKey(ctx, id); err != nil {
		return fail(err, fmt.Sprintf("access key %q", id))
	}
	s.log.Info("access key deleted by an operator", "id", id)
	return nil
}
