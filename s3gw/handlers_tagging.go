package s3gw

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/xml"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ObjectTagger is the part of a Backend that keeps object tags: PUT, GET
// and DELETE ?tagging on an object. A Backend without it answers those
// NotImplemented. (Tags given at PUT, CreateMultipartUpload and copy come
// in PutOptions and CopyOptions, and go out in ObjectInfo.)
type ObjectTagger interface {
	// SetObjectTags replaces the tags of the current object at
	// bucket/key, leaving it otherwise as it is; nil removes them.
	// Errors: ErrNoSuchBucket, ErrNoSuchKey.
	SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error
}

// VersionTagger is an ObjectTagger that tags versions: a Backend with it
// serves ?tagging with versionId, and answers x-amz-version-id.
type VersionTagger interface {
	// SetVersionTags replaces the tags of one version of bucket/key ("":
	// the current one; nil removes them) and answers its version ID as
	// S3 names it ("" for the null version of a bucket whose versioning
	// was never enabled). Errors: ErrNoSuchBucket, ErrNoSuchKey (no
	// current object), ErrNoSuchVersion, ErrInvalidVersionID,
	// ErrVersionIsDeleteMarker (the ID names a delete marker).
	SetVersionTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (string, error)
}

// ErrVersionIsDeleteMarker: a request that needs an object named a
// delete marker by its version ID (405 MethodNotAllowed).
var ErrVersionIsDeleteMarker = errors.New("s3: the version is a delete marker")

// S3's limits on object tags.
const (
	maxObjectTags  = 10
	maxTagKeyLen   = 128 // Unicode characters
	maxTagValueLen = 256
)

var errInvalidTag = &APIError{"InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag."}

// checkTag enforces S3's rules for one tag: a key of 1 to 128 and a value
// of up to 256 Unicode characters, letters, digits, spaces and + - = . _ :
// / @ only, and no key in the aws: namespace.
func checkTag(k, v string) error {
	switch {
	case k == "" || !utf8.ValidString(k) || !tagChars(k):
		return errInvalidTag.withMessage("The TagKey you have provided is invalid")
	case utf8.RuneCountInString(k) > maxTagKeyLen:
		return errInvalidTag.withMessage("The TagKey you have provided is too long, max %d", maxTagKeyLen)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return errInvalidTag.withMessage("Your TagKey cannot be prefixed with aws:")
	case !utf8.ValidString(v) || !tagChars(v):
		return errInvalidTag.withMessage("The TagValue you have provided is invalid")
	case utf8.RuneCountInString(v) > maxTagValueLen:
		return errInvalidTag.withMessage("The TagValue you have provided is too long, max %d", maxTagValueLen)
	}
	return nil
}

func tagChars(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && !strings.ContainsRune("+-=._:/@", r) {
			return false
		}
	}
	return true
}

// parseTaggingHeader reads x-amz-tagging: URL query encoded key=value
// pairs. Absent or empty: nil.
func parseTaggingHeader(h http.Header) (map[string]string, error) {
	v := h.Get("X-Amz-Tagging")
	if v == "" {
		return nil, nil
	}
	bad := errInvalidArgument.withMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, bad
	}
	tags := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, bad
		}
		tags[k] = vs[0]
	}
	return tags, checkTags(tags)
}

func checkTags(tags map[string]string) error {
	if len(tags) > maxObjectTags {
		return errInvalidTag.withMessage("Object tags cannot be greater than %d", maxObjectTags)
	}
	for k, v := range tags {
		if err := checkTag(k, v); err != nil {
			return err
		}
	}
	return nil
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *struct {
		Tags []tagXML `xml:"Tag"`
	} `xml:"TagSet"`
}

type tagXML struct {
	Key   *string `xml:"Key"`
	Value *string `xml:"Value"`
}

type taggingResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  struct {
		Tags []tagResultXML `xml:"Tag"`
	} `xml:"TagSet"`
}

type tagResultXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func (s *Server) tagger() (ObjectTagger, error) {
	t, ok := s.backend.(ObjectTagger)
	if !ok {
		return nil, errNotImplemented.withMessage("Object tagging is not implemented by this store.")
	}
	return t, nil
}

// setTags replaces the tags of the object, or of the version that
// versionId names, and answers x-amz-version-id: through the backend's
// VersionTagger if it has one, else its ObjectTagger (the null version
// only).
func (s *Server) setTags(w http.ResponseWriter, r *http.Request, o *op, tags map[string]string) error {
	vt, ok := s.backend.(VersionTagger)
	if !ok {
		if err := checkVersionID(o.query); err != nil {
			return err
		}
		t, err := s.tagger()
		if err != nil {
			return err
		}
		return t.SetObjectTags(r.Context(), o.bucket, o.key, tags)
	}
	id, err := versionIDParam(o)
	if err != nil {
		return err
	}
	vid, err := vt.SetVersionTags(r.Context(), o.bucket, o.key, id, tags)
	if errors.Is(err, ErrVersionIsDeleteMarker) {
		return &headerError{errMethodNotAllowed, map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": id}}
	}
	if err != nil {
		return err
	}
	if vid != "" {
		w.Header().Set("x-amz-version-id", vid)
	}
	return nil
}

// checkTagger refuses, before the request's body is read, a tagging
// request that the backend cannot serve.
func (s *Server) checkTagger(o *op) error {
	if _, ok := s.backend.(VersionTagger); ok {
		_, err := versionIDParam(o)
		return err
	}
	if err := checkVersionID(o.query); err != nil {
		return err
	}
	_, err := s.tagger()
	return err
}

// putObjectTagging replaces an object's tags with the request's TagSet.
func (s *Server) putObjectTagging(w http.ResponseWriter, r *http.Request, o *op) error {
	if err := s.checkTagger(o); err != nil {
		return err
	}
	wantMD5, err := contentMD5(r.Header)
	if err != nil {
		return err
	}
	p, err := openPayload(r, o.auth, false)
	if err != nil {
		return err
	}
	var req taggingXML
	data, err := readXML(p, &req, false)
	if err != nil {
		return err
	}
	if sum := md5.Sum(data); wantMD5 != nil && !bytes.Equal(sum[:], wantMD5) {
		return errBadDigest
	}
	if req.TagSet == nil {
		return errMalformedXML
	}
	tags := make(map[string]string, len(req.TagSet.Tags))
	for _, tg := range req.TagSet.Tags {
		if tg.Key == nil || tg.Value == nil {
			return errMalformedXML
		}
		if _, dup := tags[*tg.Key]; dup {
			return errInvalidTag.withMessage("Cannot provide multiple Tags with the same key")
		}
		tags[*tg.Key] = *tg.Value
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	if len(tags) == 0 {
		tags = nil
	}
	if err := s.setTags(w, r, o, tags); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getObjectTagging answers the tags of an object, or of the version
// versionId names, sorted by key.
func (s *Server) getObjectTagging(w http.ResponseWriter, r *http.Request, o *op) error {
	obj, err := s.getVersion(r, o)
	if err != nil {
		return err
	}
	info := obj.Info()
	if info.VersionID != "" {
		w.Header().Set("x-amz-version-id", info.VersionID)
	}
	tags := info.Tags
	var out taggingResult
	out.TagSet.Tags = make([]tagResultXML, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out.TagSet.Tags = append(out.TagSet.Tags, tagResultXML{Key: k, Value: tags[k]})
	}
	return writeXML(w, http.StatusOK, out)
}

// deleteObjectTagging removes the tags of an object, or of the version
// versionId names: 204.
func (s *Server) deleteObjectTagging(w http.ResponseWriter, r *http.Request, o *op) error {
	if err := s.checkTagger(o); err != nil {
		return err
	}
	if err := s.setTags(w, r, o, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setTaggingCount sends x-amz-tagging-count when the object has tags.
func setTaggingCount(w http.ResponseWriter, info ObjectInfo) {
	if n := len(info.Tags); n > 0 {
		w.Header().Set("X-Amz-Tagging-Count", strconv.Itoa(n))
	}
}

// copyTagging reads x-amz-tagging-directive: COPY (the default) keeps the
// source's tags, REPLACE takes x-amz-tagging.
func copyTagging(h http.Header, opts *CopyOptions) error {
	switch d := strings.ToUpper(h.Get("X-Amz-Tagging-Directive")); d {
	case "", "COPY":
		return nil
	case "REPLACE":
		tags, err := parseTaggingHeader(h)
		if err != nil {
			return err
		}
		opts.ReplaceTags, opts.Tags = true, tags
		return nil
	}
	return errInvalidArgument.withMessage("Unknown tagging directive.")
}
