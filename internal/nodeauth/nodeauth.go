// Package nodeauth authenticates requests between the nodes of a cluster
// with the cluster secret: every request carries an HMAC-SHA256 over its
// method, path, query, time and body hash, under a key derived from the
// secret. A node that does not know the secret can neither call another
// node nor be called as one.
//
// The signature does not hide anything (TLS would); it proves that the
// caller holds the secret, that the request was not altered, and that it
// is fresh (within MaxSkew). A body may go unsigned (UnsignedPayload) only
// where it is content-addressed and checked against its address anyway,
// as shards are.
package nodeauth

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/zeebo/blake3"
)

// Header names and values of the scheme.
const (
	HeaderDate      = "X-Cairn-Date"
	HeaderBodyHash  = "X-Cairn-Content-Sha256"
	scheme          = "CAIRN-HMAC-SHA256"
	dateFormat      = "20060102T150405Z"
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// MaxSkew is how far a request's time may be from the verifier's clock.
	MaxSkew = 5 * time.Minute
)

// ErrUnauthorized is returned by Verify for any request it refuses.
var ErrUnauthorized = errors.New("nodeauth: request not signed with the cluster secret")

// DeriveKey derives a 32-byte key for one purpose (such as "node-api" or
// "gossip") from the cluster secret, so that no two uses share a key.
func DeriveKey(secret []byte, purpose string) ([]byte, error) {
	if len(secret) < 16 {
		return nil, errors.New("nodeauth: the cluster secret must be at least 16 bytes")
	}
	return hkdf.Key(sha256.New, secret, []byte("cairn cluster v1"), "cairn "+purpose, 32)
}

// Signer signs and verifies requests with one key. Safe for concurrent use.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a signer for the node API of the cluster with this
// secret. now is the clock (nil: time.Now).
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	key, err := DeriveKey(secret, "node-api")
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}, nil
}

// Sign signs r. bodyHash is the body's hash (BodyHash, or BodyHashBLAKE3),
// or UnsignedPayload for a content-addressed body.
func (s *Signer) Sign(r *http.Request, bodyHash string) {
	date := s.now().UTC().Format(dateFormat)
	r.Header.Set(HeaderDate, date)
	r.Header.Set(HeaderBodyHash, bodyHash)
	r.Header.Set("Authorization", scheme+" "+hex.EncodeToString(s.mac(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, date, bodyHash)))
}

// Verify checks r's signature and freshness. It does not read the body:
// when the returned body hash is not UnsignedPayload, the caller must check
// the body against it (BodyMatches) before acting on the request.
func (s *Signer) Verify(r *http.Request) (bodyHash string, err error) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), scheme+" ")
	if !ok {
		return "", fmt.Errorf("%w: no %s authorization", ErrUnauthorized, scheme)
	}
	got, err := hex.DecodeString(auth)
	if err != nil {
		return "", fmt.Errorf("%w: malformed signature", ErrUnauthorized)
	}
	date := r.Header.Get(HeaderDate)
	t, err := time.Parse(dateFormat, date)
	if err != nil {
		return "", fmt.Errorf("%w: bad %s", ErrUnauthorized, HeaderDate)
	}
	if d := s.now().Sub(t); d > MaxSkew || d < -MaxSkew {
		return "", fmt.Errorf("%w: request time %s is %s from ours", ErrUnauthorized, date, d.Round(time.Second))
	}
	bodyHash = r.Header.Get(HeaderBodyHash)
	if bodyHash == "" {
		return "", fmt.Errorf("%w: no %s", ErrUnauthorized, HeaderBodyHash)
	}
	if !hmac.Equal(got, s.mac(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, date, bodyHash)) {
		return "", fmt.Errorf("%w: signature does not match", ErrUnauthorized)
	}
	return bodyHash, nil
}

func (s *Signer) mac(method, path, query, date, bodyHash string) []byte {
	h := hmac.New(sha256.New, s.key)
	for _, part := range []string{scheme, method, path, query, date, bodyHash} {
		h.Write([]byte(part))
		h.Write([]byte{'\n'})
	}
	return h.Sum(nil)
}

// BodyHash returns the hex SHA-256 of a body, as Sign and Verify use it.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// blake3Prefix marks a body hash taken with BLAKE3.
const blake3Prefix = "blake3="

// BodyHashBLAKE3 returns "blake3=" and the hex BLAKE3 (32 bytes) of a body:
// a body hash that Sign and Verify take as they take BodyHash's, for bulk
// bodies (shards), which BLAKE3 hashes at about twice SHA-256's speed.
func BodyHashBLAKE3(body []byte) string {
	sum := blake3.Sum256(body)
	return blake3Prefix + hex.EncodeToString(sum[:])
}

// BodyMatches reports whether body has the hash bodyHash, in BodyHash's
// form or BodyHashBLAKE3's. (UnsignedPayload matches no body: the caller
// decides where an unsigned body is allowed.)
func BodyMatches(body []byte, bodyHash string) bool {
	want := BodyHash
	if strings.HasPrefix(bodyHash, blake3Prefix) {
		want = BodyHashBLAKE3
	}
	return hmac.Equal([]byte(want(body)), []byte(bodyHash))
}
