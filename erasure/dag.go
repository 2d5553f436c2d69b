package erasure

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/ipfs/go-cid"
)

// linksPerNode is boxo's helpers.DefaultLinksPerBlock: 8192 / (34+8+5).
const linksPerNode = 174

// Field tags (field number << 3 | wire type) of the protobuf messages in a
// UnixFS file node: dag-pb's PBNode and PBLink, and UnixFS's Data.
const (
	pbNodeData  = 0x0a // PBNode.Data: field 1, bytes
	pbNodeLinks = 0x12 // PBNode.Links: field 2, bytes (repeated PBLink)
	pbLinkHash  = 0x0a // PBLink.Hash: field 1, bytes (binary CID)
	pbLinkName  = 0x12 // PBLink.Name: field 2, bytes (string)
	pbLinkTsize = 0x18 // PBLink.Tsize: field 3, varint

	unixfsType       = 0x08 // Data.Type: field 1, varint (enum)
	unixfsFilesize   = 0x18 // Data.filesize: field 3, varint
	unixfsBlocksizes = 0x20 // Data.blocksizes: field 4, varint, repeated unpacked (proto2)
	unixfsTypeFile   = 2    // Data.DataType File
)

// dagLink is one child of a node under construction.
type dagLink struct {
	id    cid.Cid
	tsize uint64 // cumulative size of the child's blocks: dag-pb's Tsize
	fsize uint64 // file bytes under the child: UnixFS's blocksize
}

// DAGBuilder computes an object's root CID exactly as IPFS's UnixFS
// importer does with boxo's balanced layout, CIDv1, raw leaves, 174 links
// per node and sha2-256, given the leaves one at a time. It keeps only the
// links of the nodes still open, one per level: O(depth × 174) memory.
//
// The shape is boxo's: leaves are grouped left to right under depth-1
// nodes of up to 174 links, those under depth-2 nodes, and so on; every
// leaf is at the same depth, the tree is as shallow as 174-ary allows, and
// the last branch may be a chain of single-child nodes (boxo grows the root
// by making the full old root the first child of a new one and filling the
// rest). Leaves may have any size; with the same sizes as a boxo splitter
// yields, the root is the same.
//
// A DAGBuilder is not safe for concurrent use. The zero value is not
// usable; call NewDAGBuilder.
type DAGBuilder struct {
	// levels[0] holds the leaves of the open depth-1 node; levels[j] the
	// depth-j nodes under the open depth-(j+1) node. A level is closed
	// into a node as soon as it is full, so none holds 174 links between
	// calls.
	levels [][]dagLink
	leaves uint64
	err    error
	buf    []byte // scratch for encoding nodes
}

// NewDAGBuilder returns an empty DAGBuilder.
func NewDAGBuilder() *DAGBuilder {
	return &DAGBuilder{}
}

// Add appends a leaf: the CID of the next chunk (as ChunkCID computes it)
// and its length in bytes. An undefined CID makes Root fail.
func (b *DAGBuilder) Add(leaf cid.Cid, size uint64) {
	if b.err != nil {
		return
	}
	if !leaf.Defined() {
		b.err = errors.New("erasure: dag: undefined leaf CID")
		return
	}
	b.leaves++
	l := dagLink{id: leaf, tsize: size, fsize: size}
	for j := 0; ; j++ {
		if j == len(b.levels) {
			b.levels = append(b.levels, make([]dagLink, 0, linksPerNode))
		}
		b.levels[j] = append(b.levels[j], l)
		if len(b.levels[j]) < linksPerNode {
			return
		}
		l = b.node(b.levels[j])
		b.levels[j] = b.levels[j][:0]
	}
}

// Root returns the root CID of the leaves added so far: for zero leaves,
// the raw CID of empty bytes (what IPFS gives an empty file with raw
// leaves); for one leaf, that leaf's CID; otherwise the CID of the dag-pb
// root node. Root does not change the builder: more leaves may follow.
func (b *DAGBuilder) Root() (cid.Cid, error) {
	if b.err != nil {
		return cid.Undef, b.err
	}
	if b.leaves == 0 {
		return ChunkCID(nil), nil
	}
	bottom, top := 0, len(b.levels)-1
	for len(b.levels[bottom]) == 0 {
		bottom++
	}
	for len(b.levels[top]) == 0 {
		top--
	}
	if bottom == top && len(b.levels[top]) == 1 {
		// A lone leaf, or a full subtree with nothing after it: boxo
		// returns it as the root rather than wrapping it.
		return b.levels[top][0].id, nil
	}
	// Close every open node from the bottom up, each becoming the last
	// child of the one above; an empty level in between yields a node
	// with that single child.
	var carry []dagLink
	for j := bottom; j <= top; j++ {
		links := append(b.levels[j][:len(b.levels[j]):len(b.levels[j])], carry...)
		carry = append(carry[:0], b.node(links))
	}
	return carry[0].id, nil
}

// node encodes an internal node over links and returns the link to it.
func (b *DAGBuilder) node(links []dagLink) dagLink {
	var fsize, tsize uint64
	for _, l := range links {
		fsize += l.fsize
		tsize += l.tsize
	}
	b.buf = appendFileNode(b.buf[:0], links, fsize)
	return dagLink{
		id:    rawSHA256CID(cid.DagProtobuf, b.buf),
		tsize: uint64(len(b.buf)) + tsize,
		fsize: fsize,
	}
}

// appendFileNode appends the dag-pb encoding of a UnixFS file node over
// links, holding fsize file bytes, as boxo (merkledag.ProtoNode through
// go-codec-dagpb) writes it: the links first, each as Hash, Name "" (always
// present) and Tsize, then the Data field holding the UnixFS message
// Data{Type: File, filesize, blocksizes...}, with no Data.Data field.
func appendFileNode(dst []byte, links []dagLink, fsize uint64) []byte {
	for _, l := range links {
		h := l.id.KeyString() // the CID's binary form
		n := 1 + uvarintLen(uint64(len(h))) + len(h) + 2 + 1 + uvarintLen(l.tsize)
		dst = append(dst, pbNodeLinks)
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = append(dst, pbLinkHash)
		dst = binary.AppendUvarint(dst, uint64(len(h)))
		dst = append(dst, h...)
		dst = append(dst, pbLinkName, 0)
		dst = append(dst, pbLinkTsize)
		dst = binary.AppendUvarint(dst, l.tsize)
	}
	n := 2 + 1 + uvarintLen(fsize)
	for _, l := range links {
		n += 1 + uvarintLen(l.fsize)
	}
	dst = append(dst, pbNodeData)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = append(dst, unixfsType, unixfsTypeFile)
	dst = append(dst, unixfsFilesize)
	dst = binary.AppendUvarint(dst, fsize)
	for _, l := range links {
		dst = append(dst, unixfsBlocksizes)
		dst = binary.AppendUvarint(dst, l.fsize)
	}
	return dst
}

// uvarintLen returns the length of x's unsigned varint encoding.
func uvarintLen(x uint64) int {
	return (bits.Len64(x|1) + 6) / 7
}
