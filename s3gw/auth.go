package s3gw

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The values of x-amz-content-sha256 besides a hex SHA-256.
const (
	unsignedPayload              = "UNSIGNED-PAYLOAD"
	streamingPayload             = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingPayloadTrailer      = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer     = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingECDSAPayload        = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	streamingECDSAPayloadTrailer = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"

	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	scopeDate      = "20060102"
	maxPresignAge  = 7 * 24 * time.Hour
)

// authInfo is what authentication established about a request: who signed
// it, how its payload is protected, and what is needed to check the
// signatures of an aws-chunked payload.
type authInfo struct {
	accessKey string // "" for an anonymous (unsigned) request
	presigned bool
	// payload is the x-amz-content-sha256 value the signature covers: a hex
	// SHA-256, or one of the constants above.
	payload string

	// For signed aws-chunked payloads.
	signingKey []byte
	signature  string // the seed signature
	amzDate    string
	scope      string

	// policy is what the key may do (nil: everything).
	policy *KeyPolicy
}

// sigV4 is a parsed SigV4 signature, from the Authorization header or from
// the query of a presigned URL.
type sigV4 struct {
	accessKey     string
	date          string // yyyymmdd of the scope
	region        string
	service       string
	signedHeaders []string
	signature     string
	when          time.Time
	amzDate       string // when, as it enters the string to sign
}

func (v *sigV4) scope() string {
	return v.date + "/" + v.region + "/" + v.service + "/aws4_request"
}

// authenticate verifies the request's signature and returns who signed it.
// It accepts exactly one of: a SigV4 Authorization header, a SigV4
// presigned URL (X-Amz-Algorithm in the query), or a SigV2 presigned URL
// (AWSAccessKeyId in the query) for GET and HEAD. A SigV4 payload is
// verified later, while it is read: see openPayload.
func (s *Server) authenticate(r *http.Request) (*authInfo, error) {
	q, qerr := parseQuery(r.URL.RawQuery) // on error, q holds the pairs before the bad one
	authz := r.Header.Get("Authorization")
	presignedV4 := q.Has("X-Amz-Algorithm")
	presignedV2 := q.Has("AWSAccessKeyId")
	switch {
	case authz != "" && (presignedV4 || presignedV2), presignedV4 && presignedV2:
		return nil, errInvalidArgument.withMessage("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified.")
	case strings.HasPrefix(authz, sigV4Algorithm+" "):
		return s.authHeader(r, authz)
	case authz != "":
		return nil, errAuthMechanism // SigV2 ("AWS AKID:sig") or unknown
	case qerr != nil: // only the query could authenticate the request, and it does not decode
		return nil, qerr
	case presignedV4:
		return s.authPresigned(r, q)
	case presignedV2:
		return s.authPresignedV2(r, q)
	}
	return &authInfo{payload: unsignedPayload}, nil // anonymous
}

func (s *Server) authHeader(r *http.Request, authz string) (*authInfo, error) {
	malformed := errAuthorizationHeaderMalformed
	var cred, signed, sig string
	for _, f := range strings.Split(authz[len(sigV4Algorithm)+1:], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	if cred == "" || signed == "" || sig == "" {
		return nil, malformed.withMessage("The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}
	v, err := s.parseCredential(cred, malformed, "The authorization header is malformed; ")
	if err != nil {
		return nil, err
	}
	v.signedHeaders = strings.Split(signed, ";")
	v.signature = sig

	// The request time: x-amz-date, or else Date.
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		v.when, err = time.Parse(amzDateFormat, d)
	} else if d := r.Header.Get("Date"); d != "" {
		v.when, err = http.ParseTime(d)
	} else {
		err = errors.New("no date")
	}
	if err != nil {
		return nil, errAccessDenied.withMessage("AWS authentication requires a valid Date or x-amz-date header")
	}
	v.when = v.when.UTC()
	v.amzDate = v.when.Format(amzDateFormat)
	if v.when.Format(scopeDate) != v.date {
		return nil, malformed.withMessage("The authorization header is malformed; Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", v.date, v.when.Format(scopeDate))
	}
	if skew := s.cfg.Now().Sub(v.when); skew > s.cfg.MaxSkew || skew < -s.cfg.MaxSkew {
		return nil, errRequestTimeTooSkewed
	}

	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return nil, errMissingSecurityHeader.withMessage("Missing required header for this request: x-amz-content-sha256")
	}
	if err := checkPayloadHash(payload); err != nil {
		return nil, err
	}
	if err := checkSignedHeaders(r, v.signedHeaders, malformed); err != nil {
		return nil, err
	}
	a, err := s.verify(r, v, payload, r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Server) authPresigned(r *http.Request, q url.Values) (*authInfo, error) {
	bad := errAuthorizationQueryParams
	get := func(k string) string { return q.Get(k) }
	if get("X-Amz-Algorithm") != sigV4Algorithm {
		return nil, bad.withMessage("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if get(k) == "" {
			return nil, bad
		}
	}
	v, err := s.parseCredential(get("X-Amz-Credential"), bad, "Error parsing the X-Amz-Credential parameter; ")
	if err != nil {
		return nil, err
	}
	v.signedHeaders = strings.Split(get("X-Amz-SignedHeaders"), ";")
	v.signature = get("X-Amz-Signature")
	v.when, err = time.Parse(amzDateFormat, get("X-Amz-Date"))
	if err != nil {
		return nil, bad.withMessage("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	v.amzDate = get("X-Amz-Date")
	if v.when.Format(scopeDate) != v.date {
		return nil, bad.withMessage("Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", v.date, v.when.Format(scopeDate))
	}
	expires, err := strconv.ParseInt(get("X-Amz-Expires"), 10, 64)
	switch {
	case err != nil:
		return nil, bad.withMessage("X-Amz-Expires should be a number")
	case expires < 0:
		return nil, bad.withMessage("X-Amz-Expires must be non-negative")
	case time.Duration(expires)*time.Second > maxPresignAge:
		return nil, bad.withMessage("X-Amz-Expires must be less than a week (in seconds) that is 7 days")
	}
	now := s.cfg.Now()
	if now.Before(v.when.Add(-s.cfg.MaxSkew)) {
		return nil, errAccessDenied.withMessage("Request is not valid yet")
	}
	if now.After(v.when.Add(time.Duration(expires) * time.Second)) {
		return nil, errAccessDenied.withMessage("Request has expired")
	}
	payload := get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = unsignedPayload
	}
	if err := checkPayloadHash(payload); err != nil {
		return nil, err
	}
	if strings.HasPrefix(payload, "STREAMING-") {
		return nil, errInvalidRequest.withMessage("A presigned URL cannot carry an aws-chunked payload.")
	}
	if err := checkSignedHeaders(r, v.signedHeaders, bad); err != nil {
		return nil, err
	}
	// The signature covers the query without itself.
	var kept []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if !strings.HasPrefix(p, "X-Amz-Signature=") {
			kept = append(kept, p)
		}
	}
	a, err := s.verify(r, v, payload, strings.Join(kept, "&"))
	if err != nil {
		return nil, err
	}
	a.presigned = true
	return a, nil
}

// parseCredential parses "AKID/yyyymmdd/region/s3/aws4_request" and checks
// the scope against this endpoint.
func (s *Server) parseCredential(cred string, bad *APIError, prefix string) (*sigV4, error) {
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return nil, bad.withMessage("%sthe Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".", prefix)
	}
	n := len(parts)
	v := &sigV4{
		accessKey: strings.Join(parts[:n-4], "/"),
		date:      parts[n-4],
		region:    parts[n-3],
		service:   parts[n-2],
	}
	switch {
	case v.accessKey == "":
		return nil, bad.withMessage("%sthe Credential is mal-formed; the access key is empty.", prefix)
	case len(v.date) != 8:
		return nil, bad.withMessage("%sinvalid credential date %q.", prefix, v.date)
	case v.region != s.cfg.Region:
		return nil, bad.withMessage("%sthe region '%s' is wrong; expecting '%s'", prefix, v.region, s.cfg.Region)
	case v.service != "s3":
		return nil, bad.withMessage("%sincorrect service %q. This endpoint belongs to \"s3\".", prefix, v.service)
	case parts[n-1] != "aws4_request":
		return nil, bad.withMessage("%sincorrect terminal %q. This endpoint uses \"aws4_request\".", prefix, parts[n-1])
	}
	return v, nil
}

// checkPayloadHash accepts the values of x-amz-content-sha256 Cairn
// implements.
func checkPayloadHash(p string) error {
	switch p {
	case unsignedPayload, streamingPayload, streamingPayloadTrailer, streamingUnsignedTrailer:
		return nil
	case streamingECDSAPayload, streamingECDSAPayloadTrailer:
		return errNotImplemented.withMessage("SigV4a (ECDSA) signatures are not implemented.")
	}
	if len(p) == 64 && isLowerHex(p) {
		return nil
	}
	return errInvalidArgument.withMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.")
}

// checkSignedHeaders requires host to be signed, and every x-amz-* header
// present to be signed, as S3 does: otherwise anyone on the path could add
// metadata or change a checksum without breaking the signature.
func checkSignedHeaders(r *http.Request, signed []string, bad *APIError) error {
	set := make(map[string]bool, len(signed))
	for _, h := range signed {
		set[h] = true
	}
	if !set["host"] {
		return bad.withMessage("The host header must be signed.")
	}
	var missing []string
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") && !set[lk] {
			missing = append(missing, lk)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return errAccessDenied.withMessage("There were headers present in the request which were not signed: %s", strings.Join(missing, ", "))
	}
	return nil
}

// verify computes the signature of r and compares it with v's.
func (s *Server) verify(r *http.Request, v *sigV4, payload, rawQuery string) (*authInfo, error) {
	secret, policy, err := s.lookupKey(r.Context(), v.accessKey)
	if err != nil {
		return nil, err // ErrInvalidAccessKeyID maps to InvalidAccessKeyId
	}
	cr := canonicalRequest(r, v.signedHeaders, payload, rawQuery)
	sts := stringToSign(v.amzDate, v.scope(), cr)
	key := signingKey(secret, v.date, v.region, v.service)
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(v.signature)) {
		s.log.Debug("signature mismatch", "access_key", v.accessKey, "canonical_request", cr, "string_to_sign", sts)
		return nil, errSignatureDoesNotMatch
	}
	return &authInfo{
		accessKey:  v.accessKey,
		policy:     policy,
		payload:    payload,
		signingKey: key,
		signature:  want,
		amzDate:    v.amzDate,
		scope:      v.scope(),
	}, nil
}

// canonicalRequest builds the SigV4 canonical request of r, the S3 way: the
// path is URI-encoded once (not normalised, not double-encoded).
func canonicalRequest(r *http.Request, signed []string, payload, rawQuery string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

func canonicalHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if r.Header.Get("Content-Length") == "" && r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return strings.Join(r.TransferEncoding, ",")
		}
	}
	vals := r.Header.Values(name)
	trimmed := make([]string, len(vals))
	for i, v := range vals {
		trimmed[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(trimmed, ",")
}

// canonicalQuery decodes every parameter and re-encodes it with uriEncode,
// sorted by name and then value.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var ps []kv
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		ps = append(ps, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// uriEncode percent-encodes s as SigV4 specifies: every byte but the
// unreserved A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex), and '/' too
// when encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && (s[i] != '/' || encodeSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
