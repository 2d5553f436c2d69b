package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"cairn/internal/nodeauth"
)

// tokenPurpose is the key derivation purpose of the admin token;
// nodeauth.DeriveKey prefixes it with "cairn ".
const tokenPurpose = "admin token v1"

// Token derives the admin token from the cluster secret: every node of a
// cluster accepts the same token without configuration, and nothing else
// is derived the same way. It is "cairn-" and 48 hex digits (192 bits).
func Token(secret []byte) (string, error) {
	key, err := nodeauth.DeriveKey(secret, tokenPurpose)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return "cairn-" + hex.EncodeToString(key[:24]), nil
}

// authorized reports whether r carries the token want (a SHA-256, so that
// the comparison is constant-time whatever the lengths).
func authorized(r *http.Request, want [sha256.Size]byte) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
