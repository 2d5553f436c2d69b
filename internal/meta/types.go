package meta

import (
	"errors"
	"time"
)

// FormatVersion is the version of the records below as stored; every stored
// record carries it in its V field. The package documentation (doc.go,
// "Stored format") describes the format.
const FormatVersion = 1

// Bucket is a bucket record.
type Bucket struct {
	V       int       `json:"v"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// ReadIndex is, in GetBucket's answer, the last raft index applied
	// when it was read: a writer's Fence. Not stored.
	ReadIndex uint64 `json:"read_index,omitempty"`
	// Config is, in GetBucket's answer, the bucket's configuration
	// (GetBucketConfig's), so that a writer learns it in the same read.
	// Not stored with the bucket.
	Config *BucketConfig `json:"config,omitempty"`
}

// Object is an object manifest: everything needed to serve the object's
// metadata and to find and check every byte of it.
type Object struct {
	V           int               `json:"v"`
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ETag        string            `json:"etag"` // hex MD5, or hex-N for multipart
	CID         string            `json:"cid"`  // root CID of the object (CIDv1 string)
	Modified    time.Time         `json:"modified"`
	ContentType string            `json:"ctype,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	UserMeta    map[string]string `json:"meta,omitempty"`
	// PartSizes lists the part sizes of a multipart object (nil otherwise).
	PartSizes []int64 `json:"parts,omitempty"`
	Chunks    []Chunk `json:"chunks"`
	// Fence is the ReadIndex of a read the writer made before it began
	// storing the object's shards (GetBucket's; 0: none). PutObject
	// refuses a chunk that garbage collection forgot after that point
	// (ErrChunkCollecting): its shards may have been deleted under the
	// writer. Not stored.
	Fence uint64 `json:"fence,omitempty"`
	// Tags are the object's tags (S3 object tagging). SetObjectTags
	// changes them in place, leaving the rest of the manifest as it is.
	Tags map[string]string `json:"tags,omitempty"`
	// SSE is the server-side encryption the object was written with (S3's
	// SSE-S3 or SSE-C); nil: none was asked for.
	SSE *SSE `json:"sse,omitempty"`

	// The fields below are versioning's and object lock's (versions.go).

	// VersionID names this version of the key: FormatVersionID(Seq), or
	// for the null version "null" when written while the bucket's
	// versioning was suspended and "" when it was never enabled (S3
	// names the version in its answers only in the first case; ID says
	// "null" for both). Set by the state machine when the version is
	// written; what a writer puts here is ignored.
	VersionID string `json:"vid,omitempty"`
	// Seq orders the versions of a key: the raft index of the command
	// that wrote the version, shifted left 16 bits, plus its position in
	// the command. 0 for a record written before versioning.
	Seq uint64 `json:"seq,omitempty"`
	// DeleteMarker: this version is a delete marker (no data, no chunks).
	DeleteMarker bool `json:"dm,omitempty"`
	// LockMode is the version's retention mode, LockGovernance or
	// LockCompliance ("" none), in force until RetainUntil.
	LockMode    string    `json:"lock_mode,omitempty"`
	RetainUntil time.Time `json:"retain_until,omitzero"`
	// LegalHold: the version cannot be deleted until the hold is lifted.
	LegalHold bool `json:"legal_hold,omitempty"`
	// Cond is the condition a write must meet, checked in the raft entry
	// that commits it (PutObject, CompleteUpload). Not stored.
	Cond *WriteCond `json:"cond,omitempty"`
	// Latest marks, in a version listing, the current version. Not stored.
	Latest bool `json:"latest,omitempty"`
	// HoldSet: a legal hold was ever placed on the version (LegalHold
	// says whether it still is), which S3's GetObjectLegalHold tells
	// apart from none.
	HoldSet bool `json:"hold_set,omitempty"`
}

// SSE records the server-side encryption an object, or an upload's
// object, was asked for.
type SSE struct {
	// S3: SSE-S3 (x-amz-server-side-encryption: AES256). Every stripe of
	// the object is sealed (no chunk is inline).
	S3 bool `json:"s3,omitempty"`
	// CustomerKeyCheck, for SSE-C, is what a customer key is checked
	// against: a random salt and an HMAC of the key under it (s3gw's
	// NewCustomerKeyCheck). The key itself is never stored. The object's
	// stripes are sealed under it (erasure.SealCustomer).
	CustomerKeyCheck []byte `json:"customer_key_check,omitempty"`
}

// Chunk is one chunk of an object, in object order, and the stripe that
// stores it — or, for a small object, the chunk's bytes themselves.
type Chunk struct {
	CID    []byte `json:"cid"`  // binary CID of the plaintext chunk
	Size   int64  `json:"size"` // plaintext bytes
	Stripe Stripe `json:"stripe"`
	// Data holds the chunk's bytes when it is stored inline, in the
	// manifest, rather than as a stripe on storage nodes: then Stripe is
	// zero (K == 0), no shard exists, and no reference is counted. At most
	// MaxInline bytes.
	Data []byte `json:"data,omitempty"`
}

// MaxInline is the largest chunk a manifest holds inline. Inline data is
// replicated by Raft to every metadata voter, so it is for small objects
// only (the gateway's threshold is lower).
const MaxInline = 256 << 10

// Inline reports whether the chunk's bytes are in the manifest.
func (c *Chunk) Inline() bool { return c.Stripe.K == 0 && len(c.Data) > 0 }

// Stripe says how a chunk was erasure coded and placed. Storage nodes see
// only stripes, never object names.
type Stripe struct {
	K         int    `json:"k"`
	M         int    `json:"m"`
	Layout    uint64 `json:"layout"`     // layout version the shards were placed under
	ShardSize int    `json:"shard_size"` // of the coded bytes: the sealed chunk when sealed
	// Seal says what the shards code: 0 the plaintext chunk, checked
	// against its CID when read; erasure.SealV1 the chunk sealed by
	// erasure.Sealer (Size+erasure.SealOverhead bytes), checked by
	// opening the seal.
	Seal   int      `json:"seal,omitempty"`
	Shards [][]byte `json:"shards"` // k+m binary shard CIDs, data shards first
	// Nodes names the storage node that holds each shard, in shard order;
	// "" for a shard stored nowhere (a write that missed it, a node that
	// lost it), which repair rebuilds. Nil for a stripe written before
	// nodes were recorded: its shards are where placement puts them under
	// Layout.
	Nodes []string `json:"nodes,omitempty"`
	// Name is the binary CID of the chunk's keyed name (erasure.Sealer.Name)
	// for a sealed stripe: its shards are named after it
	// (erasure.ShardName(Name, k, m, i)) and placed by it, so that no
	// storage node sees the chunk's CID. Nil for an unsealed stripe, whose
	// shards are named and placed after the chunk's CID. The chunk table
	// indexes it (Store.ChunkByName).
	Name []byte `json:"name,omitempty"`
	// Sums holds the sum of each shard (erasure.Sealer.ShardSum, or for
	// stripes sealed before keyed sums erasure.ShardSumBLAKE3; the length
	// says which), in shard order, as it was written: a single shard can
	// be checked against it without decoding the stripe. Nil when not
	// known (stripes written unsealed).
	Sums [][]byte `json:"sums,omitempty"`
}

// Upload is a multipart upload in progress.
type Upload struct {
	V           int               `json:"v"`
	ID          string            `json:"id"`
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Initiated   time.Time         `json:"initiated"`
	ContentType string            `json:"ctype,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	UserMeta    map[string]string `json:"meta,omitempty"`
	// ReadIndex is as Bucket's, in GetUpload's answer. Not stored.
	ReadIndex uint64 `json:"read_index,omitempty"`
	// Tags are the tags the completed object gets.
	Tags map[string]string `json:"tags,omitempty"`
	// SSE is the encryption the completed object gets; every part is
	// written with it.
	SSE *SSE `json:"sse,omitempty"`
	// The object lock the completed object takes (as Object's).
	LockMode    string    `json:"lock_mode,omitempty"`
	RetainUntil time.Time `json:"retain_until,omitzero"`
	LegalHold   bool      `json:"legal_hold,omitempty"`
}

// Part is one uploaded part of an upload.
type Part struct {
	V        int       `json:"v"`
	Number   int       `json:"n"`
	ETag     string    `json:"etag"` // hex MD5 of the part
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Chunks   []Chunk   `json:"chunks"`
	// Fence is as Object's (the ReadIndex of GetUpload).
	Fence uint64 `json:"fence,omitempty"`
}

// Key is an S3 access key.
type Key struct {
	V       int       `json:"v"`
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	Created time.Time `json:"created"`
	// Policy limits what the key may do; nil: everything (every key made
	// before policies existed).
	Policy *KeyPolicy `json:"policy,omitempty"`
}

// KeyPolicy is what an access key may do: read (Access "read-only") or
// read and write ("read-write"), in one bucket or all (Bucket ""), and
// within it the keys under Prefix only.
type KeyPolicy struct {
	Access string `json:"access"`
	Bucket string `json:"bucket,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// The KeyPolicy.Access values.
const (
	AccessReadOnly  = "read-only"
	AccessReadWrite = "read-write"
)

// Layout is the versioned set of storage nodes that placement uses.
type Layout struct {
	V       int          `json:"v"`
	Version uint64       `json:"version"`
	Nodes   []LayoutNode `json:"nodes"`
	// PlacementKey keys the rendezvous hash. It is chosen once when the
	// cluster is created and never changes: shards are found by recomputing
	// placement, so a new key would lose track of every shard.
	PlacementKey []byte `json:"placement_key"`
	// Redeemed lists the join invites (storectl node invite) already used
	// to enroll a storage node, until they expire: an invite enrolls one
	// node only.
	Redeemed []Redeemed `json:"redeemed,omitempty"`
}

// Redeemed is a used join invite.
type Redeemed struct {
	ID      string    `json:"id"`
	Node    string    `json:"node"`
	Expires time.Time `json:"expires"`
}

// LayoutNode is one storage node in a layout.
type LayoutNode struct {
	ID     string  `json:"id"`
	Zone   string  `json:"zone"`
	Weight float64 `json:"weight"`
	Addr   string  `json:"addr,omitempty"`
	// Removed marks a node an operator took out (storectl node remove): it
	// stays listed, so that it is not admitted again, but gets no shards.
	Removed bool `json:"removed,omitempty"`
	// Draining marks a node an operator is taking out (storectl node
	// drain): it serves the shards it holds while healing moves them
	// elsewhere, and gets no new ones.
	Draining bool `json:"draining,omitempty"`
}

// ListQuery selects keys for ListObjects: keys with Prefix, strictly after
// Marker, rolled up at the first Delimiter after the prefix, at most Max
// entries (objects plus common prefixes).
type ListQuery struct {
	Prefix    string
	Delimiter string
	Marker    string
	Max       int
}

// ListResult is one page of ListObjects.
type ListResult struct {
	Objects        []*Object
	CommonPrefixes []string
	Truncated      bool
	NextMarker     string // last key or prefix returned, when Truncated
}

// UploadQuery selects uploads for ListUploads, ordered by (key, upload ID).
type UploadQuery struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	Max            int
}

// UploadList is one page of ListUploads.
type UploadList struct {
	Uploads            []*Upload
	CommonPrefixes     []string
	Truncated          bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// PartRef names a part, and the ETag it must have, when completing an upload.
type PartRef struct {
	Number int
	ETag   string
}

// GarbageChunk is a chunk that no object or part references any more, and
// since when: a candidate for garbage collection once Since is old enough.
// Stripe is the stripe of the last reference released.
type GarbageChunk struct {
	CID    []byte
	Stripe Stripe
	Since  time.Time
	// Collecting: Collect has fenced the chunk, and the collector may have
	// deleted some of its shards already.
	Collecting bool
}

// Errors returned by the metadata store.
var (
	ErrNoSuchBucket   = errors.New("meta: no such bucket")
	ErrBucketExists   = errors.New("meta: bucket exists")
	ErrBucketNotEmpty = errors.New("meta: bucket not empty")
	ErrNoSuchKey      = errors.New("meta: no such key")
	ErrNoSuchUpload   = errors.New("meta: no such upload")
	ErrInvalidPart    = errors.New("meta: invalid part")
	ErrNoSuchAccess   = errors.New("meta: no such access key")
	ErrNotLeader      = errors.New("meta: not the raft leader")
	// ErrOutcomeUnknown: a write whose outcome cannot be known — the
	// leader lost its leadership while committing it, or its answer was
	// lost on the way — which may or may not be applied. Reading again
	// tells; writing again is safe where the write is idempotent.
	ErrOutcomeUnknown = errors.New("meta: the write may or may not have been applied")

	// ErrInvalidArgument: a malformed request (empty or oversized name,
	// part number out of range, negative size...), rejected before it is
	// proposed. The wrapping error says which.
	ErrInvalidArgument = errors.New("meta: invalid argument")
	// ErrStaleLayout: SetLayout with a version not greater than the
	// current layout's.
	ErrStaleLayout = errors.New("meta: layout version not newer than current")
	// ErrNoSuchLayout: LayoutVersion for a version never stored.
	ErrNoSuchLayout = errors.New("meta: no such layout version")
	// ErrChunkCollecting: a write that references a chunk the garbage
	// collector is deleting. Write the chunk's shards again once the
	// chunk has no record (Chunk returns nil), then retry.
	ErrChunkCollecting = errors.New("meta: chunk is being garbage collected")
	// ErrStripeChanged: SetStripeNodes with old nodes the chunk's record
	// no longer has (another repair or move came first), ReplaceStripe
	// with old shards it no longer has or for a chunk no longer live, or
	// either for a chunk with no record.
	ErrStripeChanged = errors.New("meta: stripe changed meanwhile")

	// ErrNoSuchVersion: a version ID that names no version of the key.
	ErrNoSuchVersion = errors.New("meta: no such version")
	// ErrPreconditionFailed: a write whose WriteCond does not hold.
	ErrPreconditionFailed = errors.New("meta: precondition failed")
	// ErrObjectLocked: deleting a version, or shortening its retention,
	// that its retention or legal hold protects.
	ErrObjectLocked = errors.New("meta: object version is locked")
	// ErrLockNotEnabled: object lock settings for a bucket created
	// without object lock.
	ErrLockNotEnabled = errors.New("meta: object lock is not enabled on the bucket")
	// ErrInvalidBucketState: a bucket setting its other settings forbid
	// (suspending versioning on an object lock bucket).
	ErrInvalidBucketState = errors.New("meta: invalid bucket state")
	// ErrDeleteMarker: a request that needs an object named a delete
	// marker by its version ID (SetVersionTags).
	ErrDeleteMarker = errors.New("meta: the version is a delete marker")
)
