package s3gw

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
)

// Server-side encryption, as S3 asks for it. Every header either takes
// effect or is refused:
//
//   - SSE-S3 (x-amz-server-side-encryption: AES256) is accepted when the
//     Backend encrypts objects at rest (Encrypter.EncryptsAtRest), and
//     answered with x-amz-server-side-encryption: AES256 on PUT, GET, HEAD
//     and copies of the objects written with it; otherwise refused with
//     501 NotImplemented.
//   - SSE-C (x-amz-server-side-encryption-customer-algorithm AES256, -key,
//     -key-MD5) is accepted when the Backend encrypts with customer keys
//     (Encrypter.CustomerKeys). The key and its MD5 are checked here; the
//     object records only NewCustomerKeyCheck of the key. Reading the
//     object (GET, HEAD, GetObjectAttributes, a copy's source) needs the
//     same key: without it 400 InvalidRequest, with another 403
//     AccessDenied, as S3 answers. As on S3, the key must not cross a
//     network in the clear: over plain HTTP it is refused unless the
//     client is on a loopback address (a local TLS-terminating proxy).
//   - SSE-KMS (aws:kms, aws:kms:dsse, and the KMS key, context and bucket
//     key headers) is refused with 501 NotImplemented: AWS has no error
//     for "no KMS configured" (its KMS errors name a key that does not
//     exist or may not be used), and NotImplemented is S3's code for a
//     header that implies functionality the service does not have, which
//     is the truth here and which clients do not retry.

// Encryption is the server-side encryption of an object, as S3 describes
// it.
type Encryption struct {
	// S3 is SSE-S3: x-amz-server-side-encryption: AES256.
	S3 bool
	// CustomerKey is the request's SSE-C key (32 bytes), in PutOptions
	// only: the Backend encrypts with it and must not store it.
	CustomerKey []byte
	// CustomerKeyCheck is NewCustomerKeyCheck of the SSE-C key: set in
	// PutOptions with CustomerKey, for the Backend to store; in
	// ObjectInfo, nil for an object not encrypted with a customer key.
	CustomerKeyCheck []byte
}

// Encrypter is the part of a Backend that encrypts objects. A Backend
// without it gets every SSE request refused.
type Encrypter interface {
	// EncryptsAtRest reports whether an object written now with SSE.S3
	// is encrypted before it is stored.
	EncryptsAtRest() bool
	// CustomerKeys reports whether the Backend encrypts objects with
	// PutOptions.SSE.CustomerKey (PutObject, UploadPart) and reads them
	// (Object.Open) with the key that CustomerKey(ctx) returns, failing
	// reads with another key or none.
	CustomerKeys() bool
}

// Errors of reading an object encrypted with a customer key; a Backend
// returns them too (UploadPart of an upload with another key).
var (
	// ErrCustomerKeyRequired: the object (or upload) is encrypted with a
	// customer key and the request gives none.
	ErrCustomerKeyRequired = &APIError{"InvalidRequest", http.StatusBadRequest, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."}
	// ErrCustomerKeyMismatch: the request's customer key is not the
	// object's.
	ErrCustomerKeyMismatch = &APIError{"AccessDenied", http.StatusForbidden, "Access Denied"}
	// ErrCustomerKeyNotApplicable: the request gives a customer key for
	// an object (or upload) encrypted without one.
	ErrCustomerKeyNotApplicable = &APIError{"InvalidRequest", http.StatusBadRequest, "The encryption parameters are not applicable to this object."}

	errKMS                  = errNotImplemented.withMessage("Server-side encryption with AWS KMS (aws:kms, aws:kms:dsse, KMS keys and S3 Bucket Keys) is not available: this store has no KMS.")
	errInvalidEncAlgorithm  = &APIError{"InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The Encryption request you specified is not valid. Supported value: AES256."}
	errSSECInsecure         = errInvalidRequest.withMessage("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
	errSSENotOnRead         = errInvalidArgument.withMessage("x-amz-server-side-encryption header is not supported for this operation.")
	errSSES3Unavailable     = errNotImplemented.withMessage("Server-side encryption (SSE-S3) is not available: this store does not encrypt objects at rest now (its gateway runs with sealing off).")
	errSSECUnavailable      = errNotImplemented.withMessage("Server-side encryption with customer keys (SSE-C) is not available in this store.")
	errSSEIncompatible      = errInvalidArgument.withMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
	errSSEMethodUnsupported = errInvalidArgument.withMessage("The encryption method specified is not supported")
)

type ctxKey int

const customerKeyCtx ctxKey = 1

// WithCustomerKey returns ctx carrying the request's SSE-C key, for the
// Backend's Object.Open.
func WithCustomerKey(ctx context.Context, key []byte) context.Context {
	if key == nil {
		return ctx
	}
	return context.WithValue(ctx, customerKeyCtx, key)
}

// CustomerKey returns the SSE-C key WithCustomerKey put in ctx, or nil.
func CustomerKey(ctx context.Context) []byte {
	k, _ := ctx.Value(customerKeyCtx).([]byte)
	return k
}

// keyCheckVersion is the first byte of a customer key check.
const keyCheckVersion = 1

// NewCustomerKeyCheck returns what an object stores to check a customer
// key later: a version byte, a random 16-byte salt and
// HMAC-SHA256(salt, key). It says nothing useful about a 256-bit key.
func NewCustomerKeyCheck(key []byte) []byte {
	out := make([]byte, 1+16, 1+16+sha256.Size)
	out[0] = keyCheckVersion
	_, _ = rand.Read(out[1:17])
	m := hmac.New(sha256.New, out[1:17])
	m.Write(key)
	return m.Sum(out)
}

// CustomerKeyMatches reports whether key is the key check was made of.
func CustomerKeyMatches(check, key []byte) bool {
	if len(check) != 1+16+sha256.Size || check[0] != keyCheckVersion || key == nil {
		return false
	}
	m := hmac.New(sha256.New, check[1:17])
	m.Write(key)
	return hmac.Equal(m.Sum(nil), check[17:])
}

// Header prefixes of SSE-C: the object's, and a copy source's.
const (
	ssecPrefix     = "X-Amz-Server-Side-Encryption-Customer-"
	ssecCopyPrefix = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
)

// customerKey is a request's SSE-C key and its MD5 as sent.
type customerKey struct {
	key []byte
	md5 string
}

// parseCustomerKey reads the SSE-C headers with prefix: nil when there
// are none, S3's errors when they are incomplete or wrong.
func (s *Server) parseCustomerKey(r *http.Request, prefix string) (*customerKey, error) {
	h := r.Header
	alg, key, sum := h.Get(prefix+"Algorithm"), h.Get(prefix+"Key"), h.Get(prefix+"Key-Md5")
	if alg == "" && key == "" && sum == "" {
		return nil, nil
	}
	switch {
	case alg == "":
		return nil, errInvalidArgument.withMessage("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	case alg != "AES256":
		return nil, errInvalidEncAlgorithm
	case key == "":
		return nil, errInvalidArgument.withMessage("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	case sum == "":
		return nil, errInvalidArgument.withMessage("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) != 32 {
		return nil, errInvalidArgument.withMessage("The secret key was invalid for the specified algorithm.")
	}
	if d := md5.Sum(k); base64.StdEncoding.EncodeToString(d[:]) != sum {
		return nil, errInvalidArgument.withMessage("The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	if r.TLS == nil && !fromLoopback(r) {
		return nil, errSSECInsecure
	}
	if e, ok := s.backend.(Encrypter); !ok || !e.CustomerKeys() {
		return nil, errSSECUnavailable
	}
	return &customerKey{key: k, md5: sum}, nil
}

// fromLoopback reports whether the request's peer is a loopback address.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeSSE reads the encryption a write asks for (PutObject,
// CreateMultipartUpload, a copy's destination), refusing what the Backend
// cannot do. The customer key, if any, is returned for the response
// headers.
func (s *Server) writeSSE(r *http.Request) (Encryption, *customerKey, error) {
	h := r.Header
	var enc Encryption
	switch v := h.Get("X-Amz-Server-Side-Encryption"); v {
	case "":
	case "AES256":
		enc.S3 = true
	case "aws:kms", "aws:kms:dsse":
		return enc, nil, errKMS
	default:
		return enc, nil, errSSEMethodUnsupported
	}
	if h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != "" || h.Get("X-Amz-Server-Side-Encryption-Context") != "" {
		return enc, nil, errInvalidArgument.withMessage("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
	}
	if strings.EqualFold(h.Get("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"), "true") {
		return enc, nil, errKMS
	}
	ck, err := s.parseCustomerKey(r, ssecPrefix)
	if err != nil {
		return enc, nil, err
	}
	if ck != nil {
		if enc.S3 {
			return enc, nil, errSSEIncompatible
		}
		enc.CustomerKey, enc.CustomerKeyCheck = ck.key, NewCustomerKeyCheck(ck.key)
	}
	if e, ok := s.backend.(Encrypter); enc.S3 && (!ok || !e.EncryptsAtRest()) {
		return enc, nil, errSSES3Unavailable
	}
	return enc, ck, nil
}

// readKey checks the customer key a read gives (with prefix: the
// object's, or a copy source's) against the object's encryption, and
// returns a context that carries it to Object.Open.
func (s *Server) readKey(ctx context.Context, r *http.Request, prefix string, info ObjectInfo) (context.Context, *customerKey, error) {
	ck, err := s.parseCustomerKey(r, prefix)
	if err != nil {
		return ctx, nil, err
	}
	switch check := info.SSE.CustomerKeyCheck; {
	case check == nil && ck != nil:
		return ctx, nil, ErrCustomerKeyNotApplicable
	case check == nil:
		return ctx, nil, nil
	case ck == nil:
		return ctx, nil, ErrCustomerKeyRequired
	case !CustomerKeyMatches(check, ck.key):
		return ctx, nil, ErrCustomerKeyMismatch
	}
	return WithCustomerKey(ctx, ck.key), ck, nil
}

// readSSE is readKey for the object a GET, HEAD or GetObjectAttributes
// names, which may not ask for SSE-S3 or SSE-KMS.
func (s *Server) readSSE(r *http.Request, info ObjectInfo) (context.Context, *customerKey, error) {
	if r.Header.Get("X-Amz-Server-Side-Encryption") != "" {
		return r.Context(), nil, errSSENotOnRead
	}
	return s.readKey(r.Context(), r, ssecPrefix, info)
}

// setSSEHeaders answers which encryption applies: SSE-S3's header for an
// object written with it, SSE-C's algorithm and key MD5 (the request's,
// which was checked) for one written with a customer key.
func setSSEHeaders(w http.ResponseWriter, enc Encryption, ck *customerKey) {
	h := w.Header()
	if enc.S3 {
		h.Set("X-Amz-Server-Side-Encryption", "AES256")
	}
	if ck != nil {
		h.Set(ssecPrefix+"Algorithm", "AES256")
		h.Set(ssecPrefix+"Key-Md5", ck.md5)
	}
}
