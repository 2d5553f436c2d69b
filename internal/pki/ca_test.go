package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

var (
	testSecret  = []byte("the cluster secret of the tests")
	otherSecret = []byte("another cluster's secret, quite")
)

func mustCA(t *testing.T, secret []byte) *CA {
	t.Helper()
	ca, err := DeriveCA(secret)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, key
}

func TestDeriveCADeterministic(t *testing.T) {
	a, b := mustCA(t, testSecret), mustCA(t, bytes.Clone(testSecret))
	if !bytes.Equal(a.CertDER(), b.CertDER()) {
		t.Fatal("two derivations from one secret gave different certificates")
	}
	if a.Fingerprint() != b.Fingerprint() || len(a.Fingerprint()) != 64 {
		t.Fatalf("fingerprints %q and %q", a.Fingerprint(), b.Fingerprint())
	}
	other := mustCA(t, otherSecret)
	if bytes.Equal(a.CertDER(), other.CertDER()) || a.Fingerprint() == other.Fingerprint() {
		t.Fatal("two secrets gave the same CA")
	}
	c := a.Cert()
	if !c.IsCA || c.Subject.CommonName != "Cairn cluster CA" || c.SerialNumber.Int64() != 1 ||
		!c.MaxPathLenZero || c.KeyUsage != x509.KeyUsageCertSign {
		t.Fatalf("CA certificate: IsCA %v, subject %q, serial %v, MaxPathLenZero %v, key usage %v",
			c.IsCA, c.Subject.CommonName, c.SerialNumber, c.MaxPathLenZero, c.KeyUsage)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("CA certificate is not self-signed: %v", err)
	}
}

// TestDeriveCAPinned pins the CA of one secret: tenant nodes built with
// different Go releases must derive the same certificate, so a change in
// how crypto/x509 encodes the template must show up here first.
func TestDeriveCAPinned(t *testing.T) {
	const want = "c1ca23cea0d8df6b6d0e1433f46b77da442f100c10a1fd7a1b4da150bca0cc6a"
	if got := mustCA(t, []byte("0123456789abcdef")).Fingerprint(); got != want {
		t.Fatalf("CA fingerprint of a fixed secret is %s, was %s: every tenant node must run a build that derives the same CA", got, want)
	}
}

func TestDeriveCAShortSecret(t *testing.T) {
	for _, s := range [][]byte{nil, []byte("short"), []byte("fifteen bytes!!")} {
		if _, err := DeriveCA(s); err == nil {
			t.Errorf("DeriveCA accepted a %d-byte secret", len(s))
		}
	}
}

func TestIssueParsePeer(t *testing.T) {
	ca := mustCA(t, testSecret)
	pub, _ := newKey(t)
	for _, c := range []struct {
		id   string
		role Role
		zone string
	}{
		{"n-1", RoleStorage, "zone-a"},
		{"meta-1", RoleTenant, ""},
		{"gw.eu_1", RoleTenant, "eu"},
		{strings.Repeat("x", 64), RoleStorage, strings.Repeat("z", 64)},
	} {
		before := time.Now()
		der, err := ca.Issue(pub, c.id, c.role, c.zone, time.Hour)
		if err != nil {
			t.Fatalf("Issue(%s, %s, %q): %v", c.id, c.role, c.zone, err)
		}
		p, err := Verify(ca.Pool(), [][]byte{der})
		if err != nil {
			t.Fatalf("Verify(%s): %v", c.id, err)
		}
		if p.NodeID != c.id || p.Role != c.role || p.Zone != c.zone {
			t.Errorf("issued %s/%s/%q, read back %+v", c.id, c.role, c.zone, p)
		}
		if p.NotAfter.Before(before.Add(time.Hour-time.Second)) || p.NotAfter.After(time.Now().Add(time.Hour)) {
			t.Errorf("NotAfter %v, want an hour from now", p.NotAfter)
		}
		cert, _ := x509.ParseCertificate(der)
		if !cert.NotBefore.Before(before.Add(-time.Minute)) {
			t.Errorf("NotBefore %v is not backdated for clock skew", cert.NotBefore)
		}
		if cert.SerialNumber.Text(16) != p.Serial || cert.SerialNumber.BitLen() < 100 {
			t.Errorf("serial %s, Peer.Serial %s: want 128 random bits", cert.SerialNumber.Text(16), p.Serial)
		}
		if !pub.Equal(cert.PublicKey) {
			t.Error("the certificate does not bind the key it was issued for")
		}
		if len(cert.ExtKeyUsage) != 2 || cert.IsCA {
			t.Errorf("ext key usage %v, IsCA %v: want server and client auth, a leaf", cert.ExtKeyUsage, cert.IsCA)
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := mustCA(t, testSecret)
	pub, _ := newKey(t)
	for _, c := range []struct {
		name     string
		pub      any
		id       string
		role     Role
		zone     string
		validity time.Duration
	}{
		{"empty ID", pub, "", RoleStorage, "z", time.Hour},
		{"long ID", pub, strings.Repeat("x", 65), RoleStorage, "z", time.Hour},
		{"slash in ID", pub, "n/1", RoleStorage, "z", time.Hour},
		{"space in ID", pub, "n 1", RoleStorage, "z", time.Hour},
		{"comma in ID", pub, "n,OU=role:tenant", RoleStorage, "z", time.Hour},
		{"no role", pub, "n-1", "", "z", time.Hour},
		{"unknown role", pub, "n-1", "admin", "z", time.Hour},
		{"role case", pub, "n-1", "Tenant", "", time.Hour},
		{"bad zone", pub, "n-1", RoleStorage, "zone:a", time.Hour},
		{"storage without zone", pub, "n-1", RoleStorage, "", time.Hour},
		{"no validity", pub, "n-1", RoleStorage, "z", 0},
		{"not Ed25519", &struct{}{}, "n-1", RoleStorage, "z", time.Hour},
		{"short key", ed25519.PublicKey(pub[:31]), "n-1", RoleStorage, "z", time.Hour},
	} {
		if _, err := ca.Issue(c.pub, c.id, c.role, c.zone, c.validity); err == nil {
			t.Errorf("%s: Issue accepted it", c.name)
		}
	}
}

// selfSigned returns a certificate like a node's, signed by its own key.
func selfSigned(t *testing.T, tmpl *x509.Certificate, key ed25519.PrivateKey) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func nodeTemplate(id string, ou ...string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: id, OrganizationalUnit: ou},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
}

func TestParsePeerRefuses(t *testing.T) {
	_, key := newKey(t)
	for _, c := range []struct {
		name string
		tmpl *x509.Certificate
	}{
		{"no role", nodeTemplate("n-1")},
		{"two roles", nodeTemplate("n-1", "role:storage", "role:tenant", "zone:a")},
		{"two zones", nodeTemplate("n-1", "role:storage", "zone:a", "zone:b")},
		{"unknown unit", nodeTemplate("n-1", "role:tenant", "admin:yes")},
		{"unknown role", nodeTemplate("n-1", "role:root")},
		{"storage without zone", nodeTemplate("n-1", "role:storage")},
		{"bad ID", nodeTemplate("n 1", "role:tenant")},
		{"CA", func() *x509.Certificate {
			c := nodeTemplate("n-1", "role:tenant")
			c.IsCA = true
			return c
		}()},
	} {
		cert, err := x509.ParseCertificate(selfSigned(t, c.tmpl, key))
		if err != nil {
			t.Fatal(err)
		}
		if p, err := ParsePeer(cert); !errors.Is(err, ErrBadCert) {
			t.Errorf("%s: ParsePeer gave %+v, %v; want ErrBadCert", c.name, p, err)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	ca, other := mustCA(t, testSecret), mustCA(t, otherSecret)
	pub, key := newKey(t)
	fromOther, err := other.Issue(pub, "n-1", RoleStorage, "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ca.issue(pub, "n-1", RoleStorage, "a", time.Now().Add(-48*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, err := ca.Issue(pub, "n-1", RoleStorage, "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The premise: the chain that differs only in what is under test passes.
	if _, err := Verify(ca.Pool(), [][]byte{good}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		chain [][]byte
		want  error
	}{
		{"nothing", nil, ErrNotTrusted},
		{"garbage", [][]byte{[]byte("not a certificate")}, ErrBadCert},
		{"another CA", [][]byte{fromOther}, ErrNotTrusted},
		{"another CA with its CA", [][]byte{fromOther, other.CertDER()}, ErrNotTrusted},
		{"self-signed", [][]byte{selfSigned(t, nodeTemplate("n-1", "role:tenant"), key)}, ErrNotTrusted},
		{"expired", [][]byte{expired}, ErrExpired},
		{"the CA itself", [][]byte{ca.CertDER()}, ErrBadCert},
	} {
		if p, err := Verify(ca.Pool(), c.chain); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify gave %+v, %v; want %v", c.name, p, err, c.want)
		}
	}
}
