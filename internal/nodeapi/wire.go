package nodeapi

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"cairn/internal/blob"
	"cairn/internal/nodeauth"
)

// Wire constants of version 1; doc.go describes the protocol.
const (
	pathShards  = "/v1/shards"
	pathShard   = "/v1/shards/" // followed by the CID
	pathStatus  = "/v1/status"
	headerError = "X-Cairn-Error" // the error code of a refused request

	// DefaultMaxShardSize is the default bound on a shard's size, on both
	// sides: the server refuses larger PUT bodies, the client refuses
	// larger GET responses.
	DefaultMaxShardSize = 64 << 20
	// DefaultPageSize is how many shards an inventory page holds when the
	// request does not say; MaxPageSize is the most a server returns.
	DefaultPageSize = 1000
	MaxPageSize     = 10000

	// maxLine bounds one line of an inventory page: a CID and a size.
	maxLine = 512
	// maxSmallBody bounds the status and error bodies the client reads.
	maxSmallBody = 64 << 10
)

// Error codes of the wire format, sent in the X-Cairn-Error header (so
// that HEAD responses carry them too) and in the JSON error body.
const (
	codeUnauthorized  = "Unauthorized"     // 401: not signed with the cluster secret
	codeForbidden     = "Forbidden"        // 403: the peer may not do this (its certificate's role)
	codeNotFound      = "NotFound"         // 404: the node does not hold the shard
	codeBadDigest     = "BadDigest"        // 400: a PUT body does not hash to its CID
	codeShardCorrupt  = "ShardCorrupt"     // 500: the stored copy failed verification and was quarantined
	codeTooLarge      = "TooLarge"         // 413: a body larger than the node's MaxShardSize
	codeBadRequest    = "BadRequest"       // 400: a malformed CID, query or body
	codeNoSuchRoute   = "NoSuchRoute"      // 404: no such path in v1
	codeMethod        = "MethodNotAllowed" // 405
	codeInternal      = "InternalError"    // 500: anything else; details stay in the node's log
	codeUnavailable   = "Unavailable"      // 503: the request was canceled or timed out on the node
	contentTypeJSON   = "application/json"
	contentTypeBinary = "application/octet-stream"
	contentTypeText   = "text/plain; charset=utf-8"
)

// ErrTooLarge is returned (wrapped) for a shard larger than the maximum
// size: by Client.Put before sending it, when a node refuses it (413), and
// by Client.Get when a node answers with more bytes than the maximum.
var ErrTooLarge = errors.New("nodeapi: shard larger than the maximum shard size")

// emptyBodyHash is the signed body hash of a request without a body.
var emptyBodyHash = nodeauth.BodyHash(nil)

// Status is what a node reports about itself.
type Status struct {
	NodeID string
	Zone   string
	Weight float64
	Usage  blob.Usage
}

// statusJSON is Status on the wire; the field names are the format, not
// the Go names.
type statusJSON struct {
	NodeID string    `json:"node_id"`
	Zone   string    `json:"zone"`
	Weight float64   `json:"weight"`
	Usage  usageJSON `json:"usage"`
}

type usageJSON struct {
	Shards   int64  `json:"shards"`
	Bytes    int64  `json:"bytes"`
	Free     int64  `json:"free"`
	Capacity int64  `json:"capacity"`
	FS       string `json:"fs,omitempty"` // blob.Usage.FS
}

func (s Status) toJSON() statusJSON {
	return statusJSON{
		NodeID: s.NodeID, Zone: s.Zone, Weight: s.Weight,
		Usage: usageJSON{s.Usage.Shards, s.Usage.Bytes, s.Usage.Free, s.Usage.Capacity, s.Usage.FS},
	}
}

func (j statusJSON) status() Status {
	return Status{
		NodeID: j.NodeID, Zone: j.Zone, Weight: j.Weight,
		Usage: blob.Usage{Shards: j.Usage.Shards, Bytes: j.Usage.Bytes, Free: j.Usage.Free, Capacity: j.Usage.Capacity, FS: j.Usage.FS},
	}
}

// errorJSON is the body of an error response.
type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ShardInfo is one entry of a node's inventory.
type ShardInfo struct {
	ID   cid.Cid
	Size int64 // bytes of shard content
}

// bodyAuthenticatedByCID reports whether a PUT of shard id may go with
// its body unsigned (nodeauth.UnsignedPayload): the store checks the body
// against id, which pins the body down only if id's hash is collision
// resistant: content-addressed shard CIDs are blake3 (sha2-256 in stores
// written before the switch), and other strong hashes are accepted.
// Anything else must sign its body: shard names (erasure.ShardName, an
// identity multihash), murmur, truncated digests.
func bodyAuthenticatedByCID(id cid.Cid) bool {
	p := id.Prefix()
	if p.MhLength < 32 {
		return false
	}
	switch p.MhType {
	case mh.SHA2_256, mh.SHA2_512, mh.SHA3_256, mh.SHA3_384, mh.SHA3_512, mh.BLAKE3:
		return true
	}
	return false
}

// verify checks that data hashes to id; every failure wraps
// blob.ErrCorrupt.
func verify(id cid.Cid, data []byte) error {
	err := blob.Verify(id, data)
	if err != nil && !errors.Is(err, blob.ErrCorrupt) {
		err = fmt.Errorf("%w: %w", blob.ErrCorrupt, err)
	}
	return err
}

// readLimited appends what r holds to dst[:0]. size is the length the
// sender declared, or -1 if unknown. It never reads more than limit+1
// bytes, and reports more than limit bytes as ErrTooLarge; when size is
// known and fits in dst's capacity, it reads in place without allocating.
func readLimited(r io.Reader, dst []byte, size, limit int64) ([]byte, error) {
	buf := dst[:0]
	if size > limit {
		return buf, ErrTooLarge
	}
	if size >= 0 {
		buf = slices.Grow(buf, int(size))[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return buf[:0], err
		}
		// The sender must stop here (net/http enforces declared lengths,
		// but r may be anything).
		var one [1]byte
		n, err := io.ReadFull(r, one[:])
		switch {
		case n > 0:
			return buf[:0], fmt.Errorf("body longer than its declared %d bytes", size)
		case err != io.EOF:
			return buf[:0], err
		}
		return buf, nil
	}
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(32<<10, len(buf)))
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf[:0], ErrTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf[:0], err
		}
	}
}
