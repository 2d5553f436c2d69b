package s3gw

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// POST uploads: an HTML form posts multipart/form-data to a bucket's URL,
// its fields first (key, policy, signature, metadata), the file last.
// The fields are read into memory (each at most maxPostField bytes, all
// together at most maxPostFields); the file is streamed to the backend;
// fields after it are not read, as on S3.

var opPostObject = &opSpec{"PostObject", (*Server).postObject}

const (
	maxPostField  = 64 << 10
	maxPostFields = 1 << 20
)

var (
	errMalformedPOST     = &APIError{"MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data."}
	errPostPreDataTooBig = &APIError{"MaxPostPreDataLengthExceeded", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large."}
)

// isPostUpload reports whether r is a POST upload to a bucket.
func isPostUpload(o *op, r *http.Request) bool {
	if r.Method != http.MethodPost || o.key != "" || len(o.query) != 0 {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

func (s *Server) postObject(w http.ResponseWriter, r *http.Request, o *op) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return errMalformedPOST
	}
	fields := map[string]string{}
	var file *multipart.Part
	total := 0
	for file == nil {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errMalformedPOST
		}
		name := strings.ToLower(part.FormName())
		switch {
		case name == "":
			continue
		case name == "file":
			file = part
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxPostField+1))
		if err != nil {
			return errMalformedPOST
		}
		total += len(name) + len(v)
		if len(v) > maxPostField || total > maxPostFields {
			return errPostPreDataTooBig
		}
		if _, dup := fields[name]; dup {
			return errInvalidArgument.withMessage("The form field %s appears more than once.", name)
		}
		fields[name] = string(v)
	}
	if file == nil {
		return errInvalidArgument.withMessage("POST requires exactly one file upload per request.")
	}
	key, ok := fields["key"]
	if !ok || key == "" {
		return errInvalidArgument.withMessage("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
	}
	key = strings.ReplaceAll(key, "${filename}", file.FileName())
	if err := checkKey(key); err != nil {
		return err
	}

	principal, keyPolicy, err := s.postAuth(r, fields)
	if err != nil {
		return err
	}
	minSize, maxSize := int64(0), int64(maxSinglePut)
	if b64 := fields["policy"]; b64 != "" {
		pp, err := parsePostPolicy(b64)
		if err != nil {
			return err
		}
		if err := pp.check(fields, o.bucket, s.cfg.Now()); err != nil {
			return err
		}
		if pp.maxSize >= 0 {
			minSize, maxSize = pp.minSize, min(pp.maxSize, maxSize)
		}
	}

	// Authorize the upload as a PutObject of key by the form's signer.
	ko := *o
	ko.key = key
	ko.auth = &authInfo{accessKey: principal, payload: unsignedPayload}
	if err := authorize(r, &ko, keyPolicy); err != nil { // the signer's own policy
		return err
	}
	cfg, err := s.bucketAccess(r.Context(), o.bucket)
	if err != nil {
		return err
	}
	if err := s.decide(r, &ko, cfg); err != nil {
		return err
	}

	opts, err := postPutOptions(fields, file)
	if err != nil {
		return err
	}
	body := &sizeCheck{r: file, min: minSize, max: maxSize}
	info, err := s.backend.PutObject(r.Context(), o.bucket, key, body, -1, opts)
	if err != nil {
		return err
	}

	h := w.Header()
	etag := quoteETag(info.ETag)
	h.Set("ETag", etag)
	setCID(w, info.CID)
	setVersionHeaders(w, info)
	location := objectURL(r, o.bucket, key)
	h.Set("Location", location)
	if redirect := fields["success_action_redirect"]; redirect != "" {
		if u, err := url.Parse(redirect); err == nil && u.IsAbs() {
			q := u.Query()
			q.Set("bucket", o.bucket)
			q.Set("key", key)
			q.Set("etag", etag)
			u.RawQuery = q.Encode()
			h.Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	switch fields["success_action_status"] {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		return writeXML(w, http.StatusCreated, postResponse{Location: location, Bucket: o.bucket, Key: key, ETag: etag})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// objectURL is the URL of bucket/key at the endpoint r reached.
func objectURL(r *http.Request, bucket, key string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/" + uriEncode(bucket, false) + "/" + uriEncode(key, false)
}

// postAuth checks the form's signature of its policy and returns the
// access key that made it and that key's policy (nil: none), "" for an
// unsigned form.
func (s *Server) postAuth(r *http.Request, f map[string]string) (string, *KeyPolicy, error) {
	missing := func(name string) error {
		return errInvalidArgument.withMessage("Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields.", name)
	}
	policy := f["policy"]
	switch {
	case f["x-amz-algorithm"] != "" || f["x-amz-credential"] != "" || f["x-amz-signature"] != "":
		if f["x-amz-algorithm"] != sigV4Algorithm {
			return "", nil, errInvalidArgument.withMessage("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
		}
		for _, k := range []string{"x-amz-credential", "x-amz-date", "x-amz-signature", "policy"} {
			if f[k] == "" {
				return "", nil, missing(k)
			}
		}
		v, err := s.parseCredential(f["x-amz-credential"], errInvalidArgument, "")
		if err != nil {
			return "", nil, err
		}
		when, err := time.Parse(amzDateFormat, f["x-amz-date"])
		if err != nil || when.Format(scopeDate) != v.date {
			return "", nil, errInvalidArgument.withMessage("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and on the credential's date.")
		}
		secret, kp, err := s.lookupKey(r.Context(), v.accessKey)
		if err != nil {
			return "", nil, err
		}
		want := hex.EncodeToString(hmacSHA256(signingKey(secret, v.date, v.region, v.service), policy))
		if !hmac.Equal([]byte(want), []byte(f["x-amz-signature"])) {
			return "", nil, errSignatureDoesNotMatch
		}
		return v.accessKey, kp, nil
	case f["awsaccesskeyid"] != "":
		for _, k := range []string{"signature", "policy"} {
			if f[k] == "" {
				return "", nil, missing(k)
			}
		}
		secret, kp, err := s.lookupKey(r.Context(), f["awsaccesskeyid"])
		if err != nil {
			return "", nil, err
		}
		if !hmac.Equal([]byte(signV2(secret, policy)), []byte(f["signature"])) {
			return "", nil, errSignatureDoesNotMatch
		}
		return f["awsaccesskeyid"], kp, nil
	case f["signature"] != "":
		return "", nil, missing("AWSAccessKeyId")
	}
	return "", nil, nil
}

// postPutOptions reads what the form's fields store with the object: the
// standard headers, x-amz-meta-*, the canned ACL (acl). Fields asking for
// what Cairn does not do are refused.
func postPutOptions(f map[string]string, file *multipart.Part) (PutOptions, error) {
	h := http.Header{}
	for name, v := range f {
		switch {
		case name == "acl":
			h.Set("X-Amz-Acl", v)
		case name == "content-type" || name == "cache-control" || name == "content-disposition" ||
			name == "content-encoding" || name == "expires" || strings.HasPrefix(name, "x-amz-meta-"):
			h.Set(name, v)
		case strings.HasPrefix(name, "x-amz-server-side-encryption"), name == "tagging",
			strings.HasPrefix(name, "x-amz-object-lock-"), name == "x-amz-website-redirect-location":
			return PutOptions{}, errNotImplemented.withMessage("The form field %s is not implemented for POST uploads.", name)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", file.Header.Get("Content-Type"))
	}
	opts, err := putOptions(h)
	opts.ContentMD5 = nil
	return opts, err
}
