package pki

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// outcome is what each end of one connection saw.
type outcome struct {
	serverErr, clientErr error
	server, client       tls.ConnectionState
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// connect makes one connection from a client with cli to a server with
// srv, over loopback.
func connect(t *testing.T, srv, cli *tls.Config) outcome {
	t.Helper()
	return connectOn(t, listen(t), srv, cli)
}

// connectOn is connect to a listener of the caller's, so that a client
// can resume a session with the same address.
func connectOn(t *testing.T, ln net.Listener, srv, cli *tls.Config) outcome {
	t.Helper()
	var o outcome
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			o.serverErr = err
			return
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(c, srv)
		defer tc.Close()
		o.serverErr = exchange(tc, true)
		o.server = tc.ConnectionState()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(c, cli)
	o.clientErr = exchange(tc, false)
	o.client = tc.ConnectionState()
	tc.Close()
	<-done
	return o
}

// exchange completes the handshake and passes a byte each way. In TLS
// 1.3 the client's handshake is over before the server has checked the
// client's certificate, so the server's refusal reaches the client when it
// reads.
func exchange(c *tls.Conn, server bool) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	b := []byte{1}
	if server {
		if _, err := c.Write(b); err != nil {
			return err
		}
		_, err := c.Read(b)
		return err
	}
	if _, err := c.Read(b); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// record returns a check that accepts every peer and keeps the last one.
func record(p *Peer) func(Peer) error {
	return func(got Peer) error { *p = got; return nil }
}

func TestMutualTLS(t *testing.T) {
	ca := mustCA(t, testSecret)
	tenant := tenantIdentity(t, ca, "meta-1")
	storage := storageIdentity(t, ca, "n-1", "zone-a", time.Now(), time.Hour)
	for _, c := range []struct{ server, client *Identity }{{tenant, storage}, {storage, tenant}} {
		var sawClient, sawServer Peer
		o := connect(t, ServerTLS(c.server, record(&sawClient)), ClientTLS(c.client, record(&sawServer)))
		if o.serverErr != nil || o.clientErr != nil {
			t.Fatalf("%s serving %s: server %v, client %v", c.server.Peer.NodeID, c.client.Peer.NodeID, o.serverErr, o.clientErr)
		}
		if o.server.Version != tls.VersionTLS13 || o.client.Version != tls.VersionTLS13 {
			t.Errorf("negotiated %s and %s, want TLS 1.3", tls.VersionName(o.server.Version), tls.VersionName(o.client.Version))
		}
		if sawClient != c.client.Peer || sawServer != c.server.Peer {
			t.Errorf("checks saw client %+v, server %+v; want %+v, %+v", sawClient, sawServer, c.client.Peer, c.server.Peer)
		}
		if p, ok := PeerFrom(&o.server); !ok || p != c.client.Peer {
			t.Errorf("server's PeerFrom: %+v, %v; want %+v", p, ok, c.client.Peer)
		}
		if p, ok := PeerFrom(&o.client); !ok || p != c.server.Peer {
			t.Errorf("client's PeerFrom: %+v, %v; want %+v", p, ok, c.server.Peer)
		}
	}
	if _, ok := PeerFrom(nil); ok {
		t.Error("PeerFrom(nil) found a peer")
	}
	if _, ok := PeerFrom(&tls.ConnectionState{HandshakeComplete: true}); ok {
		t.Error("PeerFrom found a peer without certificates")
	}
}

// sending returns cfg changed to send id's certificate whatever the server
// asks for, as an attacker's client would; crypto/tls would otherwise
// keep back a certificate whose issuer the server did not name.
func sending(cfg *tls.Config, id *Identity) *tls.Config {
	cert := id.TLSCertificate()
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return cfg
}

// impostor is an identity with cert and key that trusts ca: it verifies
// honest peers as they would, and presents what it has.
func impostor(t *testing.T, ca *CA, cert []byte, key *Identity) *Identity {
	t.Helper()
	c, err := x509.ParseCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	return &Identity{Cert: c, Key: key.Key, CA: ca.Cert()}
}

func TestTLSRefuses(t *testing.T) {
	ca, other := mustCA(t, testSecret), mustCA(t, otherSecret)
	tenant := tenantIdentity(t, ca, "meta-1")
	storage := storageIdentity(t, ca, "n-1", "zone-a", time.Now(), time.Hour)
	fromOther := storageIdentity(t, other, "n-1", "zone-a", time.Now(), time.Hour)
	expired := storageIdentity(t, ca, "n-1", "zone-a", time.Now().Add(-48*time.Hour), time.Hour)
	strangerCA := impostor(t, ca, fromOther.Cert.Raw, fromOther)
	pastCert := impostor(t, ca, expired.Cert.Raw, expired)
	selfCert := impostor(t, ca, selfSigned(t, nodeTemplate("n-1", "role:tenant"), storage.Key.(ed25519.PrivateKey)), storage)

	noCert := ClientTLS(storage, nil)
	noCert.Certificates = nil
	tls12 := ClientTLS(storage, nil)
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	revoked := func(p Peer) error {
		if p.Serial == storage.Peer.Serial {
			return ErrRevoked
		}
		return nil
	}

	const byServer, byClient = "server", "client"
	for _, c := range []struct {
		name     string
		srv, cli *tls.Config
		by       string // the end that refuses
		want     error  // what its error wraps, if one of ours
	}{
		{"client without certificate", ServerTLS(tenant, nil), noCert, byServer, nil},
		{"client cert from another CA", ServerTLS(tenant, nil), sending(ClientTLS(strangerCA, nil), strangerCA), byServer, nil},
		{"server cert from another CA", ServerTLS(strangerCA, nil), ClientTLS(storage, nil), byClient, ErrNotTrusted},
		{"self-signed client cert", ServerTLS(tenant, nil), sending(ClientTLS(selfCert, nil), selfCert), byServer, nil},
		{"self-signed server cert", ServerTLS(selfCert, nil), ClientTLS(tenant, nil), byClient, ErrNotTrusted},
		{"expired client cert", ServerTLS(tenant, nil), sending(ClientTLS(pastCert, nil), pastCert), byServer, nil},
		{"expired server cert", ServerTLS(pastCert, nil), ClientTLS(tenant, nil), byClient, ErrExpired},
		{"revoked client", ServerTLS(tenant, revoked), ClientTLS(storage, nil), byServer, ErrRevoked},
		{"revoked server", ServerTLS(storage, nil), ClientTLS(tenant, revoked), byClient, ErrRevoked},
		{"client wants another node", ServerTLS(storage, nil), ClientTLS(tenant, RequireNode("n-2")), byClient, ErrWrongNode},
		{"client wants a tenant", ServerTLS(storage, nil), ClientTLS(tenant, RequireRole(RoleTenant)), byClient, ErrRole},
		{"server wants a tenant", ServerTLS(tenant, RequireRole(RoleTenant)), ClientTLS(storage, nil), byServer, ErrRole},
		{"TLS 1.2 client", ServerTLS(tenant, nil), tls12, byServer, nil},
	} {
		o := connect(t, c.srv, c.cli)
		if o.serverErr == nil || o.clientErr == nil {
			t.Errorf("%s: server %v, client %v; want both to fail", c.name, o.serverErr, o.clientErr)
			continue
		}
		t.Logf("%s: server: %v; client: %v", c.name, o.serverErr, o.clientErr)
		// The refusing end's error is its own, not the alert it received.
		refusal := map[string]error{byServer: o.serverErr, byClient: o.clientErr}[c.by]
		if strings.Contains(refusal.Error(), "remote error") {
			t.Errorf("%s: want the %s to refuse, but it was refused: %v", c.name, c.by, refusal)
		}
		if c.want != nil && !errors.Is(refusal, c.want) {
			t.Errorf("%s: %s's error %v, want %v", c.name, c.by, refusal, c.want)
		}
	}
	// The premise: the honest configurations the cases derive from connect.
	if o := connect(t, ServerTLS(tenant, revoked), ClientTLS(tenant, RequireNode("meta-1"))); o.serverErr != nil || o.clientErr != nil {
		t.Fatalf("honest connection: server %v, client %v", o.serverErr, o.clientErr)
	}
	if o := connect(t, ServerTLS(tenant, nil), sending(ClientTLS(storage, nil), storage)); o.serverErr != nil || o.clientErr != nil {
		t.Fatalf("honest connection, client sending its certificate unasked: server %v, client %v", o.serverErr, o.clientErr)
	}
}

// TestResumptionChecksAgain is why ServerTLS leaves session tickets on: a
// resumed connection is checked again, so a revocation holds against a
// client that kept a ticket.
func TestResumptionChecksAgain(t *testing.T) {
	ca := mustCA(t, testSecret)
	tenant := tenantIdentity(t, ca, "meta-1")
	storage := storageIdentity(t, ca, "n-1", "zone-a", time.Now(), time.Hour)
	var revoked atomic.Bool
	var serverChecks, clientChecks atomic.Int32
	srv := ServerTLS(tenant, func(p Peer) error {
		serverChecks.Add(1)
		if revoked.Load() {
			return ErrRevoked
		}
		return nil
	})
	cli := ClientTLS(storage, func(Peer) error { clientChecks.Add(1); return nil })
	cli.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	ln := listen(t)

	for i, wantResumed := range []bool{false, true} {
		o := connectOn(t, ln, srv, cli)
		if o.serverErr != nil || o.clientErr != nil {
			t.Fatalf("connection %d: server %v, client %v", i, o.serverErr, o.clientErr)
		}
		if o.client.DidResume != wantResumed {
			t.Fatalf("connection %d resumed: %v, want %v", i, o.client.DidResume, wantResumed)
		}
		if n, m := serverChecks.Load(), clientChecks.Load(); n != int32(i+1) || m != int32(i+1) {
			t.Fatalf("after %d connections, the server checked %d times and the client %d", i+1, n, m)
		}
	}
	revoked.Store(true)
	o := connectOn(t, ln, srv, cli)
	if !errors.Is(o.serverErr, ErrRevoked) || o.clientErr == nil {
		t.Fatalf("after revocation: server %v, client %v; want the server to refuse", o.serverErr, o.clientErr)
	}
}
