package load

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// Body is the deterministic content of one object: size bytes from a
// wyrand generator seeded by the object's key, so that every object's bytes
// differ (a content-addressed store cannot deduplicate them) and any object
// can be produced again from its key alone. It streams: memory use is
// constant whatever the size.
type Body struct {
	seed      uint64
	size      int64
	state     uint64
	remaining int64
	word      [8]byte
	wordLen   int // unread bytes at the end of word
}

// NewBody returns the content of the object named key with size bytes.
func NewBody(key string, size int64) *Body {
	s := seed(key, size)
	return &Body{seed: s, size: size, state: s, remaining: size}
}

// seed mixes the key and the size into the generator's starting state.
func seed(key string, size int64) uint64 {
	return xxhash.Sum64String(key) ^ bits.RotateLeft64(uint64(size), 32) ^ 0x9e3779b97f4a7c15
}

// wyrand's increment: its state is a counter, so that the generator can
// jump to any word at once.
const wyInc = 0xa0761d6478bd642f

// next is wyrand: one 64×64→128 multiply per 8 bytes.
func (b *Body) next() uint64 {
	b.state += wyInc
	hi, lo := bits.Mul64(b.state, b.state^0xe7037ed1a0b428db)
	return hi ^ lo
}

// Seek moves to offset (io.Seeker), in constant time: an S3 client seeks
// back to the start to send a request again, after a 503 for example.
func (b *Body) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.size - b.remaining
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, errors.New("load: Body.Seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("load: Body.Seek: negative position")
	}
	// Word k is generated from state seed + (k+1)·wyInc.
	b.state = b.seed + uint64(offset/8)*wyInc
	b.wordLen = 0
	b.remaining = b.size - offset
	if r := int(offset % 8); r != 0 && b.remaining > 0 {
		binary.LittleEndian.PutUint64(b.word[:], b.next())
		b.wordLen = 8 - r
	}
	return offset, nil
}

// Read fills p with the next bytes of the object; io.EOF after the last.
func (b *Body) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n := 0
	// Bytes left over from the previous call's last word come first.
	for b.wordLen > 0 && n < len(p) {
		p[n] = b.word[8-b.wordLen]
		b.wordLen--
		n++
	}
	// The hot loop keeps the state in a register.
	q, st := p[n:], b.state
	for len(q) >= 8 {
		st += wyInc
		hi, lo := bits.Mul64(st, st^0xe7037ed1a0b428db)
		binary.LittleEndian.PutUint64(q, hi^lo)
		q = q[8:]
	}
	b.state = st
	n = len(p) - len(q)
	if n < len(p) {
		binary.LittleEndian.PutUint64(b.word[:], b.next())
		b.wordLen = 8
		for n < len(p) {
			p[n] = b.word[8-b.wordLen]
			b.wordLen--
			n++
		}
	}
	b.remaining -= int64(n)
	return n, nil
}

// Digest is what a GET of an object is checked against: its length and the
// xxhash64 of its bytes.
type Digest struct {
	Size int64
	Sum  uint64
}

// DigestOf computes the digest of the object named key with size bytes, by
// generating it.
func DigestOf(key string, size int64) Digest {
	h := xxhash.New()
	buf := make([]byte, 64<<10)
	n, _ := io.CopyBuffer(h, NewBody(key, size), buf)
	return Digest{Size: n, Sum: h.Sum64()}
}
