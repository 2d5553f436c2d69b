package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role of a certificate: what its holder may do.
type Role string

// The roles.
const (
	RoleTenant  Role = "tenant"  // meta/gateway nodes: hold the cluster secret; may do everything
	RoleStorage Role = "storage" // a contributor's storage node: may only hold and serve shards
)

// Errors. Each error from this package that refuses a peer, a certificate
// or an enrollment wraps one of them, with detail.
var (
	ErrNotTrusted   = errors.New("pki: not issued by the cluster CA")
	ErrExpired      = errors.New("pki: expired or not yet valid")
	ErrBadCert      = errors.New("pki: not a valid node certificate")
	ErrRole         = errors.New("pki: wrong role")
	ErrWrongNode    = errors.New("pki: not the expected node")
	ErrRevoked      = errors.New("pki: certificate revoked") // for callers' checks: this package keeps no revocation list
	ErrBadToken     = errors.New("pki: malformed join token or enrollment message")
	ErrNotAuthentic = errors.New("pki: not authenticated by the join token")
)

// Peer is who a verified certificate says its holder is.
type Peer struct {
	NodeID   string
	Role     Role
	Zone     string // the storage node's zone, bound by the invite ("" for tenant certs is fine)
	Serial   string // hex serial
	NotAfter time.Time
}

// ParsePeer reads the claims of a node certificate. It does not check
// who issued it: Verify does, and the TLS configurations of this package
// do during the handshake.
func ParsePeer(cert *x509.Certificate) (Peer, error) {
	p := Peer{
		NodeID:   cert.Subject.CommonName,
		Serial:   cert.SerialNumber.Text(16),
		NotAfter: cert.NotAfter,
	}
	if cert.IsCA {
		return Peer{}, fmt.Errorf("%w: %s is a CA certificate", ErrBadCert, p.NodeID)
	}
	var haveRole, haveZone bool
	for _, ou := range cert.Subject.OrganizationalUnit {
		k, v, _ := strings.Cut(ou, ":")
		switch {
		case k == "role" && !haveRole:
			p.Role, haveRole = Role(v), true
		case k == "zone" && !haveZone:
			p.Zone, haveZone = v, true
		default:
			return Peer{}, fmt.Errorf("%w: unexpected organizational unit %q in %s's certificate", ErrBadCert, ou, p.NodeID)
		}
	}
	if err := checkClaims(p.NodeID, p.Role, p.Zone); err != nil {
		return Peer{}, fmt.Errorf("%w: %w", ErrBadCert, err)
	}
	return p, nil
}

// Verify checks that a presented chain (leaf first, DER) was issued by
// the CA in pool and is valid now, for any use, and returns its Peer.
func Verify(pool *x509.CertPool, rawCerts [][]byte) (Peer, error) {
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, der := range rawCerts {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return Peer{}, fmt.Errorf("%w: %w", ErrBadCert, err)
		}
		certs[i] = c
	}
	return verify(pool, certs, x509.ExtKeyUsageAny)
}

// verify is Verify for parsed certificates, for one extended key usage.
func verify(pool *x509.CertPool, certs []*x509.Certificate, usage x509.ExtKeyUsage) (Peer, error) {
	if len(certs) == 0 {
		return Peer{}, fmt.Errorf("%w: no certificate", ErrNotTrusted)
	}
	opts := x509.VerifyOptions{
		Roots:         pool,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		if inv, ok := errors.AsType[x509.CertificateInvalidError](err); ok && inv.Reason == x509.Expired {
			return Peer{}, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return Peer{}, fmt.Errorf("%w: %w", ErrNotTrusted, err)
	}
	return ParsePeer(certs[0])
}
