package meta

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Chunk reference counts. Every chunk listed by an object or an uploaded
// part counts one reference per listing (an object that lists a chunk twice
// holds two). The command that adds or drops a listing adjusts the counts in
// the same raft entry. When a count drops to zero the chunk is recorded as
// garbage, with the command's time and the stripe of the reference just
// released; a new reference takes it out of the garbage again.

// addRefs counts one more reference to each chunk.
func (w *wtx) addRefs(chunks []Chunk) error {
	for i := range chunks {
		if chunks[i].Inline() {
			continue // no shards to collect
		}
		cid := chunks[i].CID
		var n uint64
		if v := w.refs.Get(cid); v != nil {
			c, since, err := decodeRefs(v)
			if err != nil {
				return fmt.Errorf("refs of chunk %x: %w", cid, err)
			}
			if c == 0 {
				if err := w.garbage.Delete(garbageKey(since, cid)); err != nil {
					return err
				}
			}
			n = c
		}
		if err := w.refs.Put(cid, encodeRefs(n+1, nil)); err != nil {
			return err
		}
	}
	return nil
}

// releaseRefs drops one reference to each chunk. Call it after addRefs for
// the references that replace them, so that a chunk kept does not pass
// through zero.
func (w *wtx) releaseRefs(chunks []Chunk) error {
	for i := range chunks {
		c := &chunks[i]
		if c.Inline() {
			continue
		}
		v := w.refs.Get(c.CID)
		if v == nil {
			continue // nothing to release (cannot happen unless the state was damaged)
		}
		n, _, err := decodeRefs(v)
		if err != nil {
			return fmt.Errorf("refs of chunk %x: %w", c.CID, err)
		}
		if n == 0 {
			continue
		}
		n--
		if err := w.refs.Put(c.CID, encodeRefs(n, w.nowKey)); err != nil {
			return err
		}
		if n == 0 {
			if err := w.garbage.Put(garbageKey(w.nowKey, c.CID), encodeGarbage(&c.Stripe)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *wtx) forgetGarbage(d *dec) error {
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	cids := make([][]byte, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		cids = append(cids, d.raw())
	}
	if err := args(d); err != nil {
		return err
	}
	for _, cid := range cids {
		v := w.refs.Get(cid)
		if v == nil {
			continue
		}
		n, since, err := decodeRefs(v)
		if err != nil {
			return err
		}
		if n != 0 {
			continue // referenced again since it was listed
		}
		if err := w.garbage.Delete(garbageKey(since, cid)); err != nil {
			return err
		}
		if err := w.refs.Delete(cid); err != nil {
			return err
		}
	}
	return nil
}

// Garbage lists chunks without references since before olderThan, oldest
// first, at most limit (1000 if limit <= 0).
func (s *Store) Garbage(ctx context.Context, olderThan time.Time, limit int) ([]GarbageChunk, error) {
	if limit <= 0 {
		limit = 1000
	}
	before := timeKey(olderThan)
	var out []GarbageChunk
	err := s.read(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bGarbage).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) < 8 {
				return errCorrupt
			}
			if bytes.Compare(k[:8], before) >= 0 {
				break
			}
			st, err := decodeGarbage(v)
			if err != nil {
				return err
			}
			out = append(out, GarbageChunk{
				CID:    append([]byte(nil), k[8:]...),
				Stripe: st,
				Since:  time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list garbage: %w", err)
	}
	return out, nil
}

// ForgetGarbage drops the garbage records of chunks whose shards the
// garbage collector has deleted, in one raft entry. A chunk referenced
// again meanwhile is left alone.
func (s *Store) ForgetGarbage(ctx context.Context, cids [][]byte) error {
	size := 0
	for _, c := range cids {
		if len(c) == 0 || len(c) > maxCIDLen {
			return fmt.Errorf("forget garbage: %w: bad CID length %d", ErrInvalidArgument, len(c))
		}
		size += len(c) + 2
	}
	e := newCmd(opForgetGarbage, s.cfg.Now(), size+4)
	e.uvarint(uint64(len(cids)))
	for _, c := range cids {
		e.bytes(c)
	}
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("forget garbage: %w", err)
	}
	return nil
}

// ChunkRefs returns how many references the chunk has (0 if none, or if
// the chunk is unknown).
func (s *Store) ChunkRefs(ctx context.Context, chunkCID []byte) (int64, error) {
	var n uint64
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bRefs).Get(chunkCID)
		if v == nil {
			return nil
		}
		var err error
		n, _, err = decodeRefs(v)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("chunk refs %x: %w", chunkCID, err)
	}
	return int64(n), nil
}
