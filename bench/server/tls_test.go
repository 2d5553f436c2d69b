package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestNewTLS: the server certificate is ECDSA P-256, chains to the
// authority in Roots, is valid for exactly the IPs asked for, and a TLS
// 1.3 client that trusts Roots alone completes a handshake with a server
// holding CertFile and KeyFile and reads what it sends.
func TestNewTLS(t *testing.T) {
	dir := t.TempDir()
	ns := net.ParseIP("10.200.0.2")
	tl, err := NewTLS(dir, net.IPv4(127, 0, 0, 1), ns)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tl.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", tl.CertFile)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("server key %T, want ECDSA P-256", cert.PublicKey)
	}
	for _, ip := range []string{"127.0.0.1", "10.200.0.2"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: ip, Roots: tl.Roots,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("as a server for %s: %v", ip, err)
		}
	}
	// MinIO's nodes present it to each other as clients too.
	if _, err := cert.Verify(x509.VerifyOptions{Roots: tl.Roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("as a client: %v", err)
	}
	if err := cert.VerifyHostname("10.200.0.3"); err == nil {
		t.Error("valid for 10.200.0.3, which was not asked for")
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "127.0.0.1"}); err == nil {
		t.Error("verified without the throwaway authority")
	}
	if fi, err := os.Stat(tl.KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v", err, fi.Mode())
	}

	pair, err := tls.LoadX509KeyPair(tl.CertFile, tl.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("hello"))
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: tl.Roots})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" || c.ConnectionState().Version != tls.VersionTLS13 {
		t.Errorf("read %q, %v, TLS version %x", got, err, c.ConnectionState().Version)
	}

	if _, err := NewTLS(t.TempDir()); err == nil {
		t.Error("a certificate without an IP")
	}
}

// TestMinIOCertsDir: the layout MinIO's --certs-dir reads, with the files'
// bytes.
func TestMinIOCertsDir(t *testing.T) {
	tl, err := NewTLS(t.TempDir(), net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	if err := tl.MinIOCertsDir(dir); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{tl.CertFile: "public.crt", tl.KeyFile: "private.key", tl.CAFile: "CAs/ca.crt"} {
		want, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, to))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, or not the bytes of %s", to, err, from)
		}
	}
}
