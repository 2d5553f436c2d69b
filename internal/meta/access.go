package meta

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Access keys and the placement layout: small records, whole-value
// updates.

// PutKey stores an access key, replacing one with the same ID. k is not
// retained or modified.
func (s *Store) PutKey(ctx context.Context, k *Key) error {
	if k == nil {
		return fmt.Errorf("put key: %w: nil key", ErrInvalidArgument)
	}
	err := checkName("access key ID", k.ID, maxIDLen)
	if err == nil {
		c := *k
		c.V = FormatVersion
		var v []byte
		if v, err = json.Marshal(&c); err == nil {
			e := newCmd(opPutKey, s.cfg.Now(), len(k.ID)+len(v)+8)
			e.str(k.ID)
			e.bytes(v)
			err = s.propose(ctx, e.b)
		}
	}
	if err != nil {
		return fmt.Errorf("put key %s: %w", k.ID, err)
	}
	return nil
}

func (w *wtx) putKey(d *dec) error {
	id, v := d.str(), d.raw()
	if err := args(d); err != nil {
		return err
	}
	if !json.Valid(v) {
		return reject(fmt.Errorf("%w: record is not JSON", errCorrupt))
	}
	return w.keys.Put([]byte(id), v)
}

// GetKey returns an access key: ErrNoSuchAccess.
func (s *Store) GetKey(ctx context.Context, id string) (*Key, error) {
	k := new(Key)
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bKeys).Get([]byte(id))
		if v == nil {
			return ErrNoSuchAccess
		}
		return decodeJSON(v, k, &k.V)
	})
	if err != nil {
		return nil, fmt.Errorf("get key %s: %w", id, err)
	}
	return k, nil
}

// ListKeys returns every access key, by ID.
func (s *Store) ListKeys(ctx context.Context) ([]*Key, error) {
	var out []*Key
	err := s.read(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bKeys).ForEach(func(_, v []byte) error {
			k := new(Key)
			if err := decodeJSON(v, k, &k.V); err != nil {
				return err
			}
			out = append(out, k)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// DeleteKey deletes an access key: ErrNoSuchAccess.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	err := checkName("access key ID", id, maxIDLen)
	if err == nil {
		e := newCmd(opDeleteKey, s.cfg.Now(), len(id)+2)
		e.str(id)
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("delete key %s: %w", id, err)
	}
	return nil
}

func (w *wtx) deleteKey(d *dec) error {
	id := d.str()
	if err := args(d); err != nil {
		return err
	}
	if w.keys.Get([]byte(id)) == nil {
		return reject(ErrNoSuchAccess)
	}
	return w.keys.Delete([]byte(id))
}

// SetLayout stores l as the current layout, and in the history under its
// version: ErrStaleLayout unless l.Version is greater than the current
// layout's (versions start at 1). l is not retained or modified.
func (s *Store) SetLayout(ctx context.Context, l *Layout) error {
	if l == nil {
		return fmt.Errorf("set layout: %w: nil layout", ErrInvalidArgument)
	}
	var err error
	if l.Version == 0 {
		err = fmt.Errorf("%w: layout version 0", ErrInvalidArgument)
	}
	if err == nil {
		c := *l
		c.V = FormatVersion
		var v []byte
		if v, err = json.Marshal(&c); err == nil {
			e := newCmd(opSetLayout, s.cfg.Now(), len(v)+12)
			e.uvarint(l.Version)
			e.bytes(v)
			err = s.propose(ctx, e.b)
		}
	}
	if err != nil {
		return fmt.Errorf("set layout %d: %w", l.Version, err)
	}
	return nil
}

func (w *wtx) setLayout(d *dec) error {
	version, v := d.uvarint(), d.raw()
	if err := args(d); err != nil {
		return err
	}
	if !json.Valid(v) {
		return reject(fmt.Errorf("%w: record is not JSON", errCorrupt))
	}
	if k, _ := w.layouts.Cursor().Last(); k != nil && binary.BigEndian.Uint64(k) >= version {
		return reject(fmt.Errorf("%w: current version %d", ErrStaleLayout, binary.BigEndian.Uint64(k)))
	}
	return w.layouts.Put(u64(version), v)
}

// Layout returns the current layout, or nil and no error if none was set.
func (s *Store) Layout(ctx context.Context) (*Layout, error) {
	var l *Layout
	err := s.read(ctx, func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bLayouts).Cursor().Last()
		if v == nil {
			return nil
		}
		l = new(Layout)
		return decodeJSON(v, l, &l.V)
	})
	if err != nil {
		return nil, fmt.Errorf("get layout: %w", err)
	}
	return l, nil
}

// LayoutVersion returns the layout of a given version: ErrNoSuchLayout.
func (s *Store) LayoutVersion(ctx context.Context, version uint64) (*Layout, error) {
	l := new(Layout)
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bLayouts).Get(u64(version))
		if v == nil {
			return ErrNoSuchLayout
		}
		return decodeJSON(v, l, &l.V)
	})
	if err != nil {
		return nil, fmt.Errorf("get layout %d: %w", version, err)
	}
	return l, nil
}
