package meta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PutObject stores obj's manifest under obj.Bucket and obj.Key as the
// key's current version, replacing the object with that key or keeping it
// as a noncurrent version as the bucket's versioning says (versions.go),
// if obj.Cond holds (ErrPreconditionFailed, ErrNoSuchKey):
// ErrNoSuchBucket; ErrLockNotEnabled for a lock on a bucket without
// object lock; ErrObjectLocked to replace a locked null version. It counts
// a reference to each of obj's chunks and releases those of the object
// replaced, in the same raft entry. obj is not retained; only its
// VersionID is set, to the version written (as Object.VersionID). The
// stored copy has V set to FormatVersion.
func (s *Store) PutObject(ctx context.Context, obj *Object) error {
	if obj == nil {
		return fmt.Errorf("put object: %w: nil object", ErrInvalidArgument)
	}
	cmd, err := putObjectCmd(obj, s.cfg.Now())
	var res any
	if err == nil {
		res, err = s.proposeResult(ctx, cmd)
	}
	if err != nil {
		return fmt.Errorf("put object %s/%s: %w", obj.Bucket, obj.Key, err)
	}
	obj.VersionID, _ = res.(string)
	return nil
}

func putObjectCmd(obj *Object, now time.Time) ([]byte, error) {
	if err := checkBucket(obj.Bucket); err != nil {
		return nil, err
	}
	if err := checkKey(obj.Key); err != nil {
		return nil, err
	}
	m, err := encodeObject(obj)
	if err != nil {
		return nil, err
	}
	e := newCmd(opPutObject, now, len(obj.Bucket)+len(obj.Key)+len(m)+12)
	e.str(obj.Bucket)
	e.str(obj.Key)
	e.bytes(m)
	e.uvarint(obj.Fence)
	appendCond(e, obj.Cond)
	return e.b, nil
}

func (w *wtx) putObject(d *dec) error {
	bucket, key, m := d.str(), d.str(), d.raw()
	fence := optFence(d)
	cond := optCond(d)
	if err := args(d); err != nil {
		return err
	}
	if w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchBucket)
	}
	chunks, err := decodeManifestChunks(m)
	if err != nil {
		return reject(err)
	}
	if err := w.checkForgotten(chunks, fence); err != nil {
		return err
	}
	return w.putVersion(bucket, key, m, chunks, cond, 1)
}

// GetObject returns an object's whole manifest: ErrNoSuchBucket,
// ErrNoSuchKey.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*Object, error) {
	var obj *Object
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if !hasBucket(tx, bucket) {
			return ErrNoSuchBucket
		}
		v := tx.Bucket(bObjects).Get(objectKey(bucket, key))
		if v == nil {
			return ErrNoSuchKey
		}
		var err error
		if obj, err = decodeObject(v, true); err != nil {
			return err
		}
		if obj.DeleteMarker {
			return ErrNoSuchKey
		}
		return resolveStripes(tx, obj.Chunks)
	})
	if err != nil {
		return nil, fmt.Errorf("get object %s/%s: %w", bucket, key, err)
	}
	return obj, nil
}

// DeleteObjects deletes the objects with the given keys, in one raft
// entry, as S3's DELETE without version ID does (DeleteVersions, which
// also answers what it did per key): in a bucket without versioning the
// object goes and its chunks are released, in a versioning bucket a
// delete marker is made; keys with no object are skipped, and a locked
// version is kept: ErrNoSuchBucket.
func (s *Store) DeleteObjects(ctx context.Context, bucket string, keys []string) error {
	if err := checkBucket(bucket); err != nil {
		return fmt.Errorf("delete objects in %q: %w", bucket, err)
	}
	if len(keys) > maxDeleteBatch {
		return fmt.Errorf("delete objects in %q: %w: more than %d keys", bucket, ErrInvalidArgument, maxDeleteBatch)
	}
	size := len(bucket) + 8
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return fmt.Errorf("delete objects in %q: %w", bucket, err)
		}
		size += len(k) + 2
	}
	e := newCmd(opDeleteObjects, s.cfg.Now(), size)
	e.str(bucket)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
	}
	if err := s.propose(ctx, e.b); err != nil {
		return fmt.Errorf("delete objects in %q: %w", bucket, err)
	}
	return nil
}

func (w *wtx) deleteObjects(d *dec) error {
	bucket := d.str()
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	keys := make([][]byte, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		keys = append(keys, d.raw())
	}
	if err := args(d); err != nil {
		return err
	}
	if w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchBucket)
	}
	cfg, err := readBucketConfig(w.bconfig, bucket)
	if err != nil {
		return err
	}
	for i, k := range keys {
		// As S3's DELETE: a delete marker in a versioning bucket; a
		// locked version is kept.
		_, err := w.deleteCurrent(cfg, bucket, string(k), i+1, nil)
		var rej rejected
		if err != nil && !errors.As(err, &rej) {
			return err
		}
	}
	return nil
}

// ListObjects lists a bucket's objects in key order with S3's rules:
// keys with q.Prefix and strictly greater than q.Marker; with a delimiter,
// the keys that have it after the prefix roll up into one common prefix
// (up to and including the delimiter), which is not repeated if it is not
// greater than q.Marker; at most q.Max entries (objects plus common
// prefixes; 1000 if q.Max <= 0); NextMarker is the last key or prefix
// returned when the list is truncated. The objects listed carry no Chunks
// (GetObject has them). ErrNoSuchBucket.
//
// The walk is a cursor over the bucket's keys; after a common prefix it
// seeks past every key that shares it.
func (s *Store) ListObjects(ctx context.Context, bucket string, q ListQuery) (*ListResult, error) {
	var res *ListResult
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if !hasBucket(tx, bucket) {
			return ErrNoSuchBucket
		}
		var err error
		res, err = listObjects(tx.Bucket(bObjects).Cursor(), bucket, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list objects in %q: %w", bucket, err)
	}
	return res, nil
}

func listObjects(c *bolt.Cursor, bucket string, q ListQuery) (*ListResult, error) {
	limit := q.Max
	if limit <= 0 {
		limit = 1000
	}
	base := bucketPrefix(bucket)
	base = base[:len(base):len(base)] // appending to base copies
	prefix, marker, delim := []byte(q.Prefix), []byte(q.Marker), []byte(q.Delimiter)
	start := prefix
	if bytes.Compare(marker, prefix) > 0 {
		start = marker
	}
	res := &ListResult{}
	var last string
	n := 0
	k, v := c.Seek(append(base, start...))
	for k != nil && bytes.HasPrefix(k, base) {
		key := k[len(base):]
		if !bytes.HasPrefix(key, prefix) {
			break
		}
		if bytes.Compare(key, marker) <= 0 {
			k, v = c.Next()
			continue
		}
		if isDeleteMarker(v) {
			// Not listed, nor is a common prefix only they share.
			k, v = c.Next()
			continue
		}
		if len(delim) > 0 {
			if i := bytes.Index(key[len(prefix):], delim); i >= 0 {
				cp := key[:len(prefix)+i+len(delim)]
				if bytes.Compare(cp, marker) > 0 {
					if n == limit {
						res.Truncated = true
						break
					}
					last = string(cp)
					res.CommonPrefixes = append(res.CommonPrefixes, last)
					n++
				}
				end := prefixEnd(append(base, cp...))
				if end == nil {
					break
				}
				k, v = c.Seek(end)
				continue
			}
		}
		if n == limit {
			res.Truncated = true
			break
		}
		obj, err := decodeObject(v, false)
		if err != nil {
			return nil, fmt.Errorf("object %q: %w", key, err)
		}
		res.Objects = append(res.Objects, obj)
		last = string(key)
		n++
		k, v = c.Next()
	}
	if res.Truncated {
		res.NextMarker = last
	}
	return res, nil
}
