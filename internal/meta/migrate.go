package meta

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrateChunkTable turns a format 1 state machine into format 2, in the
// transaction that opens it: the reference counts (bucket "refs": CID ->
// 8 bytes BE count, and when 0, 8 more bytes: since when) and the stripes,
// which format 1 kept in manifests and in garbage records, become one
// chunk record per chunk; the garbage index keeps its keys and loses its
// values. Every replica migrates the same state the same way.
func migrateChunkTable(tx *bolt.Tx) error {
	refs := tx.Bucket([]byte("refs"))
	if refs == nil {
		return nil // a new file: nothing to migrate
	}
	chunks := tx.Bucket(bChunks)
	// A live chunk's stripe is in every manifest that lists it: take the
	// first.
	for _, name := range [][]byte{bObjects, bParts} {
		err := tx.Bucket(name).ForEach(func(k, v []byte) error {
			cs, err := decodeManifestChunks(v)
			if err != nil {
				return fmt.Errorf("%s %q: %w", name, k, err)
			}
			for i := range cs {
				c := &cs[i]
				if c.Inline() || chunks.Get(c.CID) != nil {
					continue
				}
				rv := refs.Get(c.CID)
				if len(rv) < 8 {
					return fmt.Errorf("%w: chunk %x listed but not counted", errCorrupt, c.CID)
				}
				n := binary.BigEndian.Uint64(rv)
				state, since := ChunkLive, []byte(nil)
				if n == 0 {
					if len(rv) != 16 {
						return fmt.Errorf("%w: refs of %x", errCorrupt, c.CID)
					}
					state, since = ChunkGarbage, rv[8:16]
				}
				if err := chunks.Put(bytes.Clone(c.CID), encodeChunkRecord(n, state, since, c.Size, &c.Stripe)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// A garbage chunk's stripe is in its garbage record: FormatVersion 1,
	// then the stripe as in a version 1 manifest.
	garbage := tx.Bucket(bGarbage)
	type entry struct{ k, v []byte }
	var gs []entry
	if err := garbage.ForEach(func(k, v []byte) error {
		gs = append(gs, entry{bytes.Clone(k), bytes.Clone(v)})
		return nil
	}); err != nil {
		return err
	}
	for _, g := range gs {
		if len(g.k) < 8 || len(g.v) < 1 || g.v[0] != 1 {
			return fmt.Errorf("%w: garbage record %x", errCorrupt, g.k)
		}
		cid := g.k[8:]
		if chunks.Get(cid) == nil {
			d := &dec{b: g.v[1:]}
			st := readStripe(d, stripeBare)
			if d.err != nil {
				return fmt.Errorf("%w: garbage record %x", errCorrupt, g.k)
			}
			// Format 1 did not keep a garbage chunk's size: its shards
			// are only ever deleted, never decoded.
			if err := chunks.Put(cid, encodeChunkRecord(0, ChunkGarbage, g.k[:8], 0, &st)); err != nil {
				return err
			}
		}
		if err := garbage.Put(g.k, nil); err != nil {
			return err
		}
	}
	return tx.DeleteBucket([]byte("refs"))
}
