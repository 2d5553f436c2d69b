package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CreateBucket creates a bucket, created at now. ErrBucketExists if it
// exists.
func (s *Store) CreateBucket(ctx context.Context, name string, now time.Time) error {
	if err := checkBucket(name); err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	e := newCmd(opCreateBucket, now, len(name)+2)
	e.str(name)
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	return nil
}

func (w *wtx) createBucket(d *dec) error {
	name := d.str()
	if err := args(d); err != nil {
		return err
	}
	if w.buckets.Get([]byte(name)) != nil {
		return reject(ErrBucketExists)
	}
	v, err := json.Marshal(&Bucket{V: FormatVersion, Name: name, Created: w.now})
	if err != nil {
		return err
	}
	return w.buckets.Put([]byte(name), v)
}

// DeleteBucket deletes an empty bucket: ErrNoSuchBucket, or
// ErrBucketNotEmpty if it holds any object. Its multipart uploads in
// progress are aborted, releasing their parts' chunks.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	if err := checkBucket(name); err != nil {
		return fmt.Errorf("delete bucket %q: %w", name, err)
	}
	e := newCmd(opDeleteBucket, s.cfg.Now(), len(name)+2)
	e.str(name)
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("delete bucket %q: %w", name, err)
	}
	return nil
}

func (w *wtx) deleteBucket(d *dec) error {
	name := d.str()
	if err := args(d); err != nil {
		return err
	}
	if w.buckets.Get([]byte(name)) == nil {
		return reject(ErrNoSuchBucket)
	}
	base := bucketPrefix(name)
	if k, _ := w.objects.Cursor().Seek(base); k != nil && bytes.HasPrefix(k, base) {
		return reject(ErrBucketNotEmpty)
	}
	if hasVersions(w.versions, name) {
		return reject(ErrBucketNotEmpty)
	}
	if err := w.bconfig.Delete([]byte(name)); err != nil {
		return err
	}
	var uploads [][]byte
	c := w.uploads.Cursor()
	for k, _ := c.Seek(base); k != nil && bytes.HasPrefix(k, base); k, _ = c.Next() {
		uploads = append(uploads, append([]byte(nil), k...))
	}
	for _, uk := range uploads {
		if err := w.dropUpload(uk); err != nil {
			return err
		}
	}
	return w.buckets.Delete([]byte(name))
}

// GetBucket returns a bucket: ErrNoSuchBucket.
func (s *Store) GetBucket(ctx context.Context, name string) (*Bucket, error) {
	b := new(Bucket)
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bBuckets).Get([]byte(name))
		if v == nil {
			return ErrNoSuchBucket
		}
		if err := decodeJSON(v, b, &b.V); err != nil {
			return err
		}
		b.ReadIndex = appliedIndex(tx)
		var err error
		b.Config, err = readBucketConfig(tx.Bucket(bBucketConfig), name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get bucket %q: %w", name, err)
	}
	return b, nil
}

// ListBuckets returns every bucket, by name.
func (s *Store) ListBuckets(ctx context.Context) ([]*Bucket, error) {
	var out []*Bucket
	err := s.read(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bBuckets).ForEach(func(_, v []byte) error {
			b := new(Bucket)
			if err := decodeJSON(v, b, &b.V); err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return out, nil
}

func hasBucket(tx *bolt.Tx, name string) bool {
	return tx.Bucket(bBuckets).Get([]byte(name)) != nil
}
