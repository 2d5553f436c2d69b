package s3gw

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// maxListKeys is S3's largest page of a listing.
const maxListKeys = 1000

func (s *Server) listBuckets(w http.ResponseWriter, r *http.Request, o *op) error {
	buckets, err := s.backend.ListBuckets(r.Context())
	if err != nil {
		return err
	}
	prefix := o.query.Get("prefix")
	var out listAllMyBucketsResult
	out.Owner = ownerOf(o)
	out.Buckets.Bucket = make([]bucketXML, 0, len(buckets))
	for _, b := range buckets {
		if strings.HasPrefix(b.Name, prefix) {
			out.Buckets.Bucket = append(out.Buckets.Bucket, bucketXML{Name: b.Name, CreationDate: isoTime(b.Created)})
		}
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) createBucket(w http.ResponseWriter, r *http.Request, o *op) error {
	if !ValidBucketName(o.bucket) {
		return errInvalidBucketName
	}
	if strings.EqualFold(r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		return errNotImplemented.withMessage("Object lock is not implemented.")
	}
	p, err := openPayload(r, o.auth, false)
	if err != nil {
		return err
	}
	// The location constraint is accepted and ignored: a Cairn cluster is
	// one region.
	var cfg createBucketConfiguration
	if _, err := readXML(p, &cfg, true); err != nil {
		return err
	}
	acl, err := s.createACL(r)
	if err != nil {
		return err
	}
	if err := s.backend.CreateBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	if err := s.setCreatedACL(r.Context(), o.bucket, acl); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+o.bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) headBucket(w http.ResponseWriter, r *http.Request, o *op) error {
	if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", s.cfg.Region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(w http.ResponseWriter, r *http.Request, o *op) error {
	if err := s.backend.DeleteBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getBucketLocation(w http.ResponseWriter, r *http.Request, o *op) error {
	if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	out := locationConstraint{}
	if s.cfg.Region != "us-east-1" { // S3 names us-east-1 by an empty constraint
		out.Region = s.cfg.Region
	}
	return writeXML(w, http.StatusOK, out)
}

// getBucketVersioning answers that versioning was never enabled, which is
// true: Cairn keeps one version per key.
func (s *Server) getBucketVersioning(w http.ResponseWriter, r *http.Request, o *op) error {
	if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, versioningConfiguration{})
}

// listing holds what ListObjects and ListObjectsV2 have in common.
type listing struct {
	prefix, delimiter string
	maxKeys           int
	encode            func(string) string
	encodingType      string
}

func parseListing(o *op) (listing, error) {
	q := o.query
	l := listing{prefix: q.Get("prefix"), delimiter: q.Get("delimiter")}
	var err error
	if l.maxKeys, err = intParam(q.Get("max-keys"), maxListKeys, "max-keys"); err != nil {
		return l, err
	}
	l.maxKeys = min(l.maxKeys, maxListKeys)
	l.encode, l.encodingType, err = encodingType(q.Get("encoding-type"))
	return l, err
}

// encodingType returns the function that encodes keys in a listing:
// encoding-type=url percent-encodes everything but unreserved characters
// and '/', which both url.QueryUnescape (minio-go) and unquote_plus
// (botocore) decode.
func encodingType(v string) (func(string) string, string, error) {
	switch strings.ToLower(v) {
	case "":
		return func(s string) string { return s }, "", nil
	case "url":
		return func(s string) string { return uriEncode(s, false) }, "url", nil
	}
	return nil, "", errInvalidArgument.withMessage("Invalid Encoding Method specified in Request")
}

// list runs one page of a listing. With max-keys=0 it only checks that the
// bucket exists, since a Backend may read 0 as "its default".
func (s *Server) list(r *http.Request, o *op, l listing, marker string) (ListResult, error) {
	if l.maxKeys == 0 {
		_, err := s.backend.HeadBucket(r.Context(), o.bucket)
		return ListResult{}, err
	}
	return s.backend.ListObjects(r.Context(), o.bucket, ListQuery{
		Prefix: l.prefix, Delimiter: l.delimiter, Marker: marker, MaxKeys: l.maxKeys,
	})
}

func listContents(res ListResult, l listing, own *owner) ([]objectXML, []commonPrefix) {
	objs := make([]objectXML, 0, len(res.Objects))
	for _, obj := range res.Objects {
		objs = append(objs, objectXML{
			Key:          l.encode(obj.Key),
			LastModified: isoTime(obj.LastModified),
			ETag:         quoteETag(obj.ETag),
			Size:         obj.Size,
			Owner:        own,
			StorageClass: "STANDARD",
		})
	}
	prefixes := make([]commonPrefix, 0, len(res.CommonPrefixes))
	for _, p := range res.CommonPrefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: l.encode(p)})
	}
	return objs, prefixes
}

// nextMarker is where the next page starts: the Backend's NextMarker, or
// else the greater of the last key and the last common prefix.
func nextMarker(res ListResult) string {
	if res.NextMarker != "" {
		return res.NextMarker
	}
	var m string
	if n := len(res.Objects); n > 0 {
		m = res.Objects[n-1].Key
	}
	if n := len(res.CommonPrefixes); n > 0 && res.CommonPrefixes[n-1] > m {
		m = res.CommonPrefixes[n-1]
	}
	return m
}

func (s *Server) listObjectsV1(w http.ResponseWriter, r *http.Request, o *op) error {
	l, err := parseListing(o)
	if err != nil {
		return err
	}
	marker := o.query.Get("marker")
	res, err := s.list(r, o, l, marker)
	if err != nil {
		return err
	}
	own := ownerOf(o)
	out := listObjectsV1Result{
		Name:         o.bucket,
		Prefix:       l.encode(l.prefix),
		Marker:       l.encode(marker),
		MaxKeys:      l.maxKeys,
		Delimiter:    l.encode(l.delimiter),
		EncodingType: l.encodingType,
		IsTruncated:  res.IsTruncated,
	}
	out.Contents, out.CommonPrefixes = listContents(res, l, &own)
	// S3 sends NextMarker only when a delimiter is set; without one,
	// clients continue from the last key.
	if res.IsTruncated && l.delimiter != "" {
		out.NextMarker = l.encode(nextMarker(res))
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) listObjectsV2(w http.ResponseWriter, r *http.Request, o *op) error {
	l, err := parseListing(o)
	if err != nil {
		return err
	}
	q := o.query
	token, startAfter := q.Get("continuation-token"), q.Get("start-after")
	marker := startAfter
	if q.Has("continuation-token") {
		m, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return errInvalidArgument.withMessage("The continuation token provided is incorrect")
		}
		marker = string(m)
	}
	res, err := s.list(r, o, l, marker)
	if err != nil {
		return err
	}
	var own *owner
	if q.Get("fetch-owner") == "true" {
		ow := ownerOf(o)
		own = &ow
	}
	out := listObjectsV2Result{
		Name:              o.bucket,
		Prefix:            l.encode(l.prefix),
		StartAfter:        l.encode(startAfter),
		ContinuationToken: token,
		MaxKeys:           l.maxKeys,
		Delimiter:         l.encode(l.delimiter),
		EncodingType:      l.encodingType,
		IsTruncated:       res.IsTruncated,
	}
	out.Contents, out.CommonPrefixes = listContents(res, l, own)
	out.KeyCount = len(out.Contents) + len(out.CommonPrefixes)
	if res.IsTruncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(nextMarker(res)))
	}
	return writeXML(w, http.StatusOK, out)
}
