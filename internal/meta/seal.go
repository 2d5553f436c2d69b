package meta

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// What sealing needs of the metadata: an index from a sealed stripe's
// keyed name to its chunk (a shard found on a node names its stripe by the
// keyed name only), the swap of a live chunk's stripe for a sealed one
// (the migration of unsealed data), and the flag that asks for that
// migration.
//
// The names index (bucket "names") maps the keyed name of every chunk
// record whose stripe has one to the chunk's CID. It changes with the
// records: when a record is created (the first reference), forgotten
// (ForgetGarbage) or its stripe replaced (ReplaceStripe). A state machine
// file without the bucket (written before sealing) gets it built from the
// chunk table when it is opened (buildNames).

// indexName moves a chunk's entry in the names index from old to name
// (either nil: none). An old entry that names another chunk is left
// alone.
func (w *wtx) indexName(cid, old, name []byte) error {
	if old != nil && !bytes.Equal(old, name) && bytes.Equal(w.names.Get(old), cid) {
		if err := w.names.Delete(old); err != nil {
			return err
		}
	}
	if name != nil {
		return w.names.Put(name, cid)
	}
	return nil
}

// buildNames fills an empty names index from the chunk table, in the
// transaction that opens the file.
func buildNames(tx *bolt.Tx) error {
	names := tx.Bucket(bNames)
	return tx.Bucket(bChunks).ForEach(func(k, v []byte) error {
		r, err := decodeChunkRecord(v)
		if err != nil {
			return fmt.Errorf("chunk %x: %w", k, err)
		}
		if r.stripe.Name == nil {
			return nil
		}
		return names.Put(bytes.Clone(r.stripe.Name), bytes.Clone(k))
	})
}

// ChunkByName returns the record of the chunk whose stripe has the keyed
// name (Stripe.Name; the binary CID of erasure.Sealer.Name), or nil if no
// record has it: how healing maps a sealed shard found on a node back to
// its chunk.
func (s *Store) ChunkByName(ctx context.Context, name []byte) (*ChunkInfo, error) {
	var out *ChunkInfo
	err := s.read(ctx, func(tx *bolt.Tx) error {
		cid := tx.Bucket(bNames).Get(name)
		if cid == nil {
			return nil
		}
		v := tx.Bucket(bChunks).Get(cid)
		if v == nil {
			return fmt.Errorf("%w: keyed name %x indexes chunk %x, which has no record", errCorrupt, name, cid)
		}
		r, err := decodeChunkRecord(v)
		if err != nil {
			return err
		}
		ci := r.info(cid)
		out = &ci
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chunk by name %x: %w", name, err)
	}
	return out, nil
}

// ReplaceStripe gives a live chunk's record a new stripe, in one raft
// entry, if the record's stripe still has the shards old (compare-and-set:
// otherwise, or when the chunk has no record or is not live,
// ErrStripeChanged, and nothing changes). It is how the migration of
// unsealed data swaps a stripe for its sealed copy once every shard of the
// copy is stored: the old shards are then named by no record, and healing
// deletes them as strays after its grace (a reader may still hold the old
// stripe). The new stripe must be whole (K+M shards; nodes and sums, when
// given, one per shard); its keyed name replaces the old one in the names
// index.
func (s *Store) ReplaceStripe(ctx context.Context, cid []byte, old [][]byte, next Stripe) error {
	if len(cid) == 0 || len(cid) > maxCIDLen {
		return fmt.Errorf("replace stripe: %w: bad CID length %d", ErrInvalidArgument, len(cid))
	}
	if err := checkStripe(&next); err != nil {
		return fmt.Errorf("replace stripe of %x: %w: %w", cid, ErrInvalidArgument, err)
	}
	if next.K < 1 || len(next.Shards) != next.K+next.M {
		return fmt.Errorf("replace stripe of %x: %w: %d shards for a %d+%d stripe", cid, ErrInvalidArgument, len(next.Shards), next.K, next.M)
	}
	size := len(cid) + 64
	for _, sh := range old {
		size += len(sh) + 2
	}
	for _, sh := range next.Shards {
		size += 2*len(sh) + 64
	}
	e := newCmd(opReplaceStripe, s.cfg.Now(), size)
	e.bytes(cid)
	appendList(e, old)
	appendStripe(e, &next, stripeSealed)
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("replace stripe of %x: %w", cid, err)
	}
	return nil
}

func (w *wtx) replaceStripe(d *dec) error {
	cid := d.raw()
	old := readList(d)
	next := readStripe(d, stripeSealed)
	if err := args(d); err != nil {
		return err
	}
	r, ok, err := w.chunkRecord(cid)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return reject(fmt.Errorf("%w: chunk %x has no record", ErrStripeChanged, cid))
	case r.state != ChunkLive:
		return reject(fmt.Errorf("%w: chunk %x is %s", ErrStripeChanged, cid, r.state))
	case !slices.EqualFunc(r.stripe.Shards, old, bytes.Equal):
		return reject(fmt.Errorf("%w: chunk %x", ErrStripeChanged, cid))
	}
	if err := w.indexName(cid, r.stripe.Name, next.Name); err != nil {
		return err
	}
	r.stripe = next
	return w.putChunkRecord(cid, &r)
}

// kSealMigration (in bucket settings) is the seal migration flag: 1 byte,
// 1 when set.
var kSealMigration = []byte("seal-migration")

// SetSealMigration sets (or clears) the persistent flag that asks healing
// to seal every live unsealed stripe (the migration of data written
// before sealing, or by gateways running with sealing off), in one raft
// entry. Setting it again changes nothing.
func (s *Store) SetSealMigration(ctx context.Context, on bool) error {
	e := newCmd(opSetSealMigration, s.cfg.Now(), 2)
	v := uint64(0)
	if on {
		v = 1
	}
	e.uvarint(v)
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("set seal migration: %w", err)
	}
	return nil
}

func (w *wtx) setSealMigration(d *dec) error {
	v := d.uvarint()
	if err := args(d); err != nil {
		return err
	}
	if v > 1 {
		return reject(fmt.Errorf("%w: seal migration flag %d", errCorrupt, v))
	}
	return w.tx.Bucket(bSettings).Put(kSealMigration, []byte{byte(v)})
}

// SealMigration reports whether the seal migration was asked for
// (SetSealMigration).
func (s *Store) SealMigration(ctx context.Context) (bool, error) {
	var on bool
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bSettings).Get(kSealMigration)
		on = len(v) == 1 && v[0] == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seal migration: %w", err)
	}
	return on, nil
}
