package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testInvite(nodeID string, expires time.Time) Invite {
	return Invite{
		Zone:      "zone-b",
		NodeID:    nodeID,
		Expires:   expires,
		Endpoints: []string{"http://10.0.0.1:7400", "https://meta-2.example:7400"},
		Gossip:    []string{"10.0.0.1:7946", "[fd00::2]:7946"},
	}
}

func mustInvite(t *testing.T, inv Invite) (string, Invite, []byte) {
	t.Helper()
	token, err := NewInvite(testSecret, inv)
	if err != nil {
		t.Fatal(err)
	}
	got, ts, err := ParseToken(token)
	if err != nil {
		t.Fatalf("ParseToken(%s): %v", token, err)
	}
	return token, got, ts
}

// enroll plays both sides of an enrollment, through JSON as on the wire:
// the joiner asks for nodeID with a fresh key, a tenant node checks the
// request at now and issues what certify returns. It returns the
// tenant's error, or the joiner's outcome.
func enroll(t *testing.T, inv Invite, ts []byte, nodeID string, now time.Time,
	certify func(EnrollRequest) []byte, gossipKey []byte) (*Identity, []byte, error) {
	t.Helper()
	pub, key := newKey(t)
	req := roundTrip(t, NewEnrollRequest(inv, ts, nodeID, pub))
	tenantTS, err := CheckEnrollRequest(testSecret, req, now)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(tenantTS, ts) {
		t.Fatal("the tenant derived another token secret than the token's")
	}
	resp, err := NewEnrollResponse(tenantTS, req, certify(req), mustCA(t, testSecret).CertDER(), gossipKey)
	if err != nil {
		t.Fatal(err)
	}
	return OpenEnrollResponse(inv, ts, nodeID, key, roundTrip(t, resp))
}

func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// honest issues what the request asks for, as the enrollment server will.
func honest(t *testing.T) func(EnrollRequest) []byte {
	ca := mustCA(t, testSecret)
	return func(req EnrollRequest) []byte {
		der, err := ca.Issue(ed25519.PublicKey(req.PublicKey), req.NodeID, RoleStorage, req.Zone, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}

func gossipKey(t *testing.T) []byte {
	k := make([]byte, GossipKeySize)
	rand.Read(k)
	return k
}

func TestInviteRoundTrip(t *testing.T) {
	expires := time.Now().Add(24 * time.Hour)
	for _, nodeID := range []string{"", "n-7"} {
		want := testInvite(nodeID, expires)
		token, got, ts := mustInvite(t, want)
		if !strings.HasPrefix(token, "cairn-join-1.") {
			t.Fatalf("token %s", token)
		}
		if len(got.ID) != 16 || got.CAFingerprint != mustCA(t, testSecret).Fingerprint() || len(ts) != 32 {
			t.Fatalf("ID %q, CA %q, %d-byte secret", got.ID, got.CAFingerprint, len(ts))
		}
		want.ID, want.CAFingerprint = got.ID, got.CAFingerprint
		if !got.Expires.Equal(expires.Truncate(time.Second)) {
			t.Errorf("expires %v, want %v", got.Expires, expires)
		}
		got.Expires, want.Expires = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parsed %+v, want %+v", got, want)
		}
		// With a newline, as pasted.
		if again, _, err := ParseToken(token + "\n"); err != nil || again.ID != got.ID {
			t.Errorf("a token with a newline: %v", err)
		}
	}
	// Two invites differ.
	_, a, sa := mustInvite(t, testInvite("", expires))
	_, b, sb := mustInvite(t, testInvite("", expires))
	if a.ID == b.ID || bytes.Equal(sa, sb) {
		t.Fatal("two invites with one ID or secret")
	}
}

func TestNewInviteRefuses(t *testing.T) {
	expires := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name   string
		secret []byte
		edit   func(*Invite)
	}{
		{"short secret", []byte("short"), func(*Invite) {}},
		{"no zone", testSecret, func(i *Invite) { i.Zone = "" }},
		{"bad zone", testSecret, func(i *Invite) { i.Zone = "a b" }},
		{"bad node ID", testSecret, func(i *Invite) { i.NodeID = "n/1" }},
		{"no expiry", testSecret, func(i *Invite) { i.Expires = time.Time{} }},
		{"no endpoint", testSecret, func(i *Invite) { i.Endpoints = nil }},
		{"endpoint without scheme", testSecret, func(i *Invite) { i.Endpoints = []string{"10.0.0.1:7400"} }},
		{"endpoint of another scheme", testSecret, func(i *Invite) { i.Endpoints = []string{"ftp://10.0.0.1:7400"} }},
		{"bad gossip address", testSecret, func(i *Invite) { i.Gossip = []string{"10.0.0.1"} }},
		{"another cluster's CA", testSecret, func(i *Invite) { i.CAFingerprint = mustCA(t, otherSecret).Fingerprint() }},
	} {
		inv := testInvite("", expires)
		c.edit(&inv)
		if token, err := NewInvite(c.secret, inv); err == nil {
			t.Errorf("%s: NewInvite made %s", c.name, token)
		}
	}
	// The CA's own fingerprint is accepted.
	inv := testInvite("", expires)
	inv.CAFingerprint = mustCA(t, testSecret).Fingerprint()
	if _, err := NewInvite(testSecret, inv); err != nil {
		t.Fatal(err)
	}
}

func TestEnroll(t *testing.T) {
	now := time.Now()
	for _, c := range []struct{ inviteFor, ask, want string }{
		{"", "n-9", "n-9"},    // the joiner picks
		{"n-7", "n-7", "n-7"}, // the invite names it
		{"n-7", "", "n-7"},    // the invite's, by default
		{"", "n-" + strings.Repeat("x", 62), "n-" + strings.Repeat("x", 62)},
	} {
		_, inv, ts := mustInvite(t, testInvite(c.inviteFor, now.Add(time.Hour)))
		gk := gossipKey(t)
		id, gotKey, err := enroll(t, inv, ts, c.ask, now, honest(t), gk)
		if err != nil {
			t.Fatalf("invite for %q, asking %q: %v", c.inviteFor, c.ask, err)
		}
		if id.Peer.NodeID != c.want || id.Peer.Role != RoleStorage || id.Peer.Zone != "zone-b" {
			t.Errorf("enrolled as %+v, want %s in zone-b", id.Peer, c.want)
		}
		if !bytes.Equal(gotKey, gk) {
			t.Error("the gossip key did not arrive")
		}
		// The enrolled node keeps its identity and talks to a tenant.
		path := filepath.Join(t.TempDir(), "identity.pem")
		if err := id.Save(path); err != nil {
			t.Fatal(err)
		}
		loaded, err := LoadIdentity(path)
		if err != nil {
			t.Fatal(err)
		}
		tenant := tenantIdentity(t, mustCA(t, testSecret), "meta-1")
		if o := connect(t, ServerTLS(tenant, RequireRole(RoleStorage)), ClientTLS(loaded, RequireRole(RoleTenant))); o.serverErr != nil || o.clientErr != nil {
			t.Fatalf("enrolled node to tenant: server %v, client %v", o.serverErr, o.clientErr)
		}
	}
}

// retoken returns token with its payload changed by edit and its checksum
// made good again: what someone holding the token can do.
func retoken(t *testing.T, token string, edit func(*tokenBody)) string {
	t.Helper()
	raw, err := tokenEncoding.DecodeString(strings.TrimPrefix(token, tokenPrefix))
	if err != nil {
		t.Fatal(err)
	}
	var b tokenBody
	if err := json.Unmarshal(raw[:len(raw)-tokenChecksumSize], &b); err != nil {
		t.Fatal(err)
	}
	edit(&b)
	body, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	return tokenPrefix + tokenEncoding.EncodeToString(append(body, sum[:tokenChecksumSize]...))
}

// TestTokenAltered changes every character of a token in turn: each
// change is caught, by ParseToken or by the tenant.
func TestTokenAltered(t *testing.T) {
	now := time.Now()
	token, inv, ts := mustInvite(t, testInvite("n-7", now.Add(time.Hour)))
	pub, _ := newKey(t)
	// The premise: the token unaltered enrolls.
	if _, err := CheckEnrollRequest(testSecret, NewEnrollRequest(inv, ts, "", pub), now); err != nil {
		t.Fatal(err)
	}
	for i := len(tokenPrefix); i < len(token); i++ {
		alt := []byte(token)
		if alt[i] == 'A' {
			alt[i] = 'B'
		} else {
			alt[i] = 'A'
		}
		inv, ts, err := ParseToken(string(alt))
		if err != nil {
			continue
		}
		if _, err := CheckEnrollRequest(testSecret, NewEnrollRequest(inv, ts, "", pub), now); err == nil {
			t.Errorf("character %d altered: the token still enrolls", i)
		}
	}
	for _, c := range []struct {
		name string
		edit func(*tokenBody)
	}{
		{"zone", func(b *tokenBody) { b.Zone = "zone-c" }},
		{"node ID", func(b *tokenBody) { b.NodeID = "n-8" }},
		{"no node ID", func(b *tokenBody) { b.NodeID = "" }},
		{"expiry", func(b *tokenBody) { b.Expires += 3600 }},
		{"invite ID", func(b *tokenBody) { b.ID = "0123456789abcdef" }},
		{"secret", func(b *tokenBody) { b.Secret[0] ^= 1 }},
	} {
		inv, ts, err := ParseToken(retoken(t, token, c.edit))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := CheckEnrollRequest(testSecret, NewEnrollRequest(inv, ts, "n-7", pub), now); !errors.Is(err, ErrNotAuthentic) {
			t.Errorf("token with another %s: CheckEnrollRequest gave %v, want ErrNotAuthentic", c.name, err)
		}
	}
	for _, bad := range []string{
		"", "cairn-join-2." + strings.TrimPrefix(token, tokenPrefix), tokenPrefix, tokenPrefix + "!!!",
		token[:len(token)-1], token + "A",
		retoken(t, token, func(b *tokenBody) { b.Secret = b.Secret[:16] }),
		retoken(t, token, func(b *tokenBody) { b.Endpoints = nil }),
		retoken(t, token, func(b *tokenBody) { b.CAFingerprint = "abc" }),
	} {
		if _, _, err := ParseToken(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("ParseToken(%.40q…) gave %v, want ErrBadToken", bad, err)
		}
	}
}

func TestCheckEnrollRequestRefuses(t *testing.T) {
	now := time.Now()
	_, inv, ts := mustInvite(t, testInvite("n-7", now.Add(time.Hour)))
	_, open, openTS := mustInvite(t, testInvite("", now.Add(time.Hour)))
	pub, _ := newKey(t)
	other, _ := newKey(t)
	good := NewEnrollRequest(inv, ts, "n-7", pub)
	// The premise.
	if _, err := CheckEnrollRequest(testSecret, good, now); err != nil {
		t.Fatal(err)
	}
	edited := func(edit func(*EnrollRequest)) EnrollRequest {
		r := good
		r.MAC = bytes.Clone(good.MAC)
		edit(&r)
		return r
	}
	// remac is what the joiner can do: change fields, MAC again with the
	// token's secret.
	remac := func(secret []byte, edit func(*EnrollRequest)) EnrollRequest {
		r := edited(edit)
		r.MAC = r.mac(secret)
		return r
	}
	for _, c := range []struct {
		name   string
		secret []byte
		req    EnrollRequest
		now    time.Time
		want   error
	}{
		{"forged MAC", testSecret, edited(func(r *EnrollRequest) { r.MAC[0] ^= 1 }), now, ErrNotAuthentic},
		{"no MAC", testSecret, edited(func(r *EnrollRequest) { r.MAC = nil }), now, ErrNotAuthentic},
		{"another key", testSecret, edited(func(r *EnrollRequest) { r.PublicKey = other }), now, ErrNotAuthentic},
		{"MAC under a guessed secret", testSecret, remac(make([]byte, 32), func(*EnrollRequest) {}), now, ErrNotAuthentic},
		{"another cluster", otherSecret, good, now, ErrNotAuthentic},
		{"invite's node ID dropped", testSecret, remac(ts, func(r *EnrollRequest) { r.InviteNodeID = "" }), now, ErrNotAuthentic},
		{"expiry extended", testSecret, remac(ts, func(r *EnrollRequest) { r.Expires += 3600 }), now, ErrNotAuthentic},
		{"zone changed", testSecret, remac(ts, func(r *EnrollRequest) { r.Zone = "zone-c" }), now, ErrNotAuthentic},
		{"expired", testSecret, good, now.Add(2 * time.Hour), ErrExpired},
		{"expired to the second", testSecret, good, time.Unix(good.Expires, 0), ErrExpired},
		{"node ID mismatch", testSecret, NewEnrollRequest(inv, ts, "n-8", pub), now, ErrWrongNode},
		{"bad node ID", testSecret, NewEnrollRequest(open, openTS, "n 8", pub), now, ErrBadToken},
		{"no node ID", testSecret, NewEnrollRequest(open, openTS, "", pub), now, ErrBadToken},
		{"short key", testSecret, NewEnrollRequest(inv, ts, "n-7", pub[:16]), now, ErrBadToken},
		{"bad invite ID", testSecret, remac(ts, func(r *EnrollRequest) { r.InviteID = "x" }), now, ErrBadToken},
	} {
		if got, err := CheckEnrollRequest(c.secret, c.req, c.now); !errors.Is(err, c.want) || got != nil {
			t.Errorf("%s: CheckEnrollRequest gave %x, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestOpenEnrollResponseRefuses(t *testing.T) {
	now := time.Now()
	ca, other := mustCA(t, testSecret), mustCA(t, otherSecret)
	_, inv, ts := mustInvite(t, testInvite("n-7", now.Add(time.Hour)))
	pub, key := newKey(t)
	stranger, _ := newKey(t)
	req := NewEnrollRequest(inv, ts, "", pub)
	if _, err := CheckEnrollRequest(testSecret, req, now); err != nil {
		t.Fatal(err)
	}
	issue := func(ca *CA, pub ed25519.PublicKey, nodeID string, role Role, zone string) []byte {
		der, err := ca.Issue(pub, nodeID, role, zone, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	respond := func(req EnrollRequest, cert, caDER []byte) EnrollResponse {
		r, err := NewEnrollResponse(ts, req, cert, caDER, gossipKey(t))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	good := respond(req, issue(ca, pub, "n-7", RoleStorage, "zone-b"), ca.CertDER())
	// The premise.
	if _, _, err := OpenEnrollResponse(inv, ts, "", key, good); err != nil {
		t.Fatal(err)
	}
	tampered := func(edit func(*EnrollResponse)) EnrollResponse {
		r := roundTrip(t, good) // a deep copy
		edit(&r)
		return r
	}
	// remac is a response from someone holding the token's secret.
	remac := func(edit func(*EnrollResponse)) EnrollResponse {
		r := tampered(edit)
		r.MAC = r.mac(ts, req.MAC)
		return r
	}
	_, otherKey := newKey(t)
	for _, c := range []struct {
		name string
		key  ed25519.PrivateKey
		resp EnrollResponse
		want error
	}{
		{"another CA", key, respond(req, issue(other, pub, "n-7", RoleStorage, "zone-b"), other.CertDER()), ErrNotTrusted},
		{"another CA's cert", key, respond(req, issue(other, pub, "n-7", RoleStorage, "zone-b"), ca.CertDER()), ErrNotTrusted},
		{"tampered MAC", key, tampered(func(r *EnrollResponse) { r.MAC[5] ^= 1 }), ErrNotAuthentic},
		{"tampered cert", key, tampered(func(r *EnrollResponse) { r.Cert[len(r.Cert)-1] ^= 1 }), ErrNotAuthentic},
		{"tampered sealed key", key, tampered(func(r *EnrollResponse) { r.SealedGossipKey[0] ^= 1 }), ErrNotAuthentic},
		{"sealed key re-MACed", key, remac(func(r *EnrollResponse) { r.SealedGossipKey[20] ^= 1 }), ErrNotAuthentic},
		{"for another request", otherKey, good, ErrNotAuthentic},
		{"cert for another key", key, respond(req, issue(ca, stranger, "n-7", RoleStorage, "zone-b"), ca.CertDER()), ErrBadCert},
		{"cert with role tenant", key, respond(req, issue(ca, pub, "n-7", RoleTenant, "zone-b"), ca.CertDER()), ErrRole},
		{"cert for another node", key, respond(req, issue(ca, pub, "n-8", RoleStorage, "zone-b"), ca.CertDER()), ErrWrongNode},
		{"cert for another zone", key, respond(req, issue(ca, pub, "n-7", RoleStorage, "zone-c"), ca.CertDER()), ErrBadCert},
	} {
		if id, gk, err := OpenEnrollResponse(inv, ts, "", c.key, c.resp); !errors.Is(err, c.want) || id != nil || gk != nil {
			t.Errorf("%s: OpenEnrollResponse gave %v, %x, %v; want %v", c.name, id, gk, err, c.want)
		}
	}
	if _, err := NewEnrollResponse(ts, req, good.Cert, good.CA, make([]byte, 16)); err == nil {
		t.Error("NewEnrollResponse sealed a 16-byte gossip key")
	}
}
