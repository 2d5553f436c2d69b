package cluster

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// Role is a part a node plays in the cluster. A node may play several.
type Role string

// The roles.
const (
	RoleStorage Role = "storage" // keeps shards; has a Weight
	RoleGateway Role = "gateway" // serves S3 on S3Addr
	RoleMeta    Role = "meta"    // a raft voter of the metadata store on RaftAddr
)

func (r Role) known() bool {
	return r == RoleStorage || r == RoleGateway || r == RoleMeta
}

// Status is a member's liveness as this node sees it. Serf does not
// expose memberlist's "suspect" state: a suspected member stays Alive
// until it refutes the suspicion or is declared Failed.
type Status string

// The statuses, as serf reports them.
const (
	// StatusAlive: the member answers probes.
	StatusAlive Status = "alive"
	// StatusLeaving: the member announced a graceful leave that is not
	// finished yet.
	StatusLeaving Status = "leaving"
	// StatusLeft: the member left gracefully. It is listed until
	// Config.TombstoneTimeout passes, then forgotten.
	StatusLeft Status = "left"
	// StatusFailed: the member stopped answering without leaving. Serf
	// keeps trying to reconnect until Config.ReconnectTimeout passes,
	// then forgets it.
	StatusFailed Status = "failed"
)

// Member is what a node tells the cluster about itself (carried in serf
// tags), plus what this node observes about it (Gossip, Status, Since).
type Member struct {
	// ID is the node's stable, unique ID, also its serf node name:
	// 1 to 64 characters of [A-Za-z0-9._-].
	ID string
	// Zone is the failure domain (rack, room, site) the node is in, in the
	// same alphabet as ID. Empty means the one default zone.
	Zone string
	// Weight is the node's storage capacity weight: > 0 for a storage
	// node, 0 otherwise.
	Weight float64
	// Roles are what the node does; at least one, no repeats.
	Roles []Role
	// APIAddr is the host:port of the node API (shards, metadata
	// forwarding, admin). Required.
	APIAddr string
	// RaftAddr is the host:port of raft on a meta node, "" otherwise.
	RaftAddr string
	// S3Addr is the host:port of the S3 API on a gateway, "" otherwise.
	S3Addr string
	// Version is the Cairn version the node runs (internal/version), ""
	// when it does not say (older nodes): what storectl version lists.
	Version string

	// Gossip is the ip:port the member gossips on. Set by Members and
	// Self; ignored in Config.Self.
	Gossip string
	// Status is the member's liveness as this node sees it. Set by
	// Members and Self; ignored in Config.Self.
	Status Status
	// Since is when this node saw Status change last, on its local clock.
	// Set by Members and Self; ignored in Config.Self.
	Since time.Time
}

// HasRole reports whether m plays role r.
func (m Member) HasRole(r Role) bool { return slices.Contains(m.Roles, r) }

// The tags a member carries in serf. Serf msgpack-encodes the whole map
// and memberlist refuses more than memberlist.MetaMaxSize (512) bytes, so
// the keys are short and empty values are left out. The format is
// versioned by tagVersion: a decoder refuses versions it does not know.
const (
	tagVersion = "v"
	tagZone    = "zone"
	tagWeight  = "w"
	tagRoles   = "roles"
	tagAPI     = "api"
	tagRaft    = "raft"
	tagS3      = "s3"
	tagSoft    = "sv" // the software's version; older nodes ignore it

	tagFormat = "1" // the value of tagVersion this package writes and reads
)

// MaxTagBytes is the limit on the encoded tags of a member, imposed by
// memberlist on node metadata.
const MaxTagBytes = memberlist.MetaMaxSize

// encodeTags returns m's tags. The ID is not a tag: it is the serf node name.
func encodeTags(m Member) map[string]string {
	t := map[string]string{tagVersion: tagFormat, tagAPI: m.APIAddr}
	roles := make([]string, len(m.Roles))
	for i, r := range m.Roles {
		roles[i] = string(r)
	}
	t[tagRoles] = strings.Join(roles, ",")
	if m.Zone != "" {
		t[tagZone] = m.Zone
	}
	if m.Weight != 0 {
		t[tagWeight] = strconv.FormatFloat(m.Weight, 'g', -1, 64)
	}
	if m.RaftAddr != "" {
		t[tagRaft] = m.RaftAddr
	}
	if m.S3Addr != "" {
		t[tagS3] = m.S3Addr
	}
	if m.Version != "" {
		t[tagSoft] = m.Version
	}
	return t
}

// decodeTags rebuilds the Member that node name announced in tags. It
// checks the format, not the values: a member is listed as it describes
// itself (its own Validate checked it), and unknown roles are kept for
// the consumer to skip, so that a newer node does not vanish from an
// older one's view.
func decodeTags(name string, t map[string]string) (Member, error) {
	if v, ok := t[tagVersion]; !ok {
		return Member{}, errors.New("no tag format version (not a Cairn node?)")
	} else if v != tagFormat {
		return Member{}, fmt.Errorf("tag format version %q, this node reads %q", v, tagFormat)
	}
	m := Member{
		ID:       name,
		Zone:     t[tagZone],
		APIAddr:  t[tagAPI],
		RaftAddr: t[tagRaft],
		S3Addr:   t[tagS3],
		Version:  t[tagSoft],
	}
	if m.APIAddr == "" {
		return Member{}, errors.New("no API address")
	}
	if w, ok := t[tagWeight]; ok {
		f, err := strconv.ParseFloat(w, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return Member{}, fmt.Errorf("bad weight %q", w)
		}
		m.Weight = f
	}
	for r := range strings.SplitSeq(t[tagRoles], ",") {
		if r != "" {
			m.Roles = append(m.Roles, Role(r))
		}
	}
	return m, nil
}

// encodedSize is the size of tags as serf encodes them: a magic byte and
// a msgpack map, with strings in the legacy raw format that serf's
// go-msgpack handle writes (fixraw below 32 bytes, raw16 up to 64 KiB).
func encodedSize(tags map[string]string) int {
	n := 1 + msgpackLenSize(len(tags), 16) // magic byte, map header
	for k, v := range tags {
		n += msgpackLenSize(len(k), 32) + len(k)
		n += msgpackLenSize(len(v), 32) + len(v)
	}
	return n
}

// msgpackLenSize is the size of a msgpack container header for length l:
// one byte below fixLimit, else a type byte and a 16-bit length, else a
// type byte and a 32-bit one.
func msgpackLenSize(l, fixLimit int) int {
	switch {
	case l < fixLimit:
		return 1
	case l < 1<<16:
		return 3
	default:
		return 5
	}
}
