package s3gw

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// authPresignedV2 verifies a SigV2 presigned URL, whose query carries
// AWSAccessKeyId, Expires (seconds since the epoch) and Signature: what the
// AWS CLI v1 ("aws s3 presign") and boto2 produce by default, and what S3
// still accepts. Cairn accepts it for GET and HEAD only, the requests such
// URLs are shared for, so that no SigV2 signature can write; SigV2 in the
// Authorization header stays refused (authenticate).
//
// As the S3 documentation specifies ("Signing and authenticating REST
// requests", "Query string request authentication alternative"):
//
//	Signature    = Base64(HMAC-SHA1(secret, StringToSign))
//	StringToSign = Verb + "\n" + Content-MD5 + "\n" + Content-Type + "\n" +
//	               Expires + "\n" + CanonicalizedAmzHeaders + CanonicalizedResource
//
// Unlike SigV4, nothing limits how far ahead Expires may be (S3 does not),
// and query parameters other than the sub-resources (the prefix of a
// listing, say) are not signed.
func (s *Server) authPresignedV2(r *http.Request, q url.Values) (*authInfo, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, errAuthMechanism
	}
	accessKey, sig, expires := q.Get("AWSAccessKeyId"), q.Get("Signature"), q.Get("Expires")
	if accessKey == "" || sig == "" || expires == "" {
		return nil, errAccessDenied.withMessage("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return nil, errAccessDenied.withMessage("Invalid date (should be seconds since epoch): %s", expires)
	}
	if s.cfg.Now().Unix() > exp {
		return nil, errAccessDenied.withMessage("Request has expired")
	}
	secret, policy, err := s.lookupKey(r.Context(), accessKey)
	if err != nil {
		return nil, err // ErrInvalidAccessKeyID maps to InvalidAccessKeyId
	}
	bucket, _ := hostBucket(r.Host, s.domains)
	sts := stringToSignV2(r, expires, bucket)
	want := signV2(secret, sts)
	// A '+' of the signature sent without percent-encoding was decoded as a
	// space. Base64 has no spaces, so undoing that cannot make a wrong
	// signature match.
	got := strings.ReplaceAll(sig, " ", "+")
	if !hmac.Equal([]byte(want), []byte(got)) {
		s.log.Debug("signature mismatch", "access_key", accessKey, "string_to_sign", sts)
		return nil, errSignatureDoesNotMatch
	}
	return &authInfo{accessKey: accessKey, presigned: true, payload: unsignedPayload, policy: policy}, nil
}

// signV2 is Base64(HMAC-SHA1(secret, stringToSign)).
func signV2(secret, stringToSign string) string {
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// stringToSignV2 is the SigV2 string to sign of r. date fills the Date
// position: for a presigned URL, the Expires parameter as sent. bucket is
// the bucket a virtual-host-style Host names, "" for path style.
func stringToSignV2(r *http.Request, date, bucket string) string {
	var b strings.Builder
	for _, v := range []string{r.Method, r.Header.Get("Content-Md5"), r.Header.Get("Content-Type"), date} {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	writeAmzHeadersV2(&b, r.Header)
	// CanonicalizedResource: the bucket, whichever the addressing style,
	// then the path exactly as sent, then the sub-resources.
	if bucket != "" {
		b.WriteString("/" + bucket)
	}
	b.WriteString(requestPath(r))
	writeSubResourcesV2(&b, r.URL.RawQuery)
	return b.String()
}

// writeAmzHeadersV2 writes CanonicalizedAmzHeaders: every x-amz-* header as
// "name:value\n", names in lower case and sorted, values trimmed, the values
// of a repeated header joined with ','.
func writeAmzHeadersV2(b *strings.Builder, h http.Header) {
	var names []string
	for k := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range h.Values(name) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteByte('\n')
	}
}

// writeSubResourcesV2 writes the sub-resources of a CanonicalizedResource:
// "?" and the signed parameters of rawQuery, sorted by name (stably, as
// botocore does), each with its decoded value if it has one ("?acl",
// "?response-content-type=text/plain").
func writeSubResourcesV2(b *strings.Builder, rawQuery string) {
	type sub struct{ name, entry string }
	var subs []sub
	for _, p := range strings.Split(rawQuery, "&") {
		name, v, hasValue := strings.Cut(p, "=")
		if !subResourceV2(name) {
			continue
		}
		entry := name
		if hasValue {
			if dv, err := url.QueryUnescape(v); err == nil { // authenticate refused undecodable queries
				v = dv
			}
			entry += "=" + v
		}
		subs = append(subs, sub{name, entry})
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	for i, s := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(s.entry)
	}
}

// subResourceV2 reports whether a query parameter enters the SigV2
// CanonicalizedResource: the sub-resources and response-* overrides the S3
// documentation lists, then those botocore adds for later sub-resources
// (HmacV1Auth.QSAOfInterest), so that botocore's URLs verify. No other
// parameter is signed.
func subResourceV2(name string) bool {
	switch name {
	case "acl", "delete", "lifecycle", "location", "logging", "notification",
		"partNumber", "policy", "requestPayment", "uploadId", "uploads",
		"versionId", "versioning", "versions", "website",
		"response-cache-control", "response-content-disposition",
		"response-content-encoding", "response-content-language",
		"response-content-type", "response-expires":
		return true
	case "accelerate", "analytics", "cors", "defaultObjectAcl", "inventory",
		"metrics", "object-lock", "replication", "restore", "select",
		"select-type", "storageClass", "tagging", "torrent":
		return true
	}
	return false
}

// requestPath returns the path of r as the client sent it, percent-encoding
// and all: the request-target up to the query, or, when that is not in
// origin form, the URL's escaped path.
func requestPath(r *http.Request) string {
	if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		return p
	}
	return r.URL.EscapedPath()
}
