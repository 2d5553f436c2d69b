package s3gw

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	defaultContentType = "binary/octet-stream"
	// maxUserMeta is S3's limit on x-amz-meta-* names and values together.
	maxUserMeta = 2 << 10
	// cidHeader is the response header that carries the object's CID on
	// GET, HEAD, PUT, CopyObject and CompleteMultipartUpload. It is not
	// user metadata: x-amz-meta-* holds exactly what the client wrote.
	cidHeader      = "X-Cairn-Cid"
	iso8601Millis  = "2006-01-02T15:04:05.000Z"
	maxSinglePut   = 5 << 30 // PutObject, UploadPart, CopyObject
	maxObjectParts = 10000
)

// storedHeaders are the standard headers kept with an object and returned
// with it.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// putOptions reads what PutObject, CreateMultipartUpload and CopyObject
// (REPLACE) store besides the bytes.
func putOptions(h http.Header) (PutOptions, error) {
	opts := PutOptions{
		ContentType: h.Get("Content-Type"),
		Headers:     map[string]string{},
		UserMeta:    map[string]string{},
	}
	if opts.ContentType == "" {
		opts.ContentType = defaultContentType
	}
	for _, k := range storedHeaders {
		v := strings.Join(h.Values(k), ",")
		if k == "Content-Encoding" {
			v = stripAWSChunked(v)
		}
		if v != "" {
			opts.Headers[k] = v
		}
	}
	size := 0
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-")
		if !ok || name == "" {
			continue
		}
		v := strings.Join(vs, ",")
		opts.UserMeta[name] = v
		size += len(name) + len(v)
	}
	if size > maxUserMeta {
		return opts, errMetadataTooLarge
	}
	tags, err := parseTaggingHeader(h)
	if err != nil {
		return opts, err
	}
	opts.Tags = tags
	acl, err := requestACL(h)
	if err != nil {
		return opts, err
	}
	if acl != "" {
		opts.Headers[objectACLHeader] = acl
	}
	md5, err := contentMD5(h)
	opts.ContentMD5 = md5
	return opts, err
}

// contentMD5 decodes Content-MD5: nil if absent, InvalidDigest if not the
// base64 of 16 bytes.
func contentMD5(h http.Header) ([]byte, error) {
	v := h.Get("Content-Md5")
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 16 {
		return nil, errInvalidDigest
	}
	return b, nil
}

// stripAWSChunked removes the aws-chunked coding, which describes the
// transfer and not the object, from a Content-Encoding value.
func stripAWSChunked(v string) string {
	if !strings.Contains(strings.ToLower(v), "aws-chunked") {
		return v
	}
	var kept []string
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "aws-chunked") {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, ",")
}

// setObjectHeaders writes the headers describing an object version, as for
// GetObject and HeadObject: user metadata as lower-case x-amz-meta-* (as S3
// sends them), and the CID in x-cairn-cid.
func setObjectHeaders(w http.ResponseWriter, info ObjectInfo) {
	h := w.Header()
	h.Set("Last-Modified", httpTime(info.LastModified))
	h.Set("ETag", quoteETag(info.ETag))
	ct := info.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	h.Set("Content-Type", ct)
	for k, v := range info.Headers {
		if k != objectACLHeader {
			h.Set(k, v)
		}
	}
	for k, v := range info.UserMeta {
		h["x-amz-meta-"+k] = []string{v}
	}
	setCID(w, info.CID)
	setTaggingCount(w, info)
}

func setCID(w http.ResponseWriter, cid string) {
	if cid != "" {
		w.Header().Set(cidHeader, cid)
	}
}

func quoteETag(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag
	}
	return `"` + etag + `"`
}

func unquoteETag(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimPrefix(etag, "W/")
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag[1 : len(etag)-1]
	}
	return etag
}

func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
func isoTime(t time.Time) string  { return t.UTC().Format(iso8601Millis) }

// intParam parses an optional non-negative integer query parameter.
func intParam(v string, def int, name string) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument.withMessage("Provided %s not an integer or within integer range", name)
	}
	return n, nil
}
