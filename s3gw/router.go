package s3gw

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// op is one parsed S3 request: which operation, on which bucket and key,
// with which query. parseOp builds it from method, host, path and query
// alone, before any handler runs.
type op struct {
	spec   *opSpec
	bucket string
	key    string
	query  url.Values
	auth   *authInfo // set once the request is authenticated
}

// opSpec is an operation: its S3 name and its handler.
type opSpec struct {
	name   string
	handle func(s *Server, w http.ResponseWriter, r *http.Request, o *op) error
}

func (o *op) name() string {
	if o == nil || o.spec == nil {
		return ""
	}
	return o.spec.name
}

// The operations. Handlers are methods of *Server; specs are variables (not
// a map) so that the compiler checks every name.
var (
	opListBuckets            = &opSpec{"ListBuckets", (*Server).listBuckets}
	opCreateBucket           = &opSpec{"CreateBucket", (*Server).createBucket}
	opHeadBucket             = &opSpec{"HeadBucket", (*Server).headBucket}
	opDeleteBucket           = &opSpec{"DeleteBucket", (*Server).deleteBucket}
	opGetBucketLocation      = &opSpec{"GetBucketLocation", (*Server).getBucketLocation}
	opGetBucketVersioning    = &opSpec{"GetBucketVersioning", (*Server).getBucketVersioning}
	opListObjects            = &opSpec{"ListObjects", (*Server).listObjectsV1}
	opListObjectsV2          = &opSpec{"ListObjectsV2", (*Server).listObjectsV2}
	opListMultipartUploads   = &opSpec{"ListMultipartUploads", (*Server).listMultipartUploads}
	opDeleteObjects          = &opSpec{"DeleteObjects", (*Server).deleteObjects}
	opPutObject              = &opSpec{"PutObject", (*Server).putObject}
	opCopyObject             = &opSpec{"CopyObject", (*Server).copyObject}
	opGetObject              = &opSpec{"GetObject", (*Server).getObject}
	opHeadObject             = &opSpec{"HeadObject", (*Server).getObject}
	opDeleteObject           = &opSpec{"DeleteObject", (*Server).deleteObject}
	opCreateMultipart        = &opSpec{"CreateMultipartUpload", (*Server).createMultipartUpload}
	opUploadPart             = &opSpec{"UploadPart", (*Server).uploadPart}
	opUploadPartCopy         = &opSpec{"UploadPartCopy", (*Server).uploadPartCopy}
	opCompleteMultipart      = &opSpec{"CompleteMultipartUpload", (*Server).completeMultipartUpload}
	opAbortMultipart         = &opSpec{"AbortMultipartUpload", (*Server).abortMultipartUpload}
	opListParts              = &opSpec{"ListParts", (*Server).listParts}
	opGetObjectAttributes    = &opSpec{"GetObjectAttributes", (*Server).getObjectAttributes}
	opPutObjectTagging       = &opSpec{"PutObjectTagging", (*Server).putObjectTagging}
	opGetObjectTagging       = &opSpec{"GetObjectTagging", (*Server).getObjectTagging}
	opDeleteObjectTagging    = &opSpec{"DeleteObjectTagging", (*Server).deleteObjectTagging}
	opGetBucketEncryption    = &opSpec{"GetBucketEncryption", (*Server).getBucketEncryption}
	opPutBucketEncryption    = &opSpec{"PutBucketEncryption", (*Server).putBucketEncryption}
	opDeleteBucketEncryption = &opSpec{"DeleteBucketEncryption", (*Server).deleteBucketEncryption}
)

// unsupported lists the sub-resources that name S3 operations Cairn does not
// implement. A request naming one is answered NotImplemented, whatever the
// method, rather than being mistaken for a plain object or bucket request.
// Other query parameters (x-id, which SDKs add, for instance) are ignored.
var unsupported = []string{
	"accelerate", "acl", "analytics", "cors",
	"intelligent-tiering", "inventory", "legal-hold", "lifecycle", "logging",
	"metadataConfiguration", "metadataTable", "metrics", "notification",
	"object-lock", "ownershipControls", "policy", "policyStatus",
	"publicAccessBlock", "replication", "requestPayment", "restore",
	"retention", "select", "session", "torrent", "versions",
	"website", "renameObject",
}

// parseOp turns a request into an operation. It always returns a non-nil op
// (with bucket and key, for error responses), and an error when the request
// names no operation Cairn implements or addresses an invalid key.
func parseOp(r *http.Request, domains []string) (*op, error) {
	o := &op{}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return o, err
	}
	o.query = q

	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	if b, ok := hostBucket(r.Host, domains); ok {
		o.bucket, o.key = b, path[1:]
	} else {
		rest := path[1:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			o.bucket, o.key = rest[:i], rest[i+1:]
		} else {
			o.bucket = rest
		}
	}

	if ok, err := versionOp(o, r); ok || err != nil {
		return o, err
	}
	if ok, err := accessOp(o, r); ok || err != nil {
		return o, err
	}
	for _, sub := range unsupported {
		if q.Has(sub) {
			return o, errNotImplemented.withMessage("The %q sub-resource is not implemented.", sub)
		}
	}

	switch {
	case o.bucket == "" && o.key != "":
		return o, errInvalidBucketName
	case o.bucket == "":
		if r.Method == http.MethodGet {
			o.spec = opListBuckets
			return o, nil
		}
		return o, errMethodNotAllowed
	case o.key == "":
		return o, bucketOp(o, r)
	}
	if err := checkKey(o.key); err != nil {
		return o, err
	}
	return o, objectOp(o, r)
}

func bucketOp(o *op, r *http.Request) error {
	q := o.query
	if q.Has("tagging") {
		return errNotImplemented.withMessage("Bucket tagging is not implemented.")
	}
	if q.Has("encryption") {
		return bucketEncryptionOp(o, r)
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case q.Has("location"):
			o.spec = opGetBucketLocation
		case q.Has("versioning"):
			o.spec = opGetBucketVersioning
		case q.Has("uploads"):
			o.spec = opListMultipartUploads
		case q.Has("list-type"):
			if q.Get("list-type") != "2" {
				return errInvalidArgument.withMessage("Invalid list-type %q.", q.Get("list-type"))
			}
			o.spec = opListObjectsV2
		default:
			o.spec = opListObjects
		}
	case http.MethodHead:
		o.spec = opHeadBucket
	case http.MethodPut:
		if q.Has("versioning") {
			return errNotImplemented.withMessage("Bucket versioning is not implemented.")
		}
		o.spec = opCreateBucket
	case http.MethodDelete:
		o.spec = opDeleteBucket
	case http.MethodPost:
		if !q.Has("delete") {
			return errNotImplemented.withMessage("POST object uploads are not implemented.")
		}
		o.spec = opDeleteObjects
	default:
		return errMethodNotAllowed
	}
	return nil
}

func objectOp(o *op, r *http.Request) error {
	q := o.query
	copying := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodGet:
		switch {
		case q.Has("uploadId"):
			o.spec = opListParts
		case q.Has("attributes"):
			o.spec = opGetObjectAttributes
		case q.Has("tagging"):
			o.spec = opGetObjectTagging
		default:
			o.spec = opGetObject
		}
	case http.MethodHead:
		o.spec = opHeadObject
	case http.MethodPut:
		switch {
		case q.Has("tagging"):
			o.spec = opPutObjectTagging
		case q.Has("uploadId") || q.Has("partNumber"):
			if copying {
				o.spec = opUploadPartCopy
			} else {
				o.spec = opUploadPart
			}
		case copying:
			o.spec = opCopyObject
		default:
			o.spec = opPutObject
		}
	case http.MethodPost:
		switch {
		case q.Has("uploads"):
			o.spec = opCreateMultipart
		case q.Has("uploadId"):
			o.spec = opCompleteMultipart
		default:
			return errMethodNotAllowed
		}
	case http.MethodDelete:
		switch {
		case q.Has("uploadId"):
			o.spec = opAbortMultipart
		case q.Has("tagging"):
			o.spec = opDeleteObjectTagging
		default:
			o.spec = opDeleteObject
		}
	default:
		return errMethodNotAllowed
	}
	return nil
}

// hostBucket returns the bucket a virtual-host-style Host names, if it is a
// sub-domain of one of domains (each with a leading dot).
func hostBucket(host string, domains []string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		if len(host) > len(d) && strings.HasSuffix(host, d) {
			return host[:len(host)-len(d)], true
		}
	}
	return "", false
}

// checkKey enforces S3's rules for object keys.
func checkKey(key string) error {
	if len(key) > 1024 {
		return errKeyTooLong
	}
	if !utf8.ValidString(key) {
		return errInvalidArgument.withMessage("Object keys must be valid UTF-8.")
	}
	return nil
}

// ValidBucketName reports whether name follows S3's naming rules for new
// general purpose buckets: 3 to 63 lowercase letters, digits, dots and
// hyphens, starting and ending with a letter or digit, no "..", not an IP
// address, none of the reserved prefixes and suffixes. The admin API
// creates buckets under the same rules.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
		default:
			return false
		}
	}
	if strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	return true
}

// parseQuery decodes a raw query string. Unlike url.ParseQuery it keeps the
// first error rather than dropping bad pairs silently, and it treats ';' as
// an ordinary character.
func parseQuery(raw string) (url.Values, error) {
	q := make(url.Values)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return q, errInvalidArgument.withMessage("The query string is not correctly URL-encoded.")
		}
		q[k] = append(q[k], v)
	}
	return q, nil
}
