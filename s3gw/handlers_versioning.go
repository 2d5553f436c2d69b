package s3gw

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// The handlers of versioning, object lock, bucket tagging and lifecycle,
// and the helpers that the object handlers call for versions, conditions
// and locks.

type versioningXML struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

type versionXML struct {
	XMLName      xml.Name
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag,omitempty"`
	Size         *int64 `xml:"Size,omitempty"`
	Owner        *owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass,omitempty"`
}

type listVersionsResult struct {
	XMLName             xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListVersionsResult"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []versionXML   // Version and DeleteMarker, in order
	CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
}

type defaultRetentionXML struct {
	Mode  string `xml:"Mode"`
	Days  int    `xml:"Days,omitempty"`
	Years int    `xml:"Years,omitempty"`
}

type objectLockConfigXML struct {
	XMLName           xml.Name
	ObjectLockEnabled string `xml:"ObjectLockEnabled,omitempty"`
	Rule              *struct {
		DefaultRetention *defaultRetentionXML `xml:"DefaultRetention"`
	} `xml:"Rule,omitempty"`
}

type retentionXML struct {
	XMLName         xml.Name
	Mode            string `xml:"Mode,omitempty"`
	RetainUntilDate string `xml:"RetainUntilDate,omitempty"`
}

type legalHoldXML struct {
	XMLName xml.Name
	Status  string `xml:"Status"`
}

type bucketTagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type bucketTaggingXML struct {
	XMLName xml.Name
	TagSet  struct {
		Tags []bucketTagXML `xml:"Tag"`
	} `xml:"TagSet"`
}

// versionIDParam returns the versionId query parameter: "" when absent,
// InvalidArgument when present but empty.
func versionIDParam(o *op) (string, error) {
	if !o.query.Has("versionId") {
		return "", nil
	}
	id := o.query.Get("versionId")
	if id == "" {
		return "", errInvalidArgument.withMessage("Version id cannot be the empty string")
	}
	return id, nil
}

// getVersion resolves GetObject's and HeadObject's object: the version
// named by versionId, or the current one. A delete marker answers 404
// NoSuchKey (405 MethodNotAllowed when named by version ID) with
// x-amz-delete-marker and x-amz-version-id.
func (s *Server) getVersion(r *http.Request, o *op) (Object, error) {
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		if err := checkVersionID(o.query); err != nil {
			return nil, err
		}
		return s.backend.GetObject(r.Context(), o.bucket, o.key)
	}
	id, err := versionIDParam(o)
	if err != nil {
		return nil, err
	}
	obj, err := vb.GetObjectVersion(r.Context(), o.bucket, o.key, id)
	if err != nil {
		return nil, err
	}
	info := obj.Info()
	if !info.DeleteMarker {
		return obj, nil
	}
	h := map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": info.VersionID}
	if id != "" {
		h["Last-Modified"] = httpTime(info.LastModified)
		return nil, &headerError{errMethodNotAllowed, h}
	}
	return nil, &headerError{ErrNoSuchKey, h}
}

// setVersionHeaders sets the headers of a version read or written: its
// version ID (none for the null version) and its lock.
func setVersionHeaders(w http.ResponseWriter, info ObjectInfo) {
	h := w.Header()
	if info.VersionID != "" {
		h.Set("x-amz-version-id", info.VersionID)
	}
	if info.LockMode != "" {
		h.Set("x-amz-object-lock-mode", info.LockMode)
		h.Set("x-amz-object-lock-retain-until-date", info.RetainUntil.UTC().Format(time.RFC3339))
	}
	switch {
	case info.LegalHold:
		h.Set("x-amz-object-lock-legal-hold", "ON")
	case info.LegalHoldSet:
		h.Set("x-amz-object-lock-legal-hold", "OFF")
	}
}

// writeOptions adds to opts the condition and object lock headers of a
// write (PutObject, CreateMultipartUpload, CopyObject): NotImplemented if
// the backend cannot honour them.
func (s *Server) writeOptions(r *http.Request, opts *PutOptions, conditional bool) error {
	hd := r.Header
	if conditional {
		inm, im := hd.Get("If-None-Match"), hd.Get("If-Match")
		if inm != "" || im != "" {
			if inm != "" && inm != "*" {
				return errNotImplemented.withMessage("If-None-Match on a write supports only *.")
			}
			opts.Cond = &WriteCond{IfNoneMatch: inm == "*", IfMatch: unquoteETag(im)}
		}
	}
	mode, date, hold := hd.Get("X-Amz-Object-Lock-Mode"), hd.Get("X-Amz-Object-Lock-Retain-Until-Date"), hd.Get("X-Amz-Object-Lock-Legal-Hold")
	if mode != "" || date != "" {
		if mode == "" || date == "" {
			return errInvalidArgument.withMessage("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
		}
		if mode != "GOVERNANCE" && mode != "COMPLIANCE" {
			return errInvalidArgument.withMessage("Unknown wormMode directive.")
		}
		until, err := parseLockDate(date)
		if err != nil {
			return err
		}
		opts.LockMode, opts.RetainUntil = mode, until
	}
	switch hold {
	case "":
	case "ON":
		opts.LegalHold = true
	case "OFF":
	default:
		return errInvalidArgument.withMessage("Legal Hold must be either of 'ON' or 'OFF'")
	}
	opts.Checksummed = hasChecksum(hd)
	if opts.Cond == nil && opts.LockMode == "" && hold == "" {
		return nil
	}
	if _, err := s.versioned(); err != nil {
		return err
	}
	if (opts.LockMode != "" || hold != "") && conditional && r.Method == http.MethodPut && !hasChecksum(hd) { // PutObject
		return errLockChecksum
	}
	return nil
}

var errLockChecksum = errInvalidRequest.withMessage("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")

// hasChecksum reports whether a request carries Content-MD5 or one of the
// x-amz-checksum headers (or trailers), as object lock writes must.
func hasChecksum(h http.Header) bool {
	if h.Get("Content-Md5") != "" || h.Get("X-Amz-Sdk-Checksum-Algorithm") != "" {
		return true
	}
	if strings.Contains(strings.ToLower(h.Get("X-Amz-Trailer")), "x-amz-checksum-") {
		return true
	}
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
			return true
		}
	}
	return false
}

func parseLockDate(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, iso8601Millis} {
		if t, err := time.Parse(layout, v); err == nil {
			if !t.After(time.Now()) {
				return time.Time{}, errInvalidArgument.withMessage("The retain until date must be in the future!")
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, errInvalidArgument.withMessage("The retain until date is not a valid ISO 8601 date.")
}

func bypassGovernance(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("X-Amz-Bypass-Governance-Retention"), "true")
}

// deleteObjectVersioned serves DeleteObject on a VersionedBackend.
func (s *Server) deleteObjectVersioned(w http.ResponseWriter, r *http.Request, o *op, vb VersionedBackend) error {
	id, err := versionIDParam(o)
	if err != nil {
		return err
	}
	res, err := vb.DeleteVersions(r.Context(), o.bucket, []DeleteTarget{{Key: o.key, VersionID: id}}, bypassGovernance(r))
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return errors.New("backend DeleteVersions answered no result")
	}
	if res[0].Err != nil {
		return res[0].Err
	}
	if res[0].VersionID != "" {
		w.Header().Set("x-amz-version-id", res[0].VersionID)
	}
	if res[0].DeleteMarker {
		w.Header().Set("x-amz-delete-marker", "true")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteObjectsVersioned serves DeleteObjects on a VersionedBackend, once
// the request is parsed.
func (s *Server) deleteObjectsVersioned(w http.ResponseWriter, r *http.Request, o *op, vb VersionedBackend, req *deleteRequest) error {
	perKey := make([]error, len(req.Objects))
	var targets []DeleteTarget
	var idx []int
	for i, obj := range req.Objects {
		if obj.Key == nil {
			return errMalformedXML
		}
		if perKey[i] = checkKey(*obj.Key); perKey[i] == nil {
			targets = append(targets, DeleteTarget{Key: *obj.Key, VersionID: obj.VersionID})
			idx = append(idx, i)
		}
	}
	results := make([]DeleteResult, len(req.Objects))
	if len(targets) > 0 {
		res, err := vb.DeleteVersions(r.Context(), o.bucket, targets, bypassGovernance(r))
		if err != nil {
			return err
		}
		if len(res) != len(targets) {
			return errors.New("backend DeleteVersions answered the wrong number of results")
		}
		for j, rs := range res {
			results[idx[j]] = rs
			perKey[idx[j]] = rs.Err
		}
	}
	out := deleteResult{}
	for i, obj := range req.Objects {
		if e := perKey[i]; e != nil {
			api, known := toAPIError(e)
			if !known {
				s.log.Error("internal error deleting a key", "bucket", o.bucket, "key", *obj.Key, "err", e)
			}
			out.Errors = append(out.Errors, deleteErrXML{Key: *obj.Key, VersionID: obj.VersionID, Code: api.Code, Message: api.Message})
			continue
		}
		if req.Quiet {
			continue
		}
		d := deletedXML{Key: *obj.Key, VersionID: obj.VersionID}
		if rs := results[i]; rs.DeleteMarker {
			d.DeleteMarker = true
			d.DeleteMarkerVersionID = rs.VersionID
		}
		out.Deleted = append(out.Deleted, d)
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) listObjectVersions(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	q := o.query
	maxKeys, err := intParam(q.Get("max-keys"), maxListKeys, "max-keys")
	if err != nil {
		return err
	}
	maxKeys = min(maxKeys, maxListKeys)
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errInvalidArgument.withMessage("Invalid Encoding Method specified in Request")
	}
	encode := func(s string) string { return s }
	if enc == "url" {
		encode = func(s string) string { return uriEncode(s, false) }
	}
	vq := VersionQuery{
		Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"),
		KeyMarker: q.Get("key-marker"), VersionIDMarker: q.Get("version-id-marker"), MaxKeys: maxKeys,
	}
	if vq.VersionIDMarker != "" && vq.KeyMarker == "" {
		return errInvalidArgument.withMessage("A version-id marker cannot be specified without a key marker.")
	}
	out := listVersionsResult{
		Name: o.bucket, Prefix: encode(vq.Prefix), KeyMarker: encode(vq.KeyMarker), VersionIDMarker: vq.VersionIDMarker,
		MaxKeys: maxKeys, Delimiter: encode(vq.Delimiter), EncodingType: enc,
	}
	if maxKeys > 0 {
		res, err := vb.ListObjectVersions(r.Context(), o.bucket, vq)
		if err != nil {
			return err
		}
		out.IsTruncated = res.IsTruncated
		out.NextKeyMarker = encode(res.NextKeyMarker)
		out.NextVersionIDMarker = res.NextVersionIDMarker
		own := ownerOf(o)
		for _, v := range res.Versions {
			e := versionXML{
				Key: encode(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest,
				LastModified: isoTime(v.LastModified), Owner: &own,
			}
			if v.DeleteMarker {
				e.XMLName = s3Name("DeleteMarker")
			} else {
				e.XMLName = s3Name("Version")
				e.ETag = quoteETag(v.ETag)
				size := v.Size
				e.Size = &size
				e.StorageClass = "STANDARD"
			}
			out.Entries = append(out.Entries, e)
		}
		for _, p := range res.CommonPrefixes {
			out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encode(p)})
		}
	} else {
		if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
			return err
		}
	}
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) getBucketVersioningV(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		return s.getBucketVersioning(w, r, o)
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
		Status  string   `xml:"Status,omitempty"`
	}{Status: cfg.Versioning})
}

// readConfigXML reads a configuration body, checking Content-MD5 when
// given, or requiring it (or a checksum) when must: S3 requires one of
// PutBucketVersioning, PutBucketTagging, PutBucketLifecycleConfiguration,
// PutObjectLockConfiguration, PutObjectRetention and PutObjectLegalHold,
// and the SDKs and CLIs send it.
func readConfigXML(r *http.Request, o *op, v any, must bool) error {
	if must && !hasChecksum(r.Header) {
		return errInvalidRequest.withMessage("Missing required header for this request: Content-MD5")
	}
	wantMD5, err := contentMD5(r.Header)
	if err != nil {
		return err
	}
	p, err := openPayload(r, o.auth, true)
	if err != nil {
		return err
	}
	data, err := readXML(p, v, false)
	if err != nil {
		return err
	}
	if wantMD5 != nil && !md5Equal(data, wantMD5) {
		return errBadDigest
	}
	return nil
}

func (s *Server) putBucketVersioning(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	var req versioningXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	if req.MfaDelete == "Enabled" {
		return errNotImplemented.withMessage("MFA delete is not implemented.")
	}
	if req.Status != "Enabled" && req.Status != "Suspended" {
		return errMalformedXML
	}
	if err := vb.SetBucketVersioning(r.Context(), o.bucket, req.Status); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) createBucketLocked(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	if !ValidBucketName(o.bucket) {
		return errInvalidBucketName
	}
	p, err := openPayload(r, o.auth, false)
	if err != nil {
		return err
	}
	var cfg createBucketConfiguration
	if _, err := readXML(p, &cfg, true); err != nil {
		return err
	}
	acl, err := s.createACL(r)
	if err != nil {
		return err
	}
	if err := vb.CreateBucketWithLock(r.Context(), o.bucket); err != nil {
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

func (s *Server) getObjectLockConfig(w http.ResponseWriter, r *http.Request, o *op) error {
	cfg, err := s.bucketConfig(r, o)
	if err != nil {
		return err
	}
	if cfg.ObjectLock == nil {
		return ErrNoSuchObjectLockConfig
	}
	out := objectLockConfigXML{ObjectLockEnabled: "Enabled"}
	if l := cfg.ObjectLock; l.Mode != "" {
		out.Rule = &struct {
			DefaultRetention *defaultRetentionXML `xml:"DefaultRetention"`
		}{&defaultRetentionXML{Mode: l.Mode, Days: l.Days, Years: l.Years}}
	}
	out.XMLName = s3Name("ObjectLockConfiguration")
	return writeXML(w, http.StatusOK, out)
}

func (s *Server) putObjectLockConfig(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	var req objectLockConfigXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	if req.ObjectLockEnabled != "Enabled" {
		return errMalformedXML
	}
	var c ObjectLockConfig
	if req.Rule != nil && req.Rule.DefaultRetention != nil {
		d := req.Rule.DefaultRetention
		switch {
		case d.Mode != "GOVERNANCE" && d.Mode != "COMPLIANCE":
			return errMalformedXML
		case (d.Days > 0) == (d.Years > 0) || d.Days < 0 || d.Years < 0:
			return errInvalidArgument.withMessage("Default retention period must be a positive integer value for Days or Years, not both.")
		}
		c = ObjectLockConfig{Mode: d.Mode, Days: d.Days, Years: d.Years}
	}
	if err := vb.SetObjectLockConfig(r.Context(), o.bucket, c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// lockTarget returns the version a retention or legal hold request names,
// with the backend.
func (s *Server) lockTarget(o *op) (VersionedBackend, string, error) {
	vb, err := s.versioned()
	if err != nil {
		return nil, "", err
	}
	id, err := versionIDParam(o)
	return vb, id, err
}

func (s *Server) lockedObject(r *http.Request, o *op) (ObjectInfo, error) {
	vb, id, err := s.lockTarget(o)
	if err != nil {
		return ObjectInfo{}, err
	}
	cfg, err := vb.BucketConfig(r.Context(), o.bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	if cfg.ObjectLock == nil {
		return ObjectInfo{}, ErrLockNotEnabled
	}
	obj, err := vb.GetObjectVersion(r.Context(), o.bucket, o.key, id)
	if err != nil {
		return ObjectInfo{}, err
	}
	if info := obj.Info(); info.DeleteMarker {
		return ObjectInfo{}, &headerError{errMethodNotAllowed, map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": info.VersionID}}
	}
	return obj.Info(), nil
}

func (s *Server) getObjectRetention(w http.ResponseWriter, r *http.Request, o *op) error {
	info, err := s.lockedObject(r, o)
	if err != nil {
		return err
	}
	if info.LockMode == "" {
		return &APIError{"NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration"}
	}
	return writeXML(w, http.StatusOK, retentionXML{XMLName: s3Name("Retention"), Mode: info.LockMode, RetainUntilDate: info.RetainUntil.UTC().Format(iso8601Millis)})
}

func (s *Server) putObjectRetention(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, id, err := s.lockTarget(o)
	if err != nil {
		return err
	}
	var req retentionXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	c := LockChange{Retention: true, Bypass: bypassGovernance(r)}
	if req.Mode != "" || req.RetainUntilDate != "" {
		if req.Mode != "GOVERNANCE" && req.Mode != "COMPLIANCE" {
			return errMalformedXML
		}
		until, err := parseLockDate(req.RetainUntilDate)
		if err != nil {
			return err
		}
		c.Mode, c.RetainUntil = req.Mode, until
	}
	vid, err := vb.SetObjectLock(r.Context(), o.bucket, o.key, id, c)
	if err != nil {
		return err
	}
	if vid != "" && vid != "null" {
		w.Header().Set("x-amz-version-id", vid)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getObjectLegalHold(w http.ResponseWriter, r *http.Request, o *op) error {
	info, err := s.lockedObject(r, o)
	if err != nil {
		return err
	}
	if !info.LegalHold && !info.LegalHoldSet {
		return &APIError{"NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration"}
	}
	status := "OFF"
	if info.LegalHold {
		status = "ON"
	}
	return writeXML(w, http.StatusOK, legalHoldXML{XMLName: s3Name("LegalHold"), Status: status})
}

func (s *Server) putObjectLegalHold(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, id, err := s.lockTarget(o)
	if err != nil {
		return err
	}
	var req legalHoldXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	if req.Status != "ON" && req.Status != "OFF" {
		return errMalformedXML
	}
	vid, err := vb.SetObjectLock(r.Context(), o.bucket, o.key, id, LockChange{Hold: true, LegalHold: req.Status == "ON"})
	if err != nil {
		return err
	}
	if vid != "" && vid != "null" {
		w.Header().Set("x-amz-version-id", vid)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketTagging(w http.ResponseWriter, r *http.Request, o *op) error {
	cfg, err := s.bucketConfig(r, o)
	if err != nil {
		return err
	}
	if len(cfg.Tags) == 0 {
		return ErrNoSuchTagSet
	}
	var out bucketTaggingXML
	for _, t := range cfg.Tags {
		out.TagSet.Tags = append(out.TagSet.Tags, bucketTagXML(t))
	}
	out.XMLName = s3Name("Tagging")
	return writeXML(w, http.StatusOK, out)
}

// Bucket tag limits, as S3's.
const (
	maxBucketTags   = 50
	awsTagKeyPrefix = "aws:"
)

func (s *Server) putBucketTagging(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	var req bucketTaggingXML
	if err := readConfigXML(r, o, &req, true); err != nil {
		return err
	}
	tags, err := checkBucketTags(req.TagSet.Tags)
	if err != nil {
		return err
	}
	if err := vb.SetBucketTags(r.Context(), o.bucket, tags); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func checkBucketTags(in []bucketTagXML) ([]Tag, error) {
	if len(in) > maxBucketTags {
		return nil, errInvalidRequest.withMessage("Bucket tag count cannot be greater than 50")
	}
	seen := map[string]bool{}
	out := make([]Tag, 0, len(in))
	for _, t := range in {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > maxTagKeyLen:
			return nil, &APIError{"InvalidTag", http.StatusBadRequest, "The TagKey you have provided is invalid"}
		case utf8.RuneCountInString(t.Value) > maxTagValueLen:
			return nil, &APIError{"InvalidTag", http.StatusBadRequest, "The TagValue you have provided is invalid"}
		case strings.HasPrefix(strings.ToLower(t.Key), awsTagKeyPrefix):
			return nil, &APIError{"InvalidTag", http.StatusBadRequest, "System tags cannot be added/updated by requester"}
		case seen[t.Key]:
			return nil, &APIError{"InvalidTag", http.StatusBadRequest, "Cannot provide multiple Tags with the same key"}
		}
		seen[t.Key] = true
		out = append(out, Tag(t))
	}
	return out, nil
}

func (s *Server) deleteBucketTagging(w http.ResponseWriter, r *http.Request, o *op) error {
	vb, err := s.versioned()
	if err != nil {
		return err
	}
	if err := vb.SetBucketTags(r.Context(), o.bucket, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bucketConfig returns the configuration of the request's bucket
// (NotImplemented when the backend keeps none).
func (s *Server) bucketConfig(r *http.Request, o *op) (BucketConfig, error) {
	vb, err := s.versioned()
	if err != nil {
		return BucketConfig{}, err
	}
	return vb.BucketConfig(r.Context(), o.bucket)
}

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Name is the name of a document S3 answers, in its namespace.
func s3Name(local string) xml.Name { return xml.Name{Space: s3NS, Local: local} }

func md5Equal(data, want []byte) bool {
	sum := md5.Sum(data)
	return bytes.Equal(sum[:], want)
}

// copySourceVersion returns the copy source: a version of it on a
// VersionedBackend, which may not be a delete marker.
func (s *Server) copySourceVersion(r *http.Request, bucket, key, vid string) (Object, error) {
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		if vid != "" && vid != "null" {
			return nil, errNoSuchVersion
		}
		return s.backend.GetObject(r.Context(), bucket, key)
	}
	src, err := vb.GetObjectVersion(r.Context(), bucket, key, vid)
	if err != nil {
		return nil, err
	}
	if src.Info().DeleteMarker {
		if vid != "" {
			return nil, errInvalidRequest.withMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return nil, ErrNoSuchKey
	}
	return src, nil
}

// copyObjectFrom copies src, the version copySource resolved.
func (s *Server) copyObjectFrom(ctx context.Context, src Object, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error) {
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		return s.backend.CopyObject(ctx, srcBucket, srcKey, dstBucket, dstKey, opts)
	}
	vid := src.Info().VersionID
	if vid == "" {
		vid = "null"
	}
	return vb.CopyObjectVersion(ctx, srcBucket, srcKey, vid, dstBucket, dstKey, opts)
}

func setCopyVersionHeaders(w http.ResponseWriter, src, dst ObjectInfo) {
	if src.VersionID != "" {
		w.Header().Set("x-amz-copy-source-version-id", src.VersionID)
	}
	if dst.VersionID != "" {
		w.Header().Set("x-amz-version-id", dst.VersionID)
	}
}

// completeUpload completes a multipart upload, under cond if any.
func (s *Server) completeUpload(ctx context.Context, o *op, id string, parts []CompletePart, cond *WriteCond) (ObjectInfo, error) {
	if cond == nil {
		return s.backend.CompleteMultipartUpload(ctx, o.bucket, o.key, id, parts)
	}
	vb, err := s.versioned()
	if err != nil {
		return ObjectInfo{}, err
	}
	return vb.CompleteMultipartUploadCond(ctx, o.bucket, o.key, id, parts, *cond)
}
