package machine

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"time"
)

// TLSResult is what TLS measured.
type TLSResult struct {
	// MiBps is the bytes all connections delivered, over the time from
	// their start to the last one's end, in MiB/s.
	MiBps float64
	// Suite is the cipher suite the connections agreed on, as Go names it
	// (TLS_AES_128_GCM_SHA256 on a CPU with AES instructions).
	Suite string
}

// TLS copies bytes over conns TLS 1.3 connections on 127.0.0.1 at once,
// both ends of each in this process (a sending and a receiving
// goroutine), in writes of 1 MiB, for about d. The connections are set up
// as Cairn's nodes set up theirs: mutual TLS 1.3, Ed25519 certificates of a
// CA of the test's own, the server requiring and verifying the client's
// certificate; Go chooses the suite (an AES-GCM one where the CPU has AES
// instructions). The handshakes are not in the time.
func TLS(conns int, d time.Duration) (TLSResult, error) {
	if conns < 1 {
		return TLSResult{}, errors.New("machine: tls: at least one connection")
	}
	server, client, err := tlsConfigs()
	if err != nil {
		return TLSResult{}, err
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		return TLSResult{}, err
	}
	defer l.Close()
	var suite uint16
	dial := func() (net.Conn, error) {
		c, err := tls.Dial("tcp", l.Addr().String(), client)
		if err == nil {
			suite = c.ConnectionState().CipherSuite
		}
		return c, err
	}
	v, err := streams(l, dial, conns, 1<<20, d)
	if err != nil {
		return TLSResult{}, err
	}
	return TLSResult{MiBps: v, Suite: tls.CipherSuiteName(suite)}, nil
}

// tlsConfigs returns a server and a client configuration for mutual TLS
// 1.3 on 127.0.0.1, each with an Ed25519 certificate of a new CA.
func tlsConfigs() (server, client *tls.Config, err error) {
	caPub, caKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cairn bench CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caPub, caKey)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	leaf := func(serial int64, usage x509.ExtKeyUsage) (tls.Certificate, error) {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "cairn bench node"},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}
	srvCert, err := leaf(2, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, nil, err
	}
	cliCert, err := leaf(3, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, nil, err
	}
	server = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{srvCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
	client = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cliCert},
		RootCAs:      pool,
		ServerName:   "127.0.0.1",
	}
	return server, client, nil
}
