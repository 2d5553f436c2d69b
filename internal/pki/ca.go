package pki

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"cairn/internal/nodeauth"
)

// caCommonName is the subject of every cluster's CA certificate; clusters
// differ by key.
const caCommonName = "Cairn cluster CA"

// clockSkew is how far before its issue a certificate becomes valid, so
// that a peer whose clock is a little behind the CA's accepts it at once.
const clockSkew = 5 * time.Minute

// CA is the cluster certificate authority. Safe for concurrent use.
type CA struct {
	cert *x509.Certificate
	key  ed25519.PrivateKey
}

// DeriveCA derives the cluster CA from the cluster secret: its Ed25519 key
// from nodeauth.DeriveKey(secret, "cluster ca v1") as seed, its certificate
// self-signed from a fixed template (serial 1, subject "Cairn cluster CA",
// valid from 2025 to 2125, may sign node certificates only). Ed25519
// signatures are deterministic, so every node that holds the secret derives
// the same certificate bytes.
func DeriveCA(secret []byte) (*CA, error) {
	seed, err := nodeauth.DeriveKey(secret, "cluster ca v1")
	if err != nil {
		return nil, fmt.Errorf("pki: derive CA: %w", err)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	// The key ID is set here, not left to crypto/x509, whose choice of
	// hash has changed between Go releases (SHA-1, then truncated SHA-256).
	keyID := sha256.Sum256(pub)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: caCommonName},
		NotBefore:             time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2125, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs leaves, never another CA
		SubjectKeyId:          keyID[:20],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pki: derive CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: derive CA: %w", err)
	}
	return &CA{cert: cert, key: key}, nil
}

// Cert returns the CA certificate. The caller must not modify it.
func (ca *CA) Cert() *x509.Certificate { return ca.cert }

// CertDER returns the CA certificate's DER bytes. The caller must not
// modify them.
func (ca *CA) CertDER() []byte { return ca.cert.Raw }

// Fingerprint returns the hex SHA-256 of the CA certificate's DER bytes,
// which a join token carries so that a joiner knows which CA to accept.
func (ca *CA) Fingerprint() string { return fingerprint(ca.cert.Raw) }

// Pool returns a new pool holding the CA certificate alone.
func (ca *CA) Pool() *x509.CertPool { return poolOf(ca.cert) }

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func poolOf(ca *x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}

// Issue signs a certificate for pub, an ed25519.PublicKey, that binds it to
// nodeID, role and zone (see the package doc for the encoding). It is valid
// from a few minutes ago, for clock skew, until validity from now; its
// serial is 128 random bits. A storage certificate must name a zone.
func (ca *CA) Issue(pub crypto.PublicKey, nodeID string, role Role, zone string, validity time.Duration) (der []byte, err error) {
	return ca.issue(pub, nodeID, role, zone, time.Now(), validity)
}

// issue is Issue at the time now.
func (ca *CA) issue(pub crypto.PublicKey, nodeID string, role Role, zone string, now time.Time, validity time.Duration) ([]byte, error) {
	if err := checkClaims(nodeID, role, zone); err != nil {
		return nil, fmt.Errorf("pki: issue: %w", err)
	}
	key, ok := pub.(ed25519.PublicKey)
	if !ok || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("pki: issue for %s: want an Ed25519 public key, not %T", nodeID, pub)
	}
	if validity <= 0 {
		return nil, fmt.Errorf("pki: issue for %s: validity %v is not positive", nodeID, validity)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("pki: issue for %s: %w", nodeID, err)
	}
	ou := []string{"role:" + string(role)}
	if zone != "" {
		ou = append(ou, "zone:"+zone)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: nodeID, OrganizationalUnit: ou},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key, ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki: issue for %s: %w", nodeID, err)
	}
	return der, nil
}

// checkClaims says what is wrong with a certificate's claims, or nil.
func checkClaims(nodeID string, role Role, zone string) error {
	switch {
	case !validName(nodeID):
		return fmt.Errorf("node ID %q: want 1 to 64 of A-Z a-z 0-9 . _ -", nodeID)
	case role != RoleTenant && role != RoleStorage:
		return fmt.Errorf("role %q: want %q or %q", role, RoleTenant, RoleStorage)
	case zone != "" && !validName(zone):
		return fmt.Errorf("zone %q: want 1 to 64 of A-Z a-z 0-9 . _ -", zone)
	case role == RoleStorage && zone == "":
		return errors.New("a storage node needs a zone")
	}
	return nil
}

// validName reports whether s is a node ID or zone: 1 to 64 of
// A-Z a-z 0-9 . _ -, as the node daemon accepts them.
func validName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
