package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// ServerTLS returns a TLS 1.3-only server configuration that presents
// id's certificate and requires a client certificate chained to id's CA
// (tls.RequireAndVerifyClientCert), then calls check, if not nil, with the
// client's Peer: an error from check fails the handshake. check is where
// the caller refuses revoked serials (ErrRevoked) or roles (ErrRole); it
// is called from concurrent handshakes.
//
// Session resumption stays on: crypto/tls calls VerifyConnection, and so
// check, on resumed connections too, and resumes only while the client's
// chain is still valid and rooted in ClientCAs, so a ticket does not
// outlive a revocation or an expiry. (Go accepts no 0-RTT data over TCP.)
func ServerTLS(id *Identity, check func(Peer) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    id.Pool(),
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
				return fmt.Errorf("%w: no verified client certificate", ErrNotTrusted)
			}
			p, err := ParsePeer(cs.VerifiedChains[0][0])
			return accept(p, err, check)
		},
	}
}

// ClientTLS returns a TLS 1.3-only client configuration that presents id's
// certificate and verifies the server's chain against id's CA, then calls
// check, if not nil, with the server's Peer ("must be node n-3", "must be
// tenant"): an error from check fails the handshake. check is called from
// concurrent handshakes.
//
// Nodes are reached by IP address and named by node ID, so there is no
// host name to check: crypto/tls's own verification is off
// (InsecureSkipVerify) and VerifyConnection does the chain verification in
// full, on every connection, resumed or not. The caller names the node it
// expects in check.
func ClientTLS(id *Identity, check func(Peer) error) *tls.Config {
	pool := id.Pool()
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{id.TLSCertificate()},
		InsecureSkipVerify: true, // VerifyConnection verifies the chain
		VerifyConnection: func(cs tls.ConnectionState) error {
			p, err := verify(pool, cs.PeerCertificates, x509.ExtKeyUsageServerAuth)
			return accept(p, err, check)
		},
	}
}

// accept passes a verified peer to check.
func accept(p Peer, err error, check func(Peer) error) error {
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(p); err != nil {
			return fmt.Errorf("pki: peer %s (%s, serial %s) refused: %w", p.NodeID, p.Role, p.Serial, err)
		}
	}
	return nil
}

// PeerFrom returns the peer of a connection (in a handler, r.TLS) from its
// first peer certificate, or false if it has none. It does not verify
// the certificate again: cs must come from a connection configured by
// ServerTLS or ClientTLS, whose handshake did.
func PeerFrom(cs *tls.ConnectionState) (Peer, bool) {
	if cs == nil || !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 {
		return Peer{}, false
	}
	p, err := ParsePeer(cs.PeerCertificates[0])
	return p, err == nil
}

// RequireNode returns a check that accepts node id alone.
func RequireNode(id string) func(Peer) error {
	return func(p Peer) error {
		if p.NodeID != id {
			return fmt.Errorf("%w: %s, want %s", ErrWrongNode, p.NodeID, id)
		}
		return nil
	}
}

// RequireRole returns a check that accepts peers of role r alone.
func RequireRole(r Role) func(Peer) error {
	return func(p Peer) error {
		if p.Role != r {
			return fmt.Errorf("%w: %s, want %s", ErrRole, p.Role, r)
		}
		return nil
	}
}
