package pki

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"cairn/internal/durable"
)

// TenantValidity is how long a tenant node's certificate is valid. A
// tenant node can issue itself a new one at any start, so it is long.
const TenantValidity = 10 * 365 * 24 * time.Hour

// Identity is a node's own key and certificate, and the CA it trusts.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer // ed25519.PrivateKey
	CA   *x509.Certificate
	Peer Peer // parsed from Cert
}

// NewTenantIdentity makes a fresh Ed25519 key and issues it a tenant
// certificate for nodeID, valid for TenantValidity.
func NewTenantIdentity(ca *CA, nodeID string) (*Identity, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: tenant identity: %w", err)
	}
	der, err := ca.Issue(pub, nodeID, RoleTenant, "", TenantValidity)
	if err != nil {
		return nil, err
	}
	return newIdentity(der, key, ca.cert)
}

// newIdentity returns the identity of key and its certificate, having
// checked that the certificate chains to ca, is valid now, and certifies
// key.
func newIdentity(certDER []byte, key ed25519.PrivateKey, ca *x509.Certificate) (*Identity, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCert, err)
	}
	peer, err := verify(poolOf(ca), []*x509.Certificate{cert}, x509.ExtKeyUsageAny)
	if err != nil {
		return nil, err
	}
	if !key.Public().(ed25519.PublicKey).Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: the certificate of %s is for another key", ErrBadCert, peer.NodeID)
	}
	return &Identity{Cert: cert, Key: key, CA: ca, Peer: peer}, nil
}

// Pool returns a new pool holding the identity's CA certificate alone.
func (id *Identity) Pool() *x509.CertPool { return poolOf(id.CA) }

// TLSCertificate returns the identity's certificate and key for a
// tls.Config. It holds the node's certificate alone: peers have the CA.
func (id *Identity) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
}

// PEM block types of an identity file: the key, then the node's
// certificate, then the CA's.
const (
	pemKey  = "PRIVATE KEY"
	pemCert = "CERTIFICATE"
)

// Save writes the identity to one PEM file (the private key in PKCS #8,
// the node's certificate, the CA certificate), atomically and durably,
// readable by its owner alone (mode 0600).
func (id *Identity) Save(path string) error {
	key, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		return fmt.Errorf("pki: save identity: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemKey, Bytes: key})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: pemCert, Bytes: id.Cert.Raw})...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: pemCert, Bytes: id.CA.Raw})...)
	if err := durable.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("pki: save identity: %w", err)
	}
	return nil
}

// LoadIdentity reads an identity that Save wrote, and checks that its
// certificate chains to the CA in the file, is valid now (ErrExpired if
// not: the node must enroll again) and certifies its key. The CA is the
// one in the file: the file is the node's root of trust.
func LoadIdentity(path string) (*Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: load identity: %w", err)
	}
	id, err := parseIdentity(data)
	if err != nil {
		return nil, fmt.Errorf("pki: load identity %s: %w", path, err)
	}
	return id, nil
}

func parseIdentity(data []byte) (*Identity, error) {
	var key []byte
	var certs [][]byte
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == pemKey && key == nil:
			key = b.Bytes
		case b.Type == pemCert && len(certs) < 2:
			certs = append(certs, b.Bytes)
		default:
			return nil, fmt.Errorf("%w: unexpected %s block", ErrBadCert, b.Type)
		}
	}
	if strings.TrimSpace(string(rest)) != "" || key == nil || len(certs) != 2 {
		return nil, fmt.Errorf("%w: want a private key and two certificates in PEM", ErrBadCert)
	}
	k, err := x509.ParsePKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCert, err)
	}
	edKey, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T key, not Ed25519", ErrBadCert, k)
	}
	ca, err := x509.ParseCertificate(certs[1])
	if err != nil {
		return nil, fmt.Errorf("%w: CA: %w", ErrBadCert, err)
	}
	return newIdentity(certs[0], edKey, ca)
}
