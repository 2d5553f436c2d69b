package pki

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// storageIdentity enrolls a storage node with ca directly (without a
// token), with a certificate issued at now for validity.
func storageIdentity(t *testing.T, ca *CA, nodeID, zone string, now time.Time, validity time.Duration) *Identity {
	t.Helper()
	pub, key := newKey(t)
	der, err := ca.issue(pub, nodeID, RoleStorage, zone, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	// Not newIdentity: tests need expired identities too.
	p, err := ParsePeer(cert)
	if err != nil {
		t.Fatal(err)
	}
	return &Identity{Cert: cert, Key: key, CA: ca.Cert(), Peer: p}
}

func tenantIdentity(t *testing.T, ca *CA, nodeID string) *Identity {
	t.Helper()
	id, err := NewTenantIdentity(ca, nodeID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestNewTenantIdentity(t *testing.T) {
	ca := mustCA(t, testSecret)
	id := tenantIdentity(t, ca, "meta-1")
	if id.Peer.NodeID != "meta-1" || id.Peer.Role != RoleTenant {
		t.Fatalf("peer %+v", id.Peer)
	}
	if d := time.Until(id.Peer.NotAfter); d < TenantValidity-time.Minute {
		t.Fatalf("a tenant certificate valid for %v", d)
	}
	if _, err := Verify(id.Pool(), id.TLSCertificate().Certificate); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTenantIdentity(ca, "bad id"); err == nil {
		t.Fatal("NewTenantIdentity accepted a bad node ID")
	}
}

func TestIdentitySaveLoad(t *testing.T) {
	ca := mustCA(t, testSecret)
	id := storageIdentity(t, ca, "n-1", "zone-a", time.Now(), time.Hour)
	path := filepath.Join(t.TempDir(), "identity.pem")
	if err := id.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := LoadIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(id.Cert) || !got.CA.Equal(ca.Cert()) || got.Peer != id.Peer {
		t.Fatalf("loaded %+v, saved %+v", got.Peer, id.Peer)
	}
	if !got.Key.Public().(ed25519.PublicKey).Equal(id.Key.Public()) {
		t.Fatal("loaded another key")
	}
	// Saving again replaces the file.
	id2 := storageIdentity(t, ca, "n-1", "zone-a", time.Now(), time.Hour)
	if err := id2.Save(path); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadIdentity(path); err != nil || got.Peer.Serial != id2.Peer.Serial {
		t.Fatalf("after a second Save, loaded %+v, %v", got, err)
	}
}

func TestLoadIdentityRefuses(t *testing.T) {
	ca, other := mustCA(t, testSecret), mustCA(t, otherSecret)
	id := storageIdentity(t, ca, "n-1", "zone-a", time.Now(), time.Hour)
	fromOther := storageIdentity(t, other, "n-1", "zone-a", time.Now(), time.Hour)
	expired := storageIdentity(t, ca, "n-1", "zone-a", time.Now().Add(-48*time.Hour), time.Hour)
	stranger := storageIdentity(t, ca, "n-2", "zone-a", time.Now(), time.Hour)

	file := func(blocks ...*pem.Block) []byte {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		return b
	}
	keyOf := func(id *Identity) *pem.Block {
		der, err := x509.MarshalPKCS8PrivateKey(id.Key)
		if err != nil {
			t.Fatal(err)
		}
		return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	cert := func(c *x509.Certificate) *pem.Block { return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw} }

	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	if err := os.WriteFile(good, file(keyOf(id), cert(id.Cert), cert(ca.Cert())), 0o600); err != nil {
		t.Fatal(err)
	}
	// The premise: a file put together the way the cases below are loads.
	if _, err := LoadIdentity(good); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"cert from another CA", file(keyOf(fromOther), cert(fromOther.Cert), cert(ca.Cert())), ErrNotTrusted},
		{"another CA in the file", file(keyOf(id), cert(id.Cert), cert(other.Cert())), ErrNotTrusted},
		{"mismatched key", file(keyOf(stranger), cert(id.Cert), cert(ca.Cert())), ErrBadCert},
		{"expired", file(keyOf(expired), cert(expired.Cert), cert(ca.Cert())), ErrExpired},
		{"certificates swapped", file(keyOf(id), cert(ca.Cert()), cert(id.Cert)), ErrNotTrusted},
		{"no CA", file(keyOf(id), cert(id.Cert)), ErrBadCert},
		{"no key", file(cert(id.Cert), cert(ca.Cert())), ErrBadCert},
		{"extra block", file(keyOf(id), cert(id.Cert), cert(ca.Cert()), cert(ca.Cert())), ErrBadCert},
		{"trailing garbage", append(file(keyOf(id), cert(id.Cert), cert(ca.Cert())), "junk"...), ErrBadCert},
		{"empty", nil, ErrBadCert},
	} {
		path := filepath.Join(dir, "bad.pem")
		if err := os.WriteFile(path, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := LoadIdentity(path); !errors.Is(err, c.want) {
			t.Errorf("%s: LoadIdentity gave %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := LoadIdentity(filepath.Join(dir, "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
