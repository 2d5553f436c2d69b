package pki

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"cairn/internal/nodeauth"
)

// tokenPrefix begins every join token, and says its format version.
const tokenPrefix = "cairn-join-1."

// GossipKeySize is the size of the gossip key an enrollment delivers.
const GossipKeySize = 32

// Invite is what a join token says about the node it admits and the
// cluster it joins.
type Invite struct {
	ID            string    // random, 16 hex characters: NewInvite sets it
	Zone          string    // the storage node's zone
	NodeID        string    // optional: the node ID the invite is for ("" = the joiner picks / random)
	Expires       time.Time // to the second
	CAFingerprint string    // the cluster CA's (CA.Fingerprint): NewInvite sets it
	Endpoints     []string  // base URLs (http(s)://host:port) where enrollment is served
	Gossip        []string  // gossip addresses (host:port) to join
}

// tokenBody is a join token's payload, as JSON.
type tokenBody struct {
	ID            string   `json:"id"`
	Zone          string   `json:"zone"`
	NodeID        string   `json:"node_id,omitempty"`
	Expires       int64    `json:"expires"`
	CAFingerprint string   `json:"ca_fingerprint"`
	Endpoints     []string `json:"endpoints"`
	Gossip        []string `json:"gossip,omitempty"`
	Secret        []byte   `json:"secret"`
}

// tokenChecksumSize is how much of the payload's SHA-256 follows it in a
// token. It catches a token damaged in copying; it is no protection
// against someone who holds the token, and holds its secret too.
const tokenChecksumSize = 4

// tokenEncoding refuses the non-zero trailing bits that the lenient
// decoder ignores, so that every character of a token counts.
var tokenEncoding = base64.RawURLEncoding.Strict()

// NewInvite returns the join token of inv, which it gives a random ID and
// the fingerprint of the CA derived from secret (refusing another one
// given): "cairn-join-1." and, in base64url, the invite and its secret as
// JSON and a checksum. ParseToken reads the ID back.
func NewInvite(secret []byte, inv Invite) (token string, err error) {
	ca, err := DeriveCA(secret)
	if err != nil {
		return "", fmt.Errorf("pki: invite: %w", err)
	}
	if inv.CAFingerprint != "" && inv.CAFingerprint != ca.Fingerprint() {
		return "", fmt.Errorf("pki: invite: CA fingerprint %s is not this cluster's", inv.CAFingerprint)
	}
	inv.CAFingerprint = ca.Fingerprint()
	var id [8]byte
	rand.Read(id[:])
	inv.ID = hex.EncodeToString(id[:])
	if err := checkInvite(inv); err != nil {
		return "", fmt.Errorf("pki: invite: %w", err)
	}
	ts, err := deriveTokenSecret(secret, inv.ID, inv.Zone, inv.NodeID, inv.Expires.Unix())
	if err != nil {
		return "", fmt.Errorf("pki: invite: %w", err)
	}
	body, err := json.Marshal(tokenBody{
		ID: inv.ID, Zone: inv.Zone, NodeID: inv.NodeID, Expires: inv.Expires.Unix(),
		CAFingerprint: inv.CAFingerprint, Endpoints: inv.Endpoints, Gossip: inv.Gossip,
		Secret: ts,
	})
	if err != nil {
		return "", fmt.Errorf("pki: invite: %w", err)
	}
	sum := sha256.Sum256(body)
	return tokenPrefix + tokenEncoding.EncodeToString(append(body, sum[:tokenChecksumSize]...)), nil
}

// ParseToken decodes a join token (on the joiner's side), returning the
// invite and the token's secret. It checks the token's form, not its
// secret: only a tenant node can (CheckEnrollRequest).
func ParseToken(token string) (Invite, []byte, error) {
	enc, ok := strings.CutPrefix(strings.TrimSpace(token), tokenPrefix)
	if !ok {
		return Invite{}, nil, fmt.Errorf("%w: does not begin with %q", ErrBadToken, tokenPrefix)
	}
	raw, err := tokenEncoding.DecodeString(enc)
	if err != nil {
		return Invite{}, nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if len(raw) < tokenChecksumSize {
		return Invite{}, nil, fmt.Errorf("%w: too short", ErrBadToken)
	}
	body, check := raw[:len(raw)-tokenChecksumSize], raw[len(raw)-tokenChecksumSize:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:tokenChecksumSize], check) {
		return Invite{}, nil, fmt.Errorf("%w: checksum does not match: the token was damaged in copying", ErrBadToken)
	}
	var b tokenBody
	if err := json.Unmarshal(body, &b); err != nil {
		return Invite{}, nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	inv := Invite{
		ID: b.ID, Zone: b.Zone, NodeID: b.NodeID, Expires: time.Unix(b.Expires, 0),
		CAFingerprint: b.CAFingerprint, Endpoints: b.Endpoints, Gossip: b.Gossip,
	}
	if err := checkInvite(inv); err != nil {
		return Invite{}, nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if len(b.Secret) != sha256.Size {
		return Invite{}, nil, fmt.Errorf("%w: a %d-byte secret", ErrBadToken, len(b.Secret))
	}
	return inv, b.Secret, nil
}

// checkInvite says what is wrong with an invite, or nil.
func checkInvite(inv Invite) error {
	if err := checkInviteClaims(inv.ID, inv.Zone, inv.NodeID); err != nil {
		return err
	}
	if inv.Expires.Unix() <= 0 {
		return errors.New("no expiry")
	}
	if b, err := hex.DecodeString(inv.CAFingerprint); err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != inv.CAFingerprint {
		return fmt.Errorf("CA fingerprint %q: want 64 lowercase hex digits", inv.CAFingerprint)
	}
	if len(inv.Endpoints) == 0 {
		return errors.New("no enrollment endpoint")
	}
	for _, e := range inv.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("endpoint %q: want http(s)://host:port", e)
		}
	}
	for _, g := range inv.Gossip {
		if _, _, err := net.SplitHostPort(g); err != nil {
			return fmt.Errorf("gossip address %q: want host:port", g)
		}
	}
	return nil
}

// checkInviteClaims says what is wrong with an invite's ID, zone or node
// ID, or nil.
func checkInviteClaims(id, zone, nodeID string) error {
	if b, err := hex.DecodeString(id); err != nil || len(b) != 8 {
		return fmt.Errorf("invite ID %q: want 16 hex digits", id)
	}
	if nodeID != "" && !validName(nodeID) {
		return fmt.Errorf("node ID %q: want 1 to 64 of A-Z a-z 0-9 . _ -", nodeID)
	}
	if zone == "" {
		return errors.New("an invite needs a zone")
	}
	if !validName(zone) {
		return fmt.Errorf("zone %q: want 1 to 64 of A-Z a-z 0-9 . _ -", zone)
	}
	return nil
}

// deriveTokenSecret derives the secret of the invite with these claims.
func deriveTokenSecret(secret []byte, id, zone, nodeID string, expires int64) ([]byte, error) {
	key, err := nodeauth.DeriveKey(secret, "invite v1")
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, key)
	h.Write(frame(nil, []byte(id), []byte(zone), []byte(nodeID), be64(expires)))
	return h.Sum(nil), nil
}

// frame appends each part to b after its length (4 bytes, big endian), so
// that no two lists of parts frame to the same bytes.
func frame(b []byte, parts ...[]byte) []byte {
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// EnrollRequest is what a joiner POSTs (as JSON) to enroll.
type EnrollRequest struct {
	InviteID     string `json:"invite_id"`                // as in the invite
	Zone         string `json:"zone"`                     // as in the invite
	InviteNodeID string `json:"invite_node_id,omitempty"` // as in the invite: "" if it lets the joiner pick
	Expires      int64  `json:"expires"`                  // as in the invite, in Unix seconds
	NodeID       string `json:"node_id"`                  // the node ID to certify
	PublicKey    []byte `json:"public_key"`               // Ed25519
	MAC          []byte `json:"mac"`                      // HMAC-SHA256 under the token's secret
}

// mac returns the request's MAC under the token's secret.
func (r EnrollRequest) mac(tokenSecret []byte) []byte {
	h := hmac.New(sha256.New, tokenSecret)
	h.Write(frame(nil, []byte("enroll request v1"),
		[]byte(r.InviteID), []byte(r.Zone), []byte(r.InviteNodeID), be64(r.Expires),
		[]byte(r.NodeID), r.PublicKey))
	return h.Sum(nil)
}

// NewEnrollRequest returns the request that enrolls pub as node nodeID
// with the invite inv, whose token's secret is tokenSecret. An empty
// nodeID is the invite's.
func NewEnrollRequest(inv Invite, tokenSecret []byte, nodeID string, pub ed25519.PublicKey) EnrollRequest {
	if nodeID == "" {
		nodeID = inv.NodeID
	}
	r := EnrollRequest{
		InviteID: inv.ID, Zone: inv.Zone, InviteNodeID: inv.NodeID, Expires: inv.Expires.Unix(),
		NodeID: nodeID, PublicKey: pub,
	}
	r.MAC = r.mac(tokenSecret)
	return r
}

// CheckEnrollRequest checks an enrollment request on a tenant node: it
// derives the token's secret from the cluster secret and the invite's
// claims the request repeats, checks the request's MAC under it, then that
// the invite has not expired at now, and that the node ID is the invite's
// when the invite names one. It returns the token's secret, for the
// response. It keeps no state: refusing an invite redeemed before, or a
// node ID already taken, is the caller's part.
func CheckEnrollRequest(secret []byte, req EnrollRequest, now time.Time) (tokenSecret []byte, err error) {
	if err := checkInviteClaims(req.InviteID, req.Zone, req.InviteNodeID); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if !validName(req.NodeID) {
		return nil, fmt.Errorf("%w: node ID %q: want 1 to 64 of A-Z a-z 0-9 . _ -", ErrBadToken, req.NodeID)
	}
	if len(req.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: a %d-byte public key, not Ed25519", ErrBadToken, len(req.PublicKey))
	}
	ts, err := deriveTokenSecret(secret, req.InviteID, req.Zone, req.InviteNodeID, req.Expires)
	if err != nil {
		return nil, fmt.Errorf("pki: enroll: %w", err)
	}
	if !hmac.Equal(req.MAC, req.mac(ts)) {
		return nil, fmt.Errorf("%w: enrollment request for invite %s", ErrNotAuthentic, req.InviteID)
	}
	if exp := time.Unix(req.Expires, 0); !now.Before(exp) {
		return nil, fmt.Errorf("%w: invite %s expired at %s", ErrExpired, req.InviteID, exp.UTC().Format(time.RFC3339))
	}
	if req.InviteNodeID != "" && req.NodeID != req.InviteNodeID {
		return nil, fmt.Errorf("%w: invite %s is for node %s, not %s", ErrWrongNode, req.InviteID, req.InviteNodeID, req.NodeID)
	}
	return ts, nil
}

// EnrollResponse is a tenant node's answer to an EnrollRequest (as JSON).
type EnrollResponse struct {
	Cert            []byte `json:"cert"`              // the node's certificate, DER
	CA              []byte `json:"ca"`                // the CA certificate, DER
	SealedGossipKey []byte `json:"sealed_gossip_key"` // nonce and AES-256-GCM ciphertext
	MAC             []byte `json:"mac"`               // HMAC-SHA256 under the token's secret
}

// mac returns the response's MAC under the token's secret, bound to the
// request it answers by that request's MAC.
func (r EnrollResponse) mac(tokenSecret, reqMAC []byte) []byte {
	h := hmac.New(sha256.New, tokenSecret)
	h.Write(frame(nil, []byte("enroll response v1"), reqMAC, r.Cert, r.CA, r.SealedGossipKey))
	return h.Sum(nil)
}

// gossipSealer returns the AEAD that seals the gossip key of the
// enrollment whose token's secret is tokenSecret. It draws a random nonce
// for each seal and puts it before the ciphertext.
func gossipSealer(tokenSecret []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, tokenSecret, nil, "cairn enroll seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// NewEnrollResponse returns the response to req (which CheckEnrollRequest
// accepted, returning tokenSecret): the node's certificate, the CA's, and
// the gossip key sealed, all authenticated under the token's secret.
func NewEnrollResponse(tokenSecret []byte, req EnrollRequest, certDER, caDER, gossipKey []byte) (EnrollResponse, error) {
	if len(gossipKey) != GossipKeySize {
		return EnrollResponse{}, fmt.Errorf("pki: enroll response: a %d-byte gossip key, want %d", len(gossipKey), GossipKeySize)
	}
	aead, err := gossipSealer(tokenSecret)
	if err != nil {
		return EnrollResponse{}, fmt.Errorf("pki: enroll response: %w", err)
	}
	r := EnrollResponse{Cert: certDER, CA: caDER, SealedGossipKey: aead.Seal(nil, nil, gossipKey, req.MAC)}
	r.MAC = r.mac(tokenSecret, req.MAC)
	return r, nil
}

// OpenEnrollResponse checks the response to the request that enrolled
// key as node nodeID (as NewEnrollRequest made it) on the joiner's side:
// its MAC, that its CA has the invite's fingerprint, and that its
// certificate chains to that CA, is valid now, certifies key, names
// nodeID (the invite's if empty), the storage role and the invite's zone.
// It returns the node's identity and the gossip key.
func OpenEnrollResponse(inv Invite, tokenSecret []byte, nodeID string, key ed25519.PrivateKey, resp EnrollResponse) (*Identity, []byte, error) {
	req := NewEnrollRequest(inv, tokenSecret, nodeID, key.Public().(ed25519.PublicKey))
	if !hmac.Equal(resp.MAC, resp.mac(tokenSecret, req.MAC)) {
		return nil, nil, fmt.Errorf("%w: enrollment response for invite %s", ErrNotAuthentic, inv.ID)
	}
	if got := fingerprint(resp.CA); got != inv.CAFingerprint {
		return nil, nil, fmt.Errorf("%w: the response's CA is %s, the invite's %s", ErrNotTrusted, got, inv.CAFingerprint)
	}
	ca, err := x509.ParseCertificate(resp.CA)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: CA: %w", ErrBadCert, err)
	}
	id, err := newIdentity(resp.Cert, key, ca)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: enrollment response: %w", err)
	}
	switch p := id.Peer; {
	case p.Role != RoleStorage:
		return nil, nil, fmt.Errorf("%w: the enrollment certificate is for a %s node", ErrRole, p.Role)
	case p.NodeID != req.NodeID:
		return nil, nil, fmt.Errorf("%w: the enrollment certificate is for %s, not %s", ErrWrongNode, p.NodeID, req.NodeID)
	case p.Zone != inv.Zone:
		return nil, nil, fmt.Errorf("%w: the enrollment certificate is for zone %q, the invite for %q", ErrBadCert, p.Zone, inv.Zone)
	}
	aead, err := gossipSealer(tokenSecret)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: enrollment response: %w", err)
	}
	gossipKey, err := aead.Open(nil, nil, resp.SealedGossipKey, req.MAC)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: gossip key: %w", ErrNotAuthentic, err)
	}
	if len(gossipKey) != GossipKeySize {
		return nil, nil, fmt.Errorf("%w: a %d-byte gossip key", ErrBadToken, len(gossipKey))
	}
	return id, gossipKey, nil
}
