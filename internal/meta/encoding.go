package meta

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// This file holds the byte layouts of the bbolt keys and values (see
// "Stored format" in doc.go) and the little binary encoder they and the raft
// commands share.

// errCorrupt marks a stored record or a command that does not decode.
var errCorrupt = errors.New("meta: corrupt record")

// Escaped strings: every 0x00 byte becomes 0x00 0xFF and the string ends
// with 0x00 0x01. The encoding keeps byte order (a < b iff esc(a) < esc(b))
// and is prefix-free, so a composite key of escaped strings sorts by its
// components in order, whatever bytes the strings hold.

// appendEsc appends s escaped, without the terminator: the encoding of
// every string that starts with s starts with appendEsc(s).
func appendEsc(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return dst
}

// appendEscT appends s escaped, with the terminator.
func appendEscT(dst []byte, s string) []byte {
	return append(appendEsc(dst, s), 0, 1)
}

// readEscT reads one escaped, terminated string off the front of b.
func readEscT(b []byte) (s string, rest []byte, ok bool) {
	buf := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			buf = append(buf, b[i])
			continue
		}
		if i+1 >= len(b) {
			return "", nil, false
		}
		switch b[i+1] {
		case 1:
			return string(buf), b[i+2:], true
		case 0xFF:
			buf = append(buf, 0)
			i++
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// bucketPrefix is the start of every objects and uploads key of a bucket.
func bucketPrefix(bucket string) []byte { return appendEscT(nil, bucket) }

// objectKey is bucketPrefix(bucket) followed by the raw key, so a cursor
// walks a bucket's objects in S3 key order.
func objectKey(bucket, key string) []byte {
	return append(bucketPrefix(bucket), key...)
}

// uploadKey is esc(bucket) esc(key) esc(id), each terminated: uploads sort
// by (bucket, key, upload ID).
func uploadKey(bucket, key, id string) []byte {
	return appendEscT(appendEscT(bucketPrefix(bucket), key), id)
}

// partKey is the upload's key followed by the part number, 4 bytes big
// endian.
func partKey(uk []byte, n int) []byte {
	k := make([]byte, len(uk), len(uk)+4)
	copy(k, uk)
	return binary.BigEndian.AppendUint32(k, uint32(n))
}

// prefixEnd returns the smallest key greater than every key that starts
// with p, or nil if there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := make([]byte, len(p))
	copy(end, p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// unixNano is t in Unix nanoseconds, clamped to [1970, 2262].
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// timeKey is a time as 8 big-endian bytes of Unix nanoseconds (unixNano),
// so that byte order is time order.
func timeKey(t time.Time) []byte { return u64(uint64(unixNano(t))) }

func garbageKey(since, cid []byte) []byte {
	k := make([]byte, 0, len(since)+len(cid))
	return append(append(k, since...), cid...)
}

// enc appends the binary encoding used by manifests and commands: unsigned
// varints, and byte strings as a varint length then the bytes.
type enc struct{ b []byte }

func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) bytes(p []byte) {
	e.uvarint(uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *enc) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// dec reads what enc wrote; the first failure sticks in err and makes every
// later read return zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a uvarint that must fit an int.
func (d *dec) int() int {
	v := d.uvarint()
	if v > 1<<31-1 {
		d.err = errCorrupt
		return 0
	}
	return int(v)
}

// raw returns the next byte string without copying it.
func (d *dec) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// bytes returns a copy of the next byte string.
func (d *dec) bytes() []byte {
	p := d.raw()
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

func (d *dec) str() string { return string(d.raw()) }

// Manifests (object and part values) are
//
//	byte     manifestVersion (3; 1 and 2 are read too)
//	bytes    JSON of the record with Chunks left out (null)
//	uvarint  number of chunks, then each chunk:
//	         bytes CID, uvarint size, then the stripe:
//	         uvarint k, m, layout, shard size, seal, number of shards,
//	         then bytes per shard CID; from version 2, the nodes: uvarint
//	         0 for none recorded, else 1 + their number, then bytes per
//	         node ID ("" for a shard stored nowhere); from version 3,
//	         bytes the keyed name (empty: none), then the sums: uvarint 0
//	         for none, else 1 + their number, then bytes per sum; when k
//	         is 0 the chunk is inline and bytes of its data follow
//
// so that a listing decodes only the JSON and a reference count update only
// the chunks. A manifest is written in the oldest version that holds it:
// version 2 unless a stripe has a name or sums, so that a cluster that
// writes no sealed stripe (storaged --seal=false, during an upgrade) keeps
// writing what binaries from before sealing read.

// stripeFormat says which fields of a stripe its encoding carries, by the
// manifest version it appears in.
type stripeFormat byte

const (
	stripeBare   stripeFormat = 1 // k, m, layout, shard size, seal, shards
	stripeNodes  stripeFormat = 2 // and the nodes
	stripeSealed stripeFormat = 3 // and the keyed name and the sums
)

// formatFor is the oldest stripe format that holds s.
func formatFor(s *Stripe) stripeFormat {
	if s.Name != nil || s.Sums != nil {
		return stripeSealed
	}
	return stripeNodes
}

// appendStripe appends a stripe in format f.
func appendStripe(e *enc, s *Stripe, f stripeFormat) {
	e.uvarint(uint64(s.K))
	e.uvarint(uint64(s.M))
	e.uvarint(s.Layout)
	e.uvarint(uint64(s.ShardSize))
	e.uvarint(uint64(s.Seal))
	e.uvarint(uint64(len(s.Shards)))
	for _, sh := range s.Shards {
		e.bytes(sh)
	}
	if f >= stripeNodes {
		appendNodes(e, s.Nodes)
	}
	if f >= stripeSealed {
		e.bytes(s.Name)
		appendList(e, s.Sums)
	}
}

func readStripe(d *dec, f stripeFormat) Stripe {
	s := Stripe{K: d.int(), M: d.int(), Layout: d.uvarint(), ShardSize: d.int(), Seal: d.int()}
	n := d.int()
	if d.err == nil && n > len(d.b) { // each shard takes at least one byte
		d.err = errCorrupt
	}
	if d.err != nil {
		return Stripe{}
	}
	if n > 0 {
		s.Shards = make([][]byte, n)
		for i := range s.Shards {
			s.Shards[i] = d.bytes()
		}
	}
	if f >= stripeNodes {
		s.Nodes = readNodes(d)
	}
	if f >= stripeSealed {
		if name := d.bytes(); len(name) > 0 {
			s.Name = name
		}
		s.Sums = readList(d)
	}
	return s
}

// appendList appends a list of byte strings that may be nil: uvarint 0
// for nil, else 1 + its length, then each.
func appendList(e *enc, l [][]byte) {
	if l == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(l)) + 1)
	for _, b := range l {
		e.bytes(b)
	}
}

func readList(d *dec) [][]byte {
	n := d.int()
	if n == 0 || d.err != nil {
		return nil
	}
	n--
	if n > len(d.b) {
		d.err = errCorrupt
		return nil
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = d.bytes()
	}
	return out
}

// maxSumLen bounds one shard sum (erasure's are 16 or 17 bytes).
const maxSumLen = 64

func checkChunks(chunks []Chunk) error {
	for i := range chunks {
		c := &chunks[i]
		if err := checkStripe(&c.Stripe); err != nil {
			return fmt.Errorf("%w: chunk %d: %w", ErrInvalidArgument, i, err)
		}
		s := &c.Stripe
		switch {
		case len(c.CID) == 0:
			return fmt.Errorf("%w: chunk %d has no CID", ErrInvalidArgument, i)
		case len(c.CID) > maxCIDLen:
			return fmt.Errorf("%w: chunk %d CID too long", ErrInvalidArgument, i)
		case c.Size < 0:
			return fmt.Errorf("%w: chunk %d has a negative size", ErrInvalidArgument, i)
		case len(c.Data) > 0 && (s.K != 0 || s.M != 0 || len(s.Shards) != 0 || int64(len(c.Data)) != c.Size || len(c.Data) > MaxInline):
			return fmt.Errorf("%w: chunk %d: inline data needs no stripe, its size, and at most %d bytes", ErrInvalidArgument, i, MaxInline)
		case len(c.Data) == 0 && s.K == 0:
			return fmt.Errorf("%w: chunk %d has neither a stripe nor inline data", ErrInvalidArgument, i)
		}
	}
	return nil
}

// checkStripe reports what is malformed in a stripe, without the
// sentinel: its counts, and that nodes, name and sums fit its shards.
func checkStripe(s *Stripe) error {
	switch {
	case s.K < 0 || s.M < 0 || s.ShardSize < 0 || s.Seal < 0:
		return errors.New("a negative size or count")
	case s.Nodes != nil && len(s.Nodes) != len(s.Shards):
		return fmt.Errorf("%d nodes for %d shards", len(s.Nodes), len(s.Shards))
	case s.Sums != nil && len(s.Sums) != len(s.Shards):
		return fmt.Errorf("%d sums for %d shards", len(s.Sums), len(s.Shards))
	case len(s.Name) > maxCIDLen:
		return errors.New("keyed name too long")
	case s.Name != nil && len(s.Name) == 0:
		return errors.New("an empty keyed name")
	case s.Seal != 0 && s.Name == nil:
		return fmt.Errorf("sealed (seal %d) without a keyed name", s.Seal)
	}
	for _, sum := range s.Sums {
		if len(sum) == 0 || len(sum) > maxSumLen {
			return fmt.Errorf("a shard sum of %d bytes", len(sum))
		}
	}
	return nil
}

// encodeManifest encodes header (an *Object or *Part whose Chunks the
// caller has set to nil) and chunks, in the oldest manifest version that
// holds them.
func encodeManifest(header any, chunks []Chunk) ([]byte, error) {
	if err := checkChunks(chunks); err != nil {
		return nil, err
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	f := stripeNodes
	for i := range chunks {
		f = max(f, formatFor(&chunks[i].Stripe))
	}
	e := enc{b: make([]byte, 0, 1+binary.MaxVarintLen64+len(h)+len(chunks)*192)}
	e.b = append(e.b, byte(f))
	e.bytes(h)
	e.uvarint(uint64(len(chunks)))
	for i := range chunks {
		c := &chunks[i]
		e.bytes(c.CID)
		e.uvarint(uint64(c.Size))
		appendStripe(&e, &c.Stripe, f)
		if c.Stripe.K == 0 {
			e.bytes(c.Data) // inline: a stripe with K = 0, then the bytes
		}
	}
	return e.b, nil
}

// manifestVersion is the newest manifest version: 3, whose stripes carry
// their keyed names and shard sums. Versions 1 (no nodes) and 2 (nodes)
// are still read, and 2 is still written when no stripe needs 3. A
// manifest's version is the format of its stripes (stripeFormat).
const manifestVersion = 3

// splitManifest returns the JSON header of a manifest, a decoder
// positioned on its chunk count, and the format of its stripes.
func splitManifest(v []byte) ([]byte, *dec, stripeFormat, error) {
	if len(v) == 0 || v[0] < 1 || v[0] > manifestVersion {
		return nil, nil, 0, fmt.Errorf("%w: manifest format %v", errCorrupt, v[:min(len(v), 1)])
	}
	d := &dec{b: v[1:]}
	h := d.raw()
	if d.err != nil {
		return nil, nil, 0, d.err
	}
	return h, d, stripeFormat(v[0]), nil
}

// decodeManifestHeader decodes only the JSON part of a manifest into into.
func decodeManifestHeader(v []byte, into any) error {
	h, _, _, err := splitManifest(v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(h, into); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return nil
}

// decodeManifestChunks decodes only the chunks of a manifest; every byte
// slice is a copy.
func decodeManifestChunks(v []byte) ([]Chunk, error) {
	_, d, f, err := splitManifest(v)
	if err != nil {
		return nil, err
	}
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil, d.err
	}
	var chunks []Chunk // nil for none
	if n > 0 {
		chunks = make([]Chunk, n)
	}
	for i := range chunks {
		chunks[i].CID = d.bytes()
		chunks[i].Size = int64(d.uvarint())
		chunks[i].Stripe = readStripe(d, f)
		if d.err == nil && chunks[i].Stripe.K == 0 {
			chunks[i].Data = d.bytes()
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after manifest", errCorrupt)
	}
	return chunks, nil
}

func decodeObject(v []byte, withChunks bool) (*Object, error) {
	o := new(Object)
	if err := decodeManifestHeader(v, o); err != nil {
		return nil, err
	}
	if withChunks {
		c, err := decodeManifestChunks(v)
		if err != nil {
			return nil, err
		}
		o.Chunks = c
	}
	return o, nil
}

func decodePart(v []byte) (*Part, error) {
	p := new(Part)
	if err := decodeManifestHeader(v, p); err != nil {
		return nil, err
	}
	c, err := decodeManifestChunks(v)
	if err != nil {
		return nil, err
	}
	p.Chunks = c
	return p, nil
}

// encodeObject returns obj's stored manifest, with V set to FormatVersion;
// obj is not modified.
func encodeObject(obj *Object) ([]byte, error) {
	h := *obj
	h.V = FormatVersion
	h.Chunks, h.Fence = nil, 0
	h.Cond, h.Latest = nil, false
	return encodeManifest(&h, obj.Chunks)
}

func encodePart(p *Part) ([]byte, error) {
	h := *p
	h.V = FormatVersion
	h.Chunks, h.Fence = nil, 0
	return encodeManifest(&h, p.Chunks)
}

// decodeJSON decodes a stored JSON record and checks its format version.
func decodeJSON(v []byte, into any, version *int) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	if *version != FormatVersion {
		return fmt.Errorf("%w: record format %d, want %d", errCorrupt, *version, FormatVersion)
	}
	return nil
}
