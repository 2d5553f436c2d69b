package s3gw

import (
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
)

// The operations of access control: bucket policies, ACLs and CORS.
var (
	opGetBucketPolicy       = &opSpec{"GetBucketPolicy", (*Server).getBucketPolicy}
	opPutBucketPolicy       = &opSpec{"PutBucketPolicy", (*Server).putBucketPolicy}
	opDeleteBucketPolicy    = &opSpec{"DeleteBucketPolicy", (*Server).deleteBucketPolicy}
	opGetBucketPolicyStatus = &opSpec{"GetBucketPolicyStatus", (*Server).getBucketPolicyStatus}
)

// accessOps are the sub-resources of this family, by method, on buckets
// and on objects.
var accessOps = struct{ bucket, object map[string]map[string]*opSpec }{
	bucket: map[string]map[string]*opSpec{
		"policy":       {http.MethodGet: opGetBucketPolicy, http.MethodPut: opPutBucketPolicy, http.MethodDelete: opDeleteBucketPolicy},
		"policyStatus": {http.MethodGet: opGetBucketPolicyStatus},
		"acl":          {http.MethodGet: opGetBucketACL, http.MethodPut: opPutBucketACL},
		"cors":         {http.MethodGet: opGetBucketCors, http.MethodPut: opPutBucketCors, http.MethodDelete: opDeleteBucketCors},
	},
	object: map[string]map[string]*opSpec{
		"acl": {http.MethodGet: opGetObjectACL, http.MethodPut: opPutObjectACL},
	},
}

// accessOp recognises the requests of this family before parseOp refuses
// their sub-resources, as versionOp does for its own.
func accessOp(o *op, r *http.Request) (bool, error) {
	if o.bucket == "" {
		return false, nil
	}
	if r.Method == http.MethodOptions {
		o.spec = opPreflight
		return true, checkKey(o.key)
	}
	if isPostUpload(o, r) {
		o.spec = opPostObject
		return true, nil
	}
	table := accessOps.bucket
	if o.key != "" {
		table = accessOps.object
	}
	for sub, byMethod := range table {
		if !o.query.Has(sub) {
			continue
		}
		if o.key != "" {
			if err := checkKey(o.key); err != nil {
				return true, err
			}
		}
		s, ok := byMethod[r.Method]
		if !ok {
			return true, errMethodNotAllowed
		}
		o.spec = s
		return true, nil
	}
	return false, nil
}

func (s *Server) getBucketPolicy(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, _, err := s.access()
	if err != nil {
		return err
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	if cfg.Policy == "" {
		return ErrNoSuchBucketPolicy
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(cfg.Policy)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, cfg.Policy)
	return nil
}

func (s *Server) putBucketPolicy(w http.ResponseWriter, r *http.Request, o *op) error {
	_, ab, err := s.access()
	if err != nil {
		return err
	}
	wantMD5, err := contentMD5(r.Header)
	if err != nil {
		return err
	}
	p, err := openPayload(r, o.auth, true)
	if err != nil {
		return err
	}
	doc, err := io.ReadAll(io.LimitReader(p, maxPolicyLen+1))
	if err != nil {
		return p.cause(err)
	}
	if wantMD5 != nil && !md5Equal(doc, wantMD5) {
		return errBadDigest
	}
	if _, err := parsePolicy(doc, o.bucket); err != nil {
		return err
	}
	if err := ab.SetBucketPolicy(r.Context(), o.bucket, string(doc)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteBucketPolicy(w http.ResponseWriter, r *http.Request, o *op) error {
	_, ab, err := s.access()
	if err != nil {
		return err
	}
	if err := ab.SetBucketPolicy(r.Context(), o.bucket, ""); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getBucketPolicyStatus answers whether the bucket's policy makes it
// public: some Allow statement applies to everyone, anonymous requests
// included, under no condition (AWS also counts conditions that do not
// narrow the audience as public; Cairn counts any condition as narrowing).
func (s *Server) getBucketPolicyStatus(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, _, err := s.access()
	if err != nil {
		return err
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	if cfg.Policy == "" {
		return ErrNoSuchBucketPolicy
	}
	p, err := parsePolicy([]byte(cfg.Policy), o.bucket)
	if err != nil {
		return err
	}
	out := struct {
		XMLName  xml.Name
		IsPublic bool `xml:"IsPublic"`
	}{XMLName: s3Name("PolicyStatus"), IsPublic: p.public()}
	return writeXML(w, http.StatusOK, out)
}

// public reports whether an Allow statement of p applies to every
// principal under no condition.
func (p *Policy) public() bool {
	for _, st := range p.Statements {
		if !st.Deny && st.Principal != nil && st.Principal.all && len(st.Conditions) == 0 {
			return true
		}
	}
	return false
}
