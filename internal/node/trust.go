package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cairn/internal/cluster"
	"cairn/internal/durable"
	"cairn/internal/meta"
	"cairn/internal/nodeapi"
	"cairn/internal/pki"
)

// Files of a node's trust in its data dir.
const (
	// identityFile holds a contributor's storage node identity: its
	// private key, its certificate and the cluster CA's (mode 0600).
	identityFile = "identity.pem"
	// gossipKeyFile holds the gossip key a contributor was given when it
	// enrolled (mode 0600).
	gossipKeyFile = "gossip.key"
)

// storageCertValidity is how long a contributor's certificate is valid.
// Revocation (storectl node remove) is what ends a node's membership;
// the expiry only bounds a certificate nobody revoked.
const storageCertValidity = 10 * 365 * 24 * time.Hour

// trust is what a node proves about itself and checks about its peers.
//
// A tenant node (one given the cluster secret: metadata voters and
// gateways, and storage nodes the tenant runs itself) derives the cluster
// CA from the secret and issues itself a tenant certificate at every
// start. A contributor's storage node holds only its own key and
// certificate, bound by the CA to its node ID, role and zone, which it got
// by enrolling with a join token.
//
// Every node API connection is mutual TLS 1.3 with the cluster CA. A
// storage node serves tenant peers only; a tenant node completes the
// handshake with any peer the CA certified and not revoked, and then
// serves tenant peers only (Authorize): a storage certificate authorizes
// being asked to hold shards, never asking.
type trust struct {
	id        *pki.Identity
	secret    []byte  // tenant nodes only
	ca        *pki.CA // tenant nodes only
	gossipKey []byte

	// revoked holds the node IDs an operator took out of the layout
	// (storectl node remove): their certificates are refused both ways.
	// Tenant nodes keep it current from the layout; storage nodes serve
	// tenants only and need none.
	revoked atomic.Pointer[map[string]bool]

	log *slog.Logger
}

// tenant reports whether this node holds the cluster secret.
func (t *trust) tenant() bool { return t.secret != nil }

// newTrust returns the node's trust: from the cluster secret, or from the
// identity saved in dataDir, or by enrolling with joinToken.
func newTrust(ctx context.Context, cfg Config, nodeID string, log *slog.Logger) (*trust, error) {
	t := &trust{secret: cfg.Secret, log: log}
	if cfg.Secret != nil {
		ca, err := pki.DeriveCA(cfg.Secret)
		if err != nil {
			return nil, err
		}
		if t.id, err = pki.NewTenantIdentity(ca, nodeID); err != nil {
			return nil, err
		}
		if t.gossipKey, err = cluster.GossipKey(cfg.Secret); err != nil {
			return nil, err
		}
		t.ca = ca
		return t, nil
	}
	idPath := filepath.Join(cfg.DataDir, identityFile)
	id, err := pki.LoadIdentity(idPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if cfg.JoinToken == "" {
			return nil, errors.New("this node has no cluster secret and no identity: give it --join-token (from storectl node invite), or the cluster secret for a tenant node")
		}
		if id, t.gossipKey, err = enroll(ctx, cfg, nodeID, log); err != nil {
			return nil, err
		}
		if err := id.Save(idPath); err != nil {
			return nil, fmt.Errorf("save the node's identity: %w", err)
		}
		if err := durable.WriteFile(filepath.Join(cfg.DataDir, gossipKeyFile), t.gossipKey, 0o600); err != nil {
			return nil, fmt.Errorf("save the gossip key: %w", err)
		}
		log.Info("enrolled in the cluster", "node", id.Peer.NodeID, "zone", id.Peer.Zone, "role", id.Peer.Role)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", idPath, err)
	default:
		if t.gossipKey, err = os.ReadFile(filepath.Join(cfg.DataDir, gossipKeyFile)); err != nil {
			return nil, fmt.Errorf("read the gossip key: %w", err)
		}
	}
	if id.Peer.NodeID != nodeID {
		return nil, fmt.Errorf("%s is the identity of node %s, but this node is %s", idPath, id.Peer.NodeID, nodeID)
	}
	if id.Peer.Role != pki.RoleStorage {
		return nil, fmt.Errorf("%s has role %s; a node without the cluster secret can only be a storage node", idPath, id.Peer.Role)
	}
	t.id = id
	return t, nil
}

// errRevoked is the refusal of a revoked node's certificate.
var errRevoked = errors.New("the node's certificate is revoked (removed from the layout)")

// isRevoked reports whether p's certificate is revoked: a storage
// certificate of a node removed from the layout. A tenant certificate is
// never revoked: its holder has the cluster secret and could issue itself
// another (a tenant node that cannot be trusted means a new secret), and a
// tenant node that runs storage and is removed from the layout still
// serves the cluster in its other roles.
func (t *trust) isRevoked(p pki.Peer) bool {
	if p.Role != pki.RoleStorage {
		return false
	}
	m := t.revoked.Load()
	return m != nil && (*m)[p.NodeID]
}

// setLayout takes the revoked nodes from a layout: those an operator
// removed.
func (t *trust) setLayout(l *meta.Layout) {
	if l == nil {
		return
	}
	m := map[string]bool{}
	for _, n := range l.Nodes {
		if n.Removed {
			m[n.ID] = true
		}
	}
	t.revoked.Store(&m)
}

// serverTLS is the node API's and Raft's TLS config: mutual TLS with the
// cluster CA; a revoked peer fails the handshake, and a storage node
// completes it with tenant peers only.
func (t *trust) serverTLS() *tls.Config {
	return pki.ServerTLS(t.id, func(p pki.Peer) error {
		if t.isRevoked(p) {
			t.log.Warn("refused a revoked node's connection", "peer", p.NodeID)
			return fmt.Errorf("%s: %w", p.NodeID, errRevoked)
		}
		if !t.tenant() && p.Role != pki.RoleTenant {
			return fmt.Errorf("%s has role %s: a storage node serves tenant nodes only", p.NodeID, p.Role)
		}
		return nil
	})
}

// raftServerTLS admits tenant peers only: Raft is between metadata nodes.
func (t *trust) raftServerTLS() *tls.Config {
	return pki.ServerTLS(t.id, func(p pki.Peer) error {
		if p.Role != pki.RoleTenant {
			return fmt.Errorf("%s has role %s: only tenant nodes speak Raft", p.NodeID, p.Role)
		}
		return nil
	})
}

// authorize lets through requests from tenant peers only.
func (t *trust) authorize(r *http.Request) error {
	p, ok := pki.PeerFrom(r.TLS)
	switch {
	case !ok:
		return errors.New("no verified client certificate")
	case p.Role != pki.RoleTenant:
		return fmt.Errorf("node %s has role %s, which may not call %s", p.NodeID, p.Role, r.URL.Path)
	}
	return nil
}

// requireTenant wraps a node API handler with authorize.
func (t *trust) requireTenant(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := t.authorize(r); err != nil {
			t.log.Warn("refused a node API request", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
			http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// clientTLS is the config for calling node want (any node when "",
// tenant nodes only when tenantOnly).
func (t *trust) clientTLS(want string, tenantOnly bool) *tls.Config {
	return pki.ClientTLS(t.id, func(p pki.Peer) error {
		switch {
		case want != "" && p.NodeID != want:
			return fmt.Errorf("the node at this address is %s, not %s", p.NodeID, want)
		case t.isRevoked(p):
			return fmt.Errorf("%s: %w", p.NodeID, errRevoked)
		case tenantOnly && p.Role != pki.RoleTenant:
			return fmt.Errorf("%s has role %s, not tenant", p.NodeID, p.Role)
		}
		return nil
	})
}

// tenantTransport is the HTTP transport for calls to tenant nodes
// (metadata, admin forwarding): their certificates must say tenant.
func (t *trust) tenantTransport() *http.Transport {
	return nodeapi.NewTLSTransport(t.clientTLS("", true))
}

// nodeTransport is the HTTP transport for calls to the node id: its
// certificate must name it.
func (t *trust) nodeTransport(id string) *http.Transport {
	return nodeapi.NewTLSTransport(t.clientTLS(id, false))
}

// probe connects to addr and returns who the node there is, when it is
// want (any node when ""): what gossip claims about a member is believed
// only once its certificate says the same.
func (t *trust) probe(ctx context.Context, addr, want string) (pki.Peer, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	d := tls.Dialer{Config: t.clientTLS(want, false)}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return pki.Peer{}, err
	}
	defer c.Close()
	cs := c.(*tls.Conn).ConnectionState()
	p, ok := pki.PeerFrom(&cs)
	if !ok {
		return pki.Peer{}, errors.New("no peer certificate")
	}
	return p, nil
}

// probeCache remembers what probes found, so that a member is probed
// once per address (and a failing one at most every probeRetry).
type probeCache struct {
	t  *trust
	mu sync.Mutex
	m  map[string]probed // by node ID
}

type probed struct {
	addr string
	peer pki.Peer
	err  error
	at   time.Time
}

// probeRetry is how long a refused probe is believed; a member that could
// not be reached (its API not serving yet, or down) is probed again at the
// next ask.
const probeRetry = 10 * time.Second

// check returns the verified peer at addr claiming to be id.
func (c *probeCache) check(ctx context.Context, id, addr string) (pki.Peer, error) {
	c.mu.Lock()
	p, ok := c.m[id]
	c.mu.Unlock()
	if ok && p.addr == addr && (p.err == nil || time.Since(p.at) < probeRetry) {
		return p.peer, p.err
	}
	peer, err := c.t.probe(ctx, addr, id)
	if ne, ok := errors.AsType[*net.OpError](err); (ok && ne.Op == "dial") || (err != nil && ctx.Err() != nil) {
		// Not reached: a question of liveness, not of trust. Not cached.
		c.t.log.Debug("could not reach a member to check its certificate", "member", id, "addr", addr, "err", err)
		return pki.Peer{}, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]probed{}
	}
	c.m[id] = probed{addr: addr, peer: peer, err: err, at: time.Now()}
	c.mu.Unlock()
	if err != nil {
		c.t.log.Warn("a member's claims were not confirmed by its certificate; ignoring it", "member", id, "addr", addr, "err", err)
	}
	return peer, err
}

// enrollPath is where tenant nodes serve enrollment: on the S3 port of
// gateways (the door contributors can reach) and on the admin listener.
const enrollPath = "/_cairn/enroll"

// enroll makes this node's key pair and asks the invite's endpoints for
// its certificate.
func enroll(ctx context.Context, cfg Config, nodeID string, log *slog.Logger) (*pki.Identity, []byte, error) {
	inv, tokenSecret, err := pki.ParseToken(strings.TrimSpace(cfg.JoinToken))
	if err != nil {
		return nil, nil, fmt.Errorf("--join-token: %w", err)
	}
	if inv.NodeID != "" && inv.NodeID != nodeID {
		return nil, nil, fmt.Errorf("the invite is for node %s, but this node is %s (give --node-id %s to a new data dir)", inv.NodeID, nodeID, inv.NodeID)
	}
	if time.Now().After(inv.Expires) {
		return nil, nil, fmt.Errorf("the invite expired at %s; ask the operator for a new one (storectl node invite)", inv.Expires.Format(time.RFC3339))
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(pki.NewEnrollRequest(inv, tokenSecret, nodeID, pub))
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, ep := range inv.Endpoints {
		id, gk, err := enrollAt(ctx, ep, body, inv, tokenSecret, nodeID, key)
		if err == nil {
			return id, gk, nil
		}
		var refused *enrollRefused
		if errors.As(err, &refused) {
			return nil, nil, err // the tenant said no: another endpoint says the same
		}
		log.Info("enrollment endpoint did not answer", "endpoint", ep, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", ep, err))
	}
	return nil, nil, fmt.Errorf("enroll: no endpoint of the invite answered: %w", errors.Join(errs...))
}

// enrollRefused is a tenant node's answer that it will not enroll us.
type enrollRefused struct{ msg string }

func (e *enrollRefused) Error() string { return "enrollment refused: " + e.msg }

func enrollAt(ctx context.Context, endpoint string, body []byte, inv pki.Invite, tokenSecret []byte, nodeID string, key ed25519.PrivateKey) (*pki.Identity, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+enrollPath, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	// The exchange is authenticated by the token, not by the connection:
	// an HTTPS endpoint's certificate is not checked against a system
	// pool (the response must chain to the CA the token pins anyway).
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} // #nosec G402 -- see above
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return nil, nil, &enrollRefused{msg: msg}
		}
		return nil, nil, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	var er pki.EnrollResponse
	if err := json.Unmarshal(b, &er); err != nil {
		return nil, nil, fmt.Errorf("enrollment response: %w", err)
	}
	return pki.OpenEnrollResponse(inv, tokenSecret, nodeID, key, er)
}
