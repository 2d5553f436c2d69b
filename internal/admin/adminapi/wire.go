package adminapi

import "time"

// The types of this file are the wire format of version 1 (see doc.go):
// their JSON tags are the field names on the wire. Sizes are bytes.

// PathPrefix is the path under which the admin API answers: the server
// is mounted there (mux.Handle(adminapi.PathPrefix, srv)), and Client
// sends every request below it.
const PathPrefix = "/v1/admin/"

// Status is the answer to GET status: the cluster as this node sees it.
type Status struct {
	// LayoutVersion is the current layout's version; 0 when the cluster
	// has none yet or the metadata store could not be read.
	LayoutVersion uint64 `json:"layout_version"`
	// LayoutError says why the layout is unknown (the metadata store has
	// no leader...); empty when it was read. While it is set, nodes are
	// neither in_layout nor pending: nobody knows.
	LayoutError string `json:"layout_error,omitempty"`
	// K and M are the data and parity shards of new stripes.
	K int `json:"k"`
	M int `json:"m"`
	// Nodes are the gossip members and the layout's nodes, by ID.
	Nodes []Node `json:"nodes"`
	// Zones summarize the layout's nodes that take data (not removed,
	// not draining), by zone name.
	Zones []Zone `json:"zones"`
	// Totals add up the usage of every node that reported one.
	Totals Totals `json:"totals"`
	// Warnings are the problems an operator should act on, as sentences.
	Warnings []string `json:"warnings"`
	// Leader is the node ID of the metadata Raft leader, as the answering
	// node knows it: set when that node is a meta node and a leader is
	// known, empty otherwise.
	Leader string `json:"leader,omitempty"`
	// Heal is the healing status (what GET heal answers); nil when the
	// leader's healer could not be asked, and HealError says why.
	Heal      *HealStatus `json:"heal,omitempty"`
	HealError string      `json:"heal_error,omitempty"`
}

// Gossip status of a layout node that gossip no longer lists. The other
// values are cluster.Status's: alive, leaving, left, failed.
const GossipUnknown = "unknown"

// Node is one node of the cluster: a gossip member, a node of the layout,
// or both.
type Node struct {
	ID string `json:"id"`
	// Zone and Weight are the layout's when the layout lists the node (what
	// placement uses; a removed node's weight is 0), else what the node
	// announces. Zone "" is the default zone.
	Zone   string  `json:"zone"`
	Weight float64 `json:"weight"`
	// Roles are "storage", "gateway" and "meta". A layout node that gossip
	// does not list is shown as ["storage"].
	Roles    []string `json:"roles"`
	APIAddr  string   `json:"api_addr,omitempty"`  // node API host:port
	S3Addr   string   `json:"s3_addr,omitempty"`   // S3 host:port, on a gateway
	RaftAddr string   `json:"raft_addr,omitempty"` // raft host:port, on a meta node
	// Version is the Cairn version the node announces (storaged
	// --version's first word), "" when it does not say or gossip does
	// not list it.
	Version string `json:"version,omitempty"`
	// Gossip is the member's status in this node's gossip view: alive,
	// leaving, left, failed, or unknown (GossipUnknown).
	Gossip string `json:"gossip"`
	// Down: Gossip is not alive.
	Down bool `json:"down"`
	// InLayout: the layout lists the node and it is not removed; it
	// takes new shards unless Draining.
	InLayout bool `json:"in_layout"`
	// Removed: the layout lists the node as removed (storectl node
	// remove); it takes no new shards.
	Removed bool `json:"removed"`
	// Draining: the layout lists the node as draining (storectl node
	// drain): it is in_layout and serves the shards it holds while
	// healing moves them off, and takes no new ones.
	Draining bool `json:"draining"`
	// Pending: an alive storage member the layout does not list, waiting
	// for storectl node approve.
	Pending bool `json:"pending"`
	// Usage is what the node reported; nil for nodes not asked (not
	// alive, not storage) or that did not answer (see Error).
	Usage *Usage `json:"usage,omitempty"`
	// Error is why Usage is missing for an alive storage node.
	Error string `json:"error,omitempty"`
	// Audit is the storage node's reputation: what the metadata leader's
	// audits and the readers found of it. Nil for a node never audited
	// (not storage, or new), or when the records could not be read.
	Audit *NodeAudit `json:"audit,omitempty"`
}

// NodeAudit is a storage node's reputation record.
type NodeAudit struct {
	// Audits: Passed found the shard intact; Missing got "not found" for
	// a shard the node was recorded to hold; Corrupt got another size or
	// sum. Failed is Missing + Corrupt. Lies counts the reads that caught
	// the node returning wrong bytes as good ones. Totals since the
	// record was created.
	Passed  int64 `json:"passed"`
	Missing int64 `json:"missing"`
	Corrupt int64 `json:"corrupt"`
	Failed  int64 `json:"failed"`
	Lies    int64 `json:"lies"`
	// RecentChecks and RecentFailures are the window the ejection rule
	// weighs (audits and reads caught lying; halved whenever it holds
	// more than 1000). Reputation is the share of those checks that
	// passed, 0 to 1 (1 with none).
	RecentChecks   int64   `json:"recent_checks"`
	RecentFailures int64   `json:"recent_failures"`
	Reputation     float64 `json:"reputation"`
	// LastAudit and LastFailure: when the node was last audited, and
	// last caught failing (absent: never).
	LastAudit   time.Time `json:"last_audit,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	// Ejected: the auditor took the node out of the layout, at
	// EjectedAt, for EjectReason (the evidence).
	Ejected     bool      `json:"ejected"`
	EjectedAt   time.Time `json:"ejected_at,omitzero"`
	EjectReason string    `json:"eject_reason,omitempty"`
}

// Usage is a storage node's disk usage, as it reports it.
type Usage struct {
	Capacity int64 `json:"capacity"` // size of the node's file system
	Used     int64 `json:"used"`     // bytes of shards held
	Free     int64 `json:"free"`     // bytes available on the file system
	Shards   int64 `json:"shards"`   // shards held
	// FS names the file system the node's shards are on (its machine
	// and device): nodes on one file system share its capacity and free
	// space, which zones and totals count once. "" when unknown.
	FS string `json:"fs,omitempty"`
}

// Zone summarizes the nodes of one zone that take data.
type Zone struct {
	Name     string  `json:"name"`
	Nodes    int     `json:"nodes"`
	Alive    int     `json:"alive"`
	Weight   float64 `json:"weight"`
	Capacity int64   `json:"capacity"`
	Used     int64   `json:"used"`
	Free     int64   `json:"free"`
}

// Totals add up the nodes' usage.
type Totals struct {
	Capacity int64 `json:"capacity"`
	Used     int64 `json:"used"`
	Free     int64 `json:"free"`
	Shards   int64 `json:"shards"`
}

// LayoutChange is the answer to approve, remove and drain.
type LayoutChange struct {
	Node          string `json:"node"`
	LayoutVersion uint64 `json:"layout_version"` // the version that made the change
}

// Bucket is a bucket.
type Bucket struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Key is an S3 access key, without its secret.
type Key struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Policy is what the key may do; nil: everything.
	Policy *KeyPolicy `json:"policy,omitempty"`
}

// NewKey is a key just created, with its secret: the only time the API
// shows it.
type NewKey struct {
	ID      string     `json:"id"`
	Secret  string     `json:"secret"`
	Created time.Time  `json:"created"`
	Policy  *KeyPolicy `json:"policy,omitempty"`
}

// KeyPolicy limits an access key: Access "read-only" (GET and HEAD
// requests) or "read-write", in Bucket only ("": every bucket), and there
// in the object keys under Prefix only.
type KeyPolicy struct {
	Access string `json:"access"`
	Bucket string `json:"bucket,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// Object is the answer to GET objects/{bucket}/{key}: an object's manifest,
// where each shard of each chunk is placed, and whether the node has it.
type Object struct {
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	ETag        string    `json:"etag"`
	CID         string    `json:"cid"` // root CID
	Modified    time.Time `json:"modified"`
	ContentType string    `json:"content_type,omitempty"`
	Chunks      []Chunk   `json:"chunks"`
	// Layouts are the layout versions the chunks were placed under, by
	// version, so that a reader can check the placement (with the
	// placement key, which the API does not show).
	Layouts []Layout `json:"layouts"`
}

// Chunk is one chunk of an object and its stripe.
type Chunk struct {
	Index         int    `json:"index"`
	Offset        int64  `json:"offset"` // of the chunk's first byte in the object
	CID           string `json:"cid"`
	Size          int64  `json:"size"`
	K             int    `json:"k"`
	M             int    `json:"m"`
	LayoutVersion uint64 `json:"layout_version"` // placed under
	ShardSize     int    `json:"shard_size"`
	// Seal is how the stripe codes the chunk: 0 in plaintext, 1 sealed
	// (its shards are named, and placed, after Name: the chunk's keyed
	// name, which says nothing of CID to a storage node).
	Seal int    `json:"seal"`
	Name string `json:"name,omitempty"`
	// Inline: the chunk's bytes are kept in the object's manifest (a small
	// object), replicated by the metadata group; it has no shards.
	Inline bool    `json:"inline,omitempty"`
	Shards []Shard `json:"shards"`
	// Error says why the shards' nodes are unknown (a layout version
	// the metadata store does not have...); empty otherwise.
	Error string `json:"error,omitempty"`
}

// Shard is one shard of a stripe and the node that holds it: the one its
// stripe records, or for a stripe that records none, the one placement
// gives it under the stripe's layout version. A shard its stripe records
// on no node (its write failed; it is left for repair) has no Node, and
// Present false.
type Shard struct {
	Index int    `json:"index"`
	Role  string `json:"role"` // "data" (index < k) or "parity"
	CID   string `json:"cid"`
	Node  string `json:"node,omitempty"`
	Zone  string `json:"zone,omitempty"`
	// Present: the node holds the shard. Null when it could not be asked
	// (see Error).
	Present *bool  `json:"present"`
	Error   string `json:"error,omitempty"`
}

// Layout is a layout version's node set, as placement uses it.
type Layout struct {
	Version uint64       `json:"version"`
	Nodes   []LayoutNode `json:"nodes"`
}

// LayoutNode is one node of a layout.
type LayoutNode struct {
	ID       string  `json:"id"`
	Zone     string  `json:"zone"`
	Weight   float64 `json:"weight"`
	Removed  bool    `json:"removed,omitempty"`
	Draining bool    `json:"draining,omitempty"`
}

// Shard roles.
const (
	RoleData   = "data"
	RoleParity = "parity"
)

// ErrorBody is the body of every error answer.
type ErrorBody struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}
