package erasure

import (
	"errors"
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// ErrTooFewShards is returned, wrapped with the counts, when fewer than k
// shards of a stripe are present, so the chunk cannot be rebuilt.
var ErrTooFewShards = errors.New("erasure: too few shards to reconstruct")

// maxShards is the most shards a stripe can have: reedsolomon's GF(2^8)
// codes stop at 256, and Cairn's format uses no other field.
const maxShards = 256

// Codec erasure-codes chunks into k data shards and m parity shards with
// klauspost/reedsolomon's default (Vandermonde-derived, systematic) matrix.
// The data shards are the chunk itself, cut in k and zero padded, so a
// reader that has all k data shards needs no decoding.
//
// The coding matrix is part of Cairn's stored format: two Codecs with the
// same k and m produce byte-identical parity everywhere, and no Option
// changes it.
//
// A Codec is immutable and safe for concurrent use. It does not verify
// shard integrity: a corrupt shard handed to Reconstruct corrupts the
// result, so check the decoded chunk against its CID (or each shard
// against its content address, for shards that have one).
type Codec struct {
	k, m int
	rs   reedsolomon.Encoder
}

// Option tunes a Codec's speed; no Option changes its output.
type Option func(*codecOptions)

type codecOptions struct {
	concurrency int
	chunkSize   int
}

// WithConcurrency bounds the goroutines a single Encode or Reconstruct call
// may use; 1 codes on the calling goroutine only, which suits a gateway
// that already codes many chunks in parallel. n <= 0 keeps reedsolomon's
// default, derived from GOMAXPROCS. It takes precedence over WithChunkSize.
func WithConcurrency(n int) Option {
	return func(o *codecOptions) { o.concurrency = n }
}

// WithChunkSize tells the Codec the chunk size it will mostly code, so
// that it splits work among goroutines for that size. Other sizes still
// work. n <= 0 is ignored.
func WithChunkSize(n int) Option {
	return func(o *codecOptions) { o.chunkSize = n }
}

// NewCodec returns a Codec for k data and m parity shards. It requires
// k >= 1, m >= 0 and k+m <= 256.
func NewCodec(k, m int, opts ...Option) (*Codec, error) {
	if k < 1 || m < 0 || k+m > maxShards || k+m < k {
		return nil, fmt.Errorf("erasure: invalid code %d+%d: need k >= 1, m >= 0, k+m <= %d", k, m, maxShards)
	}
	var o codecOptions
	for _, opt := range opts {
		opt(&o)
	}
	var rsOpts []reedsolomon.Option
	switch {
	case o.concurrency > 0:
		rsOpts = append(rsOpts, reedsolomon.WithMaxGoroutines(o.concurrency))
	case o.chunkSize > 0:
		rsOpts = append(rsOpts, reedsolomon.WithAutoGoroutines((o.chunkSize+k-1)/k))
	}
	rs, err := reedsolomon.New(k, m, rsOpts...)
	if err != nil {
		return nil, fmt.Errorf("erasure: new %d+%d codec: %w", k, m, err)
	}
	return &Codec{k: k, m: m, rs: rs}, nil
}

// K returns the number of data shards.
func (c *Codec) K() int { return c.k }

// M returns the number of parity shards.
func (c *Codec) M() int { return c.m }

// ShardSize returns the length of every shard of a chunk of chunkLen bytes:
// ceil(chunkLen/k), so at least 1 for chunkLen > 0, and 0 for chunkLen <= 0.
func (c *Codec) ShardSize(chunkLen int) int {
	if chunkLen <= 0 {
		return 0
	}
	return (chunkLen + c.k - 1) / c.k
}

// Encode splits chunk into k data shards, zero padding the last ones, and
// computes m parity shards. It returns the k+m shards, each exactly
// ShardSize(len(chunk)) bytes long, data shards first.
//
// shards may be nil, or hold buffers to reuse: shards[i] is used for shard
// i when its capacity is at least ShardSize; any smaller entry, and any
// missing one when len(shards) < k+m, is allocated. When len(shards) is k+m
// the returned slice is shards itself, its entries resliced or replaced.
// More than k+m buffers is an error. chunk is only read and must not
// overlap the buffers. An empty chunk is an error: an empty object has no
// chunks.
func (c *Codec) Encode(chunk []byte, shards [][]byte) ([][]byte, error) {
	if len(chunk) == 0 {
		return nil, errors.New("erasure: encode: empty chunk")
	}
	total := c.k + c.m
	if len(shards) > total {
		return nil, fmt.Errorf("erasure: encode: %d shard buffers for a %d+%d code", len(shards), c.k, c.m)
	}
	n := c.ShardSize(len(chunk))
	shards = c.buffers(shards, n)
	for i, s := range shards[:c.k] {
		copied := copy(s, chunk[min(i*n, len(chunk)):])
		clear(s[copied:])
	}
	if c.m > 0 {
		if err := c.rs.Encode(shards); err != nil {
			return nil, fmt.Errorf("erasure: encode: %w", err)
		}
	}
	return shards, nil
}

// EncodeInPlace is Encode without the copy of the chunk. When chunk's
// capacity reaches k*ShardSize(len(chunk)), the k data shards it returns
// are slices of chunk's backing array: the padding past len(chunk) is
// zeroed in place, so that array is written to, and it must stay unchanged
// for as long as the data shards are used. Only the m parity shards take
// buffers, from parity as Encode takes them from shards (reused when large
// enough, else allocated; more than m is an error). With less capacity it
// copies as Encode does. It returns the k+m shards, data shards first.
func (c *Codec) EncodeInPlace(chunk []byte, parity [][]byte) ([][]byte, error) {
	if len(chunk) == 0 {
		return nil, errors.New("erasure: encode: empty chunk")
	}
	if len(parity) > c.m {
		return nil, fmt.Errorf("erasure: encode: %d parity buffers for a %d+%d code", len(parity), c.k, c.m)
	}
	n := c.ShardSize(len(chunk))
	shards := make([][]byte, c.k+c.m)
	copy(shards[c.k:], parity)
	if cap(chunk) < c.k*n {
		return c.Encode(chunk, shards)
	}
	whole := chunk[:c.k*n]
	clear(whole[len(chunk):])
	for i := range c.k {
		shards[i] = whole[i*n : (i+1)*n : (i+1)*n]
	}
	c.fill(shards[c.k:], n)
	if c.m > 0 {
		if err := c.rs.Encode(shards); err != nil {
			return nil, fmt.Errorf("erasure: encode: %w", err)
		}
	}
	return shards, nil
}

// buffers returns k+m shards of n bytes, reusing the entries of shards that
// are large enough and allocating the others in one aligned block.
func (c *Codec) buffers(shards [][]byte, n int) [][]byte {
	total := c.k + c.m
	if len(shards) < total {
		grown := make([][]byte, total)
		copy(grown, shards)
		shards = grown
	}
	c.fill(shards, n)
	return shards
}

// fill reslices every entry of shards to n bytes, allocating the ones
// whose capacity is short in one aligned block.
func (c *Codec) fill(shards [][]byte, n int) {
	short := 0
	for _, s := range shards {
		if cap(s) < n {
			short++
		}
	}
	var fresh [][]byte
	if short > 0 {
		fresh = reedsolomon.AllocAligned(short, n)
	}
	for i, s := range shards {
		if cap(s) < n {
			shards[i], fresh = fresh[0], fresh[1:]
		} else {
			shards[i] = s[:n]
		}
	}
}

// ReconstructData fills in the missing data shards from any k present
// shards; missing parity shards stay missing. shards must hold k+m entries;
// a missing shard is nil or zero-length, and is rebuilt in place when its
// capacity suffices, else in newly allocated memory. All present shards
// must have the same length. Fewer than k present shards is an error
// wrapping ErrTooFewShards, and leaves shards unchanged.
func (c *Codec) ReconstructData(shards [][]byte) error {
	return c.reconstruct(shards, true)
}

// Reconstruct is ReconstructData that also rebuilds the missing parity
// shards, as repair does before pushing them to their nodes.
func (c *Codec) Reconstruct(shards [][]byte) error {
	return c.reconstruct(shards, false)
}

func (c *Codec) reconstruct(shards [][]byte, dataOnly bool) error {
	total := c.k + c.m
	if len(shards) != total {
		return fmt.Errorf("erasure: reconstruct: %d shards for a %d+%d code", len(shards), c.k, c.m)
	}
	size, present, dataPresent := 0, 0, 0
	for i, s := range shards {
		if len(s) == 0 {
			continue
		}
		if size == 0 {
			size = len(s)
		} else if len(s) != size {
			return fmt.Errorf("erasure: reconstruct: shard %d is %d bytes, others %d", i, len(s), size)
		}
		present++
		if i < c.k {
			dataPresent++
		}
	}
	if present == total || dataOnly && dataPresent == c.k {
		return nil
	}
	if present < c.k {
		return fmt.Errorf("%w: %d of %d present, %d needed", ErrTooFewShards, present, total, c.k)
	}
	var err error
	if dataOnly {
		err = c.rs.ReconstructData(shards)
	} else {
		err = c.rs.Reconstruct(shards)
	}
	if err != nil {
		return fmt.Errorf("erasure: reconstruct: %w", err)
	}
	return nil
}

// Join appends the first size bytes of the data shards to dst and returns
// the extended slice: with size the chunk's length, it gives back the chunk
// Encode was given. shards needs only its first k entries (the data
// shards), all present and of equal length; call ReconstructData first if
// one is missing. size must be between 0 and k times the shard length.
func (c *Codec) Join(dst []byte, shards [][]byte, size int) ([]byte, error) {
	if len(shards) < c.k {
		return dst, fmt.Errorf("erasure: join: %d shards, need the %d data shards", len(shards), c.k)
	}
	if size < 0 {
		return dst, fmt.Errorf("erasure: join: negative size %d", size)
	}
	n := len(shards[0])
	for i, s := range shards[:c.k] {
		switch {
		case len(s) == 0:
			return dst, fmt.Errorf("erasure: join: data shard %d is missing; reconstruct it first", i)
		case len(s) != n:
			return dst, fmt.Errorf("erasure: join: data shard %d is %d bytes, shard 0 is %d", i, len(s), n)
		}
	}
	if size > c.k*n {
		return dst, fmt.Errorf("erasure: join: size %d exceeds the %d bytes of %d data shards", size, c.k*n, c.k)
	}
	for _, s := range shards[:c.k] {
		if size == 0 {
			break
		}
		take := min(size, n)
		dst = append(dst, s[:take]...)
		size -= take
	}
	return dst, nil
}
