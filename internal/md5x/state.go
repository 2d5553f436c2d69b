package md5x

import (
	"crypto/md5"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
)

// crypto/md5's marshalled state: "md5\x01", a, b, c, d as big-endian
// uint32, the 64-byte block buffer, the length hashed as a big-endian
// uint64.
const (
	stateMagic = "md5\x01"
	stateSize  = len(stateMagic) + 4*4 + md5.BlockSize + 8
)

// laneState is a digest's chaining state and length, when it holds no
// partial block.
type laneState struct {
	s   [4]uint32
	len uint64
}

// getState reads d's state; d must hold no partial block.
func getState(d hash.Hash) (laneState, error) {
	var buf [stateSize]byte
	b, err := d.(encoding.BinaryAppender).AppendBinary(buf[:0])
	if err != nil {
		return laneState{}, fmt.Errorf("md5x: read md5 state: %w", err)
	}
	if len(b) != stateSize || string(b[:len(stateMagic)]) != stateMagic {
		return laneState{}, fmt.Errorf("md5x: unknown md5 state format (%d bytes)", len(b))
	}
	var st laneState
	for i := range st.s {
		st.s[i] = binary.BigEndian.Uint32(b[len(stateMagic)+4*i:])
	}
	st.len = binary.BigEndian.Uint64(b[stateSize-8:])
	if st.len%md5.BlockSize != 0 {
		return laneState{}, fmt.Errorf("md5x: md5 state holds a partial block (%d bytes)", st.len%md5.BlockSize)
	}
	return st, nil
}

// setState makes d continue from st.
func setState(d hash.Hash, st laneState) error {
	var b [stateSize]byte
	copy(b[:], stateMagic)
	for i, v := range st.s {
		binary.BigEndian.PutUint32(b[len(stateMagic)+4*i:], v)
	}
	binary.BigEndian.PutUint64(b[stateSize-8:], st.len)
	if err := d.(encoding.BinaryUnmarshaler).UnmarshalBinary(b[:]); err != nil {
		return fmt.Errorf("md5x: restore md5 state: %w", err)
	}
	return nil
}
