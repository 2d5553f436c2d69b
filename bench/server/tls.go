package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLS is a throwaway certificate authority and one server certificate it
// signed, as PEM files, for servers that a benchmark runs over HTTPS and a
// client that trusts only that authority.
type TLS struct {
	// CAFile is the authority's certificate.
	CAFile string
	// CertFile and KeyFile are the server's certificate and its private
	// key (PKCS #8).
	CertFile, KeyFile string
	// Roots holds the authority's certificate alone: what a client
	// verifies the servers against.
	Roots *x509.CertPool
	// IPs are the addresses the certificate is valid for (its IP SANs).
	IPs []net.IP
}

// tlsValidity is how long the throwaway certificates are valid: a benchmark
// lasts minutes, and a margin before now covers clocks of namespaces and
// processes that read the time a little differently.
const tlsValidity = 48 * time.Hour

// NewTLS makes a certificate authority and a server certificate for ips
// (ECDSA P-256 both, the server's valid for TLS servers and clients: MinIO's
// nodes present it to each other in both roles) and writes them in dir as
// ca.crt, server.crt and server.key.
func NewTLS(dir string, ips ...net.IP) (*TLS, error) {
	if len(ips) == 0 {
		return nil, errors.New("tls: a server certificate needs at least one IP address")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "cairn bench throwaway CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(tlsValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tls: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "cairn bench server"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(tlsValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tls: server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	t := &TLS{
		CAFile:   filepath.Join(dir, "ca.crt"),
		CertFile: filepath.Join(dir, "server.crt"),
		KeyFile:  filepath.Join(dir, "server.key"),
		Roots:    x509.NewCertPool(),
		IPs:      ips,
	}
	t.Roots.AddCert(ca)
	for _, f := range []struct {
		path, typ string
		der       []byte
		mode      os.FileMode
	}{
		{t.CAFile, "CERTIFICATE", caDER, 0o644},
		{t.CertFile, "CERTIFICATE", der, 0o644},
		{t.KeyFile, "PRIVATE KEY", keyDER, 0o600},
	} {
		if err := writePEM(f.path, f.typ, f.der, f.mode); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// MinIOCertsDir writes what MinIO's --certs-dir holds for t in dir:
// public.crt and private.key, the server's, and CAs/ca.crt, which its
// nodes trust when they connect to each other.
func (t *TLS) MinIOCertsDir(dir string) error {
	for _, f := range []struct{ from, to string }{
		{t.CertFile, "public.crt"},
		{t.KeyFile, "private.key"},
		{t.CAFile, filepath.Join("CAs", "ca.crt")},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return err
		}
		to := filepath.Join(dir, f.to)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// serial is a random 128-bit certificate serial number.
func serial() *big.Int {
	var b [16]byte
	rand.Read(b[:])
	return new(big.Int).SetBytes(b[:])
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}
