package cluster

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"
)

// Profile selects the gossip timers (probe and gossip intervals, timeouts,
// suspicion) for the network the cluster runs on.
type Profile int

// The profiles.
const (
	// ProfileLAN is memberlist's DefaultLANConfig: one data centre. A
	// failed node is detected in a few seconds. The default.
	ProfileLAN Profile = iota
	// ProfileWAN is memberlist's DefaultWANConfig: members far apart.
	ProfileWAN
	// ProfileLocal is memberlist's DefaultLocalConfig: all members on one
	// host or a fast local network.
	ProfileLocal
	// ProfileTest shrinks every timer, as serf's own tests do, so that
	// tests on loopback see joins, failures and leaves within about a
	// second. Never use it across a real network: it declares a member
	// failed after a few hundred milliseconds of silence.
	ProfileTest
)

func (p Profile) String() string {
	switch p {
	case ProfileLAN:
		return "lan"
	case ProfileWAN:
		return "wan"
	case ProfileLocal:
		return "local"
	case ProfileTest:
		return "test"
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// Config configures a Cluster. Start from DefaultConfig.
type Config struct {
	// Self is what this node announces: its ID (the serf node name, which
	// must be unique in the cluster), zone, weight, roles and addresses.
	// Its Gossip, Status and Since are ignored. Encoded as serf tags, it
	// must fit in MaxTagBytes; Validate checks that.
	Self Member

	// BindAddr is the ip:port gossip listens on, TCP and UDP on the same
	// port. The host must be an IP literal or empty (memberlist does not
	// resolve names); empty or 0.0.0.0 listens on every interface. Port 0
	// takes a free port (for tests; GossipAddr tells which). Default
	// "0.0.0.0:7946".
	BindAddr string

	// Advertise is the ip:port the other members reach this node's gossip
	// at, when it is not BindAddr (NAT, containers). Empty: the bind
	// address or, if that is unspecified, the host's first private IP with
	// the bind port; memberlist refuses to start if the host has none, and
	// then Advertise must be set.
	Advertise string

	// Join are the gossip addresses (host:port; a host name resolves to
	// every address it has) of any members of an existing cluster. Start
	// contacts each; one answer is enough, as the node learns the rest of
	// the cluster from it. Empty: the node starts a cluster of its own,
	// which others may join.
	Join []string

	// JoinTimeout bounds how long Start keeps trying Join when no address
	// answers, since a node may start before its peers: it retries with
	// backoff (200ms doubling up to 5s) until one answers, another member
	// joins this node meanwhile, or JoinTimeout passes, when Start fails.
	// A name conflict or a member holding another secret fails at once.
	// Zero tries once. Default 1 minute.
	JoinTimeout time.Duration

	// Secret is the cluster secret, at least 16 bytes. The gossip key is
	// derived from it (nodeauth.DeriveKey(Secret, "gossip")): all gossip,
	// UDP and TCP, is encrypted and authenticated with AES-256-GCM, and a
	// process without the secret can neither join nor read it. A node
	// that does not hold the secret (a contributor's storage node) gives
	// GossipKey instead, the same derived key handed to it when it
	// enrolled. One of the two is required.
	Secret []byte
	// GossipKey is the 32-byte gossip key itself (GossipKey(secret)),
	// used when Secret is nil.
	GossipKey []byte

	// Logger receives serf's and memberlist's logs, adapted to structured
	// records (attribute "lib": "serf" or "memberlist"): their errors at
	// Error, warnings at Warn, everything else at Debug. The Cluster itself
	// logs membership changes at Info (failures at Warn). Nil discards.
	Logger *slog.Logger

	// Profile selects the gossip timers. Default ProfileLAN.
	Profile Profile

	// ReconnectTimeout is how long a failed member stays listed (as
	// StatusFailed) while serf keeps trying to reconnect to it; then it is
	// forgotten. Placement does not depend on it: the layout, not the
	// member list, decides where shards go. Default 24h.
	ReconnectTimeout time.Duration

	// TombstoneTimeout is how long a member that left gracefully stays
	// listed (as StatusLeft) before it is forgotten. Default 24h.
	TombstoneTimeout time.Duration

	// testHook, when set, edits the serf configuration just before serf
	// is created. Tests only.
	testHook func(*serf.Config)
}

// DefaultConfig returns a complete Config but for Self and Secret, which
// identify the node and the cluster and have no defaults.
func DefaultConfig() Config {
	return Config{
		BindAddr:         "0.0.0.0:7946",
		JoinTimeout:      time.Minute,
		Profile:          ProfileLAN,
		ReconnectTimeout: 24 * time.Hour,
		TombstoneTimeout: 24 * time.Hour,
	}
}

// Limits on identifiers, checked by Validate.
const (
	maxIDLen   = 64
	maxZoneLen = 64
)

// Validate returns nil if c is usable, or an error that lists every
// problem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("cluster: "+format, args...))
	}

	s := c.Self
	if err := checkName(s.ID, maxIDLen); err != nil {
		bad("Self.ID: %v", err)
	}
	if s.Zone != "" {
		if err := checkName(s.Zone, maxZoneLen); err != nil {
			bad("Self.Zone: %v", err)
		}
	}
	if len(s.Roles) == 0 {
		bad("Self.Roles: a node needs at least one role (%s, %s, %s)", RoleStorage, RoleGateway, RoleMeta)
	}
	for i, r := range s.Roles {
		if !r.known() {
			bad("Self.Roles: unknown role %q", r)
		}
		for _, prev := range s.Roles[:i] {
			if prev == r {
				bad("Self.Roles: %q is listed twice", r)
			}
		}
	}
	switch w := s.Weight; {
	case math.IsNaN(w) || math.IsInf(w, 0) || w < 0:
		bad("Self.Weight %v: must be a finite number >= 0", w)
	case s.HasRole(RoleStorage) && w == 0:
		bad("Self.Weight: a storage node needs a weight > 0")
	case !s.HasRole(RoleStorage) && w != 0:
		bad("Self.Weight %v: only a storage node has a weight", w)
	}
	checkRoleAddr := func(field, addr string, role Role) {
		switch {
		case !s.HasRole(role) && addr != "":
			bad("Self.%s %q: only a %s node has one", field, addr, role)
		case s.HasRole(role) && addr == "":
			bad("Self.%s: a %s node needs one", field, role)
		case addr != "":
			if err := checkDialAddr(addr); err != nil {
				bad("Self.%s: %v", field, err)
			}
		}
	}
	if err := checkDialAddr(s.APIAddr); err != nil {
		bad("Self.APIAddr: %v", err)
	}
	checkRoleAddr("RaftAddr", s.RaftAddr, RoleMeta)
	checkRoleAddr("S3Addr", s.S3Addr, RoleGateway)
	if n := encodedSize(encodeTags(s)); n > MaxTagBytes {
		bad("Self: the tags (zone, weight, roles and addresses) take %d bytes encoded, over serf's limit of %d; use shorter host names or IP addresses", n, MaxTagBytes)
	}

	if _, _, err := splitIPPort(c.BindAddr, true); err != nil {
		bad("BindAddr: %v", err)
	}
	if c.Advertise != "" {
		if ip, port, err := splitIPPort(c.Advertise, false); err != nil {
			bad("Advertise: %v", err)
		} else if ip == "" || net.ParseIP(ip).IsUnspecified() || port == 0 {
			bad("Advertise %q: must be a reachable ip:port", c.Advertise)
		}
	}
	for i, a := range c.Join {
		if a == "" {
			bad("Join[%d] is empty", i)
		}
	}
	if c.JoinTimeout < 0 {
		bad("JoinTimeout %v is negative", c.JoinTimeout)
	}
	switch {
	case c.Secret == nil && len(c.GossipKey) != 32:
		bad("GossipKey: want 32 bytes (or a Secret), have %d", len(c.GossipKey))
	case c.Secret != nil && len(c.Secret) < 16:
		bad("Secret: the cluster secret must be at least 16 bytes, have %d", len(c.Secret))
	}
	if c.Profile < ProfileLAN || c.Profile > ProfileTest {
		bad("unknown %v", c.Profile)
	}
	if c.ReconnectTimeout <= 0 {
		bad("ReconnectTimeout %v: must be > 0 (start from DefaultConfig)", c.ReconnectTimeout)
	}
	if c.TombstoneTimeout <= 0 {
		bad("TombstoneTimeout %v: must be > 0 (start from DefaultConfig)", c.TombstoneTimeout)
	}
	return errors.Join(errs...)
}

// checkName checks an ID or zone: 1 to max characters of [A-Za-z0-9._-].
func checkName(s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%q: must be 1 to %d characters", s, max)
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q: only letters, digits, '.', '_' and '-' are allowed", s)
		}
	}
	return nil
}

// checkDialAddr checks an address other nodes will dial: host:port with a
// host (name or IP, not 0.0.0.0 or ::) and a port from 1 to 65535.
func checkDialAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: not host:port: %v", addr, err)
	}
	if host == "" {
		return fmt.Errorf("%q: no host; other nodes need a reachable address", addr)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%q: %s is not reachable from other nodes; advertise a real address", addr, host)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("%q: port must be 1 to 65535", addr)
	}
	return nil
}

// splitIPPort splits ip:port with a literal IP (or an empty host), as
// memberlist takes them. Port 0 is allowed when zeroPort is set.
func splitIPPort(addr string, zeroPort bool) (ip string, port int, err error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: not ip:port: %v", addr, err)
	}
	if host != "" && net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("%q: the host must be an IP address", addr)
	}
	p, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || (p == 0 && !zeroPort) {
		return "", 0, fmt.Errorf("%q: bad port", addr)
	}
	return host, int(p), nil
}

// serfConfig translates c, which Validate accepted, into serf's
// configuration. key is the gossip key; events receives serf's events;
// logger is serf's and memberlist's logger.
func (c *Config) serfConfig(key []byte, events chan<- serf.Event, logger *log.Logger) (*serf.Config, error) {
	var ml *memberlist.Config
	switch c.Profile {
	case ProfileWAN:
		ml = memberlist.DefaultWANConfig()
	case ProfileLocal:
		ml = memberlist.DefaultLocalConfig()
	case ProfileTest:
		ml = memberlist.DefaultLocalConfig()
		ml.GossipInterval = 20 * time.Millisecond
		ml.ProbeInterval = 200 * time.Millisecond
		ml.ProbeTimeout = 100 * time.Millisecond
		ml.SuspicionMult = 2
		ml.TCPTimeout = time.Second
		ml.PushPullInterval = 2 * time.Second
	default:
		ml = memberlist.DefaultLANConfig()
	}
	host, port, _ := splitIPPort(c.BindAddr, true)
	if host == "" {
		host = "0.0.0.0"
	}
	ml.BindAddr, ml.BindPort = host, port
	ml.AdvertiseAddr, ml.AdvertisePort = "", port
	if c.Advertise != "" {
		ml.AdvertiseAddr, ml.AdvertisePort, _ = splitIPPort(c.Advertise, false)
	}
	keyring, err := memberlist.NewKeyring(nil, key)
	if err != nil {
		return nil, fmt.Errorf("cluster: gossip keyring: %w", err)
	}
	ml.Keyring = keyring
	ml.GossipVerifyIncoming = true // refuse unencrypted packets and streams
	ml.GossipVerifyOutgoing = true
	ml.LogOutput, ml.Logger = nil, logger
	// A node restarted at another address (a new container IP) takes its
	// ID back as soon as its previous incarnation is declared dead,
	// rather than after memberlist forgets it (GossipToTheDeadTime).
	ml.DeadNodeReclaimTime = time.Nanosecond

	sc := serf.DefaultConfig()
	sc.MemberlistConfig = ml
	sc.NodeName = c.Self.ID
	sc.Tags = encodeTags(c.Self)
	sc.EventCh = events
	sc.LogOutput, sc.Logger = nil, logger
	sc.ReconnectTimeout = c.ReconnectTimeout
	sc.TombstoneTimeout = c.TombstoneTimeout
	// Nothing uses network coordinates; they would only add to every ack.
	sc.DisableCoordinates = true
	if c.Profile == ProfileTest {
		sc.ReapInterval = 500 * time.Millisecond
		sc.ReconnectInterval = 500 * time.Millisecond
		sc.LeavePropagateDelay = 100 * time.Millisecond
	}
	if c.testHook != nil {
		c.testHook(sc)
	}
	return sc, nil
}
