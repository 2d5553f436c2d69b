package s3gw

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxDeleteKeys is the most keys one DeleteObjects request may name.
const maxDeleteKeys = 1000

// responseOverrides are the GetObject query parameters that set a response
// header.
var responseOverrides = []struct{ param, header string }{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// checkVersionID accepts no version ID or "null", the ID S3 gives objects
// in a bucket without versioning; any other names a version that does not
// exist.
func checkVersionID(v url.Values) error {
	if id := v.Get("versionId"); id != "" && id != "null" {
		return errNoSuchVersion
	}
	return nil
}

func (s *Server) putObject(w http.ResponseWriter, r *http.Request, o *op) error {
	opts, err := putOptions(r.Header)
	if err != nil {
		return err
	}
	sse, ck, err := s.writeSSE(r)
	if err != nil {
		return err
	}
	opts.SSE = sse
	if err := s.writeOptions(r, &opts, true); err != nil {
		return err
	}
	p, err := openPayload(r, o.auth, true)
	if err != nil {
		return err
	}
	if p.size > maxSinglePut {
		return errEntityTooLarge
	}
	info, err := s.backend.PutObject(r.Context(), o.bucket, o.key, p, p.size, opts)
	if err != nil {
		return p.cause(err)
	}
	w.Header().Set("ETag", quoteETag(info.ETag))
	setCID(w, info.CID)
	setSSEHeaders(w, sse, ck)
	setVersionHeaders(w, info)
	p.echoChecksum(w)
	w.WriteHeader(http.StatusOK)
	return nil
}

// getObject serves GetObject and HeadObject.
func (s *Server) getObject(w http.ResponseWriter, r *http.Request, o *op) error {
	q := o.query
	partNumber := 0
	if v := q.Get("partNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxObjectParts {
			return errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive")
		}
		if r.Header.Get("Range") != "" {
			return errInvalidRequest.withMessage("Cannot specify both Range header and partNumber query parameter")
		}
		partNumber = n
	}
	obj, err := s.getVersion(r, o)
	if err != nil {
		return err
	}
	info := obj.Info()
	h := w.Header()
	ctx, ck, err := s.readSSE(r, info)
	if err != nil {
		return err
	}
	setVersionHeaders(w, info)

	switch plainConditions(r.Header).eval(info) {
	case condFailed:
		return errPreconditionFailed
	case condNotModified:
		h.Set("ETag", quoteETag(info.ETag))
		h.Set("Last-Modified", httpTime(info.LastModified))
		setCID(w, info.CID)
		setSSEHeaders(w, info.SSE, ck)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}

	var rng *byteRange
	switch {
	case partNumber > 0:
		if rng, err = partRange(info, partNumber); err != nil {
			return err
		}
	default:
		rng, err = parseRange(r.Header.Get("Range"), info.Size)
		if err != nil {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
			return err
		}
	}

	setObjectHeaders(w, info)
	setSSEHeaders(w, info.SSE, ck)
	for _, ov := range responseOverrides {
		if v := q.Get(ov.param); v != "" {
			h.Set(ov.header, v)
		}
	}
	h.Set("Accept-Ranges", "bytes")
	start, length, status := int64(0), info.Size, http.StatusOK
	if rng != nil {
		start, length, status = rng.start, rng.length, http.StatusPartialContent
		h.Set("Content-Range", rng.contentRange(info.Size))
	}
	if partNumber > 0 && info.PartsCount > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(info.PartsCount))
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	if r.Method == http.MethodHead || length == 0 {
		w.WriteHeader(status)
		return nil
	}
	rc, err := obj.Open(ctx, start, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.WriteHeader(status)
	n, err := io.Copy(w, rc)
	if err == nil && n != length {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("send %s/%s [%d, +%d): %w", o.bucket, o.key, start, length, err)
	}
	return nil
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, o *op) error {
	if r.Header.Get("If-Match") != "" {
		return errNotImplemented.withMessage("Conditional deletes are not implemented.")
	}
	if vb, ok := s.backend.(VersionedBackend); ok {
		return s.deleteObjectVersioned(w, r, o, vb)
	}
	if err := checkVersionID(o.query); err != nil {
		return err
	}
	if err := s.backend.DeleteObject(r.Context(), o.bucket, o.key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteObjects(w http.ResponseWriter, r *http.Request, o *op) error {
	wantMD5, err := contentMD5(r.Header)
	if err != nil {
		return err
	}
	p, err := openPayload(r, o.auth, true)
	if err != nil {
		return err
	}
	var req deleteRequest
	data, err := readXML(p, &req, false)
	if err != nil {
		return err
	}
	if sum := md5.Sum(data); wantMD5 != nil && !bytes.Equal(sum[:], wantMD5) {
		return errBadDigest
	}
	if len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		return errMalformedXML
	}
	if vb, ok := s.backend.(VersionedBackend); ok {
		return s.deleteObjectsVersioned(w, r, o, vb, &req)
	}

	// Keys that fail validation get their error here; the rest go to the
	// Backend in one call.
	out := deleteResult{}
	perKey := make([]error, len(req.Objects))
	var keys []string
	var idx []int
	for i, obj := range req.Objects {
		if obj.Key == nil {
			return errMalformedXML
		}
		switch {
		case obj.VersionID != "" && obj.VersionID != "null":
			perKey[i] = errNoSuchVersion
		case !keyAllowed(o.auth.policy, *obj.Key):
			perKey[i] = errAccessDenied
		default:
			perKey[i] = checkKey(*obj.Key)
		}
		if perKey[i] == nil {
			keys = append(keys, *obj.Key)
			idx = append(idx, i)
		}
	}
	if len(keys) > 0 {
		errs, err := s.backend.DeleteObjects(r.Context(), o.bucket, keys)
		if err != nil {
			return err
		}
		if len(errs) != len(keys) {
			return fmt.Errorf("backend DeleteObjects returned %d results for %d keys", len(errs), len(keys))
		}
		for j, e := range errs {
			perKey[idx[j]] = e
		}
	}
	for i, obj := range req.Objects {
		if e := perKey[i]; e != nil {
			api, known := toAPIError(e)
			if !known {
				s.log.Error("internal error deleting a key", "bucket", o.bucket, "key", *obj.Key, "err", e)
			}
			out.Errors = append(out.Errors, deleteErrXML{Key: *obj.Key, VersionID: obj.VersionID, Code: api.Code, Message: api.Message})
		} else if !req.Quiet {
			out.Deleted = append(out.Deleted, deletedXML{Key: *obj.Key, VersionID: obj.VersionID})
		}
	}
	return writeXML(w, http.StatusOK, out)
}

// parseCopySource parses x-amz-copy-source: "[/]bucket/key[?versionId=id]",
// URL-encoded.
func parseCopySource(v string) (bucket, key, versionID string, err error) {
	bad := errInvalidArgument.withMessage("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", bad
		}
		if q.Has("versionId") {
			if versionID = q.Get("versionId"); versionID == "" {
				return "", "", "", errInvalidArgument.withMessage("Version id cannot be the empty string")
			}
		}
	}
	path, err = url.PathUnescape(path)
	if err != nil {
		return "", "", "", bad
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", bad
	}
	return bucket, key, versionID, checkKey(key)
}

// copySource resolves the source of CopyObject and UploadPartCopy and
// applies the x-amz-copy-source-if-* conditions, which fail with 412 where
// GetObject's would answer 304.
func (s *Server) copySource(r *http.Request) (Object, string, string, error) {
	bucket, key, vid, err := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return nil, "", "", err
	}
	src, err := s.copySourceVersion(r, bucket, key, vid)
	if err != nil {
		return nil, "", "", err
	}
	if copySourceConditions(r.Header).eval(src.Info()) != condPass {
		return nil, "", "", errPreconditionFailed
	}
	return src, bucket, key, nil
}

func (s *Server) copyObject(w http.ResponseWriter, r *http.Request, o *op) error {
	var opts CopyOptions
	switch d := strings.ToUpper(r.Header.Get("X-Amz-Metadata-Directive")); d {
	case "", "COPY":
	case "REPLACE":
		opts.ReplaceMetadata = true
	default:
		return errInvalidArgument.withMessage("Unknown metadata directive.")
	}
	if opts.ReplaceMetadata {
		put, err := putOptions(r.Header)
		if err != nil {
			return err
		}
		put.ContentMD5, put.Tags = nil, nil
		opts.Put = put
	}
	if err := copyTagging(r.Header, &opts); err != nil {
		return err
	}
	sse, ck, err := s.writeSSE(r)
	if err != nil {
		return err
	}
	if err := s.writeOptions(r, &opts.Put, false); err != nil {
		return err
	}
	src, srcBucket, srcKey, err := s.copySource(r)
	if err != nil {
		return err
	}
	srcInfo := src.Info()
	srcCtx, _, err := s.readKey(r.Context(), r, ssecCopyPrefix, srcInfo)
	if err != nil {
		return err
	}
	_, _, srcVID, _ := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	sameEncryption := sse.S3 == srcInfo.SSE.S3 && ck == nil && srcInfo.SSE.CustomerKeyCheck == nil
	if srcBucket == o.bucket && srcKey == o.key && !opts.ReplaceMetadata && sameEncryption && srcVID == "" {
		return errInvalidRequest.withMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if err := copyACL(r, srcInfo, &opts); err != nil {
		return err
	}
	var info ObjectInfo
	if ck != nil || srcInfo.SSE.CustomerKeyCheck != nil || (sse.S3 && !srcInfo.SSE.S3) {
		// The copy's bytes are encrypted otherwise than its source's:
		// they are read and written again.
		info, err = s.copyThrough(srcCtx, r, src, o, opts, sse)
	} else {
		opts.SSES3 = sse.S3
		info, err = s.copyObjectFrom(r.Context(), src, srcBucket, srcKey, o.bucket, o.key, opts)
	}
	if err != nil {
		return err
	}
	setCID(w, info.CID)
	setSSEHeaders(w, sse, ck)
	setCopyVersionHeaders(w, srcInfo, info)
	return writeXML(w, http.StatusOK, copyObjectResult{
		LastModified: isoTime(info.LastModified),
		ETag:         quoteETag(info.ETag),
	})
}

// copyThrough copies src to o's key by reading it (with the key srcCtx
// carries) into a PutObject under the encryption sse: what a copy to or
// from a customer key, or to SSE-S3 from an object written without it,
// takes. Metadata and tags follow the directives as in CopyObject.
func (s *Server) copyThrough(srcCtx context.Context, r *http.Request, src Object, o *op, opts CopyOptions, sse Encryption) (ObjectInfo, error) {
	info := src.Info()
	if info.Size > maxSinglePut {
		return ObjectInfo{}, errEntityTooLarge
	}
	put := PutOptions{ContentType: info.ContentType, Headers: info.Headers, UserMeta: info.UserMeta}
	if opts.ReplaceMetadata {
		put = opts.Put
	}
	put.Tags = info.Tags
	if opts.ReplaceTags {
		put.Tags = opts.Tags
	}
	put.SSE = sse
	// The copy's lock is the request's (or the bucket's default); its
	// bytes come from a stored object, checked as they are read.
	put.LockMode, put.RetainUntil, put.LegalHold = opts.Put.LockMode, opts.Put.RetainUntil, opts.Put.LegalHold
	put.Checksummed = true
	var rc io.ReadCloser = http.NoBody
	if info.Size > 0 {
		var err error
		if rc, err = src.Open(srcCtx, 0, info.Size); err != nil {
			return ObjectInfo{}, err
		}
	}
	defer rc.Close()
	return s.backend.PutObject(r.Context(), o.bucket, o.key, rc, info.Size, put)
}
