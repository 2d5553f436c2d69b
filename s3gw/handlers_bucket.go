package s3gw

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxListKeys is S3's largest page of a listing.
const maxListKeys = 1000

// maxBuckets is the largest page of ListBuckets that max-buckets may ask.
const maxBuckets = 10000

// listBuckets answers ListBuckets: the buckets whose names start with
// prefix, in name order, after the one a continuation-token names, at most
// max-buckets of them (all of them when it is absent). When more remain,
// the answer's ContinuationToken is where the next page starts.
func (s *Server) listBuckets(w http.ResponseWriter, r *http.Request, o *op) error {
	q := o.query
	limit := maxBuckets
	if q.Has("max-buckets") {
		n, err := strconv.Atoi(q.Get("max-buckets"))
		if err != nil || n < 1 || n > maxBuckets {
			return errInvalidArgument.withMessage("Argument max-buckets must be an integer between 1 and 10000.")
		}
		limit = n
	}
	var after string
	if token := q.Get("continuation-token"); token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return errInvalidArgument.withMessage("The continuation token provided is incorrect")
		}
		after = string(b)
	}
	buckets, err := s.backend.ListBuckets(r.Context())
	if err != nil {
		return err
	}
	slices.SortFunc(buckets, func(a, b BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	prefix := q.Get("prefix")
	var out listAllMyBucketsResult
	out.Owner = ownerOf(o)
	out.Prefix = prefix
	out.Buckets.Bucket = make([]bucketXML, 0, min(len(buckets), limit))
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= after {
			continue
		}
		if len(out.Buckets.Bucket) == limit {
			out.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(out.Buckets.Bucket[limit-1].Name))
			break
		}
		out.Buckets.Bucket = append(out.Buckets.Bucket, bucketXML{Name: b.Name, CreationDate: isoTime(b.Created)})
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
	var cfg createBucketConfiguration
	if _, err := readXML(p, &cfg, true); err != nil {
		return err
	}
	if err := s.checkLocation(cfg.LocationConstraint); err != nil {
		return err
	}
	acl, err := s.createACL(r)
	if err != nil {
		return err
	}
	err = s.backend.CreateBucket(r.Context(), o.bucket)
	// In us-east-1, S3 answers 200 to creating a bucket you own already;
	// every other region answers 409 BucketAlreadyOwnedByYou.
	if errors.Is(err, ErrBucketAlreadyOwnedByYou) && s.cfg.Region == "us-east-1" {
		err = nil
	}
	if err != nil {
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

// legacyLocations are the location constraints S3 accepts for a region
// besides the region's own name: "US" (which s3cmd sends) for us-east-1,
// "EU" for eu-west-1.
var legacyLocations = map[string]string{"US": "us-east-1", "EU": "eu-west-1"}

// checkLocation accepts a CreateBucket location constraint that names the
// gateway's region (a Cairn cluster is one region), none, or a legacy
// name for it; any other is S3's IllegalLocationConstraintException, as
// a regional endpoint answers a constraint for another region.
func (s *Server) checkLocation(c string) error {
	if c == "" || c == s.cfg.Region || legacyLocations[c] == s.cfg.Region {
		return nil
	}
	return errIllegalLocationConstraint.withMessage("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", c)
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
	// An empty token is no token, as on S3: clients that always send the
	// parameter start from the beginning (or start-after).
	if token != "" {
		m, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
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
