package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// CreateUpload records a multipart upload in progress; u.ID is the
// caller's, unique: ErrNoSuchBucket. u is not retained or modified.
func (s *Store) CreateUpload(ctx context.Context, u *Upload) error {
	if u == nil {
		return fmt.Errorf("create upload: %w: nil upload", ErrInvalidArgument)
	}
	err := checkUpload(u.Bucket, u.Key, u.ID)
	if err == nil {
		c := *u
		c.V = FormatVersion
		var v []byte
		if v, err = json.Marshal(&c); err == nil {
			e := newCmd(opCreateUpload, s.cfg.Now(), len(u.Bucket)+len(u.Key)+len(u.ID)+len(v)+12)
			e.str(u.Bucket)
			e.str(u.Key)
			e.str(u.ID)
			e.bytes(v)
			err = s.propose(ctx, e.b)
		}
	}
	if err != nil {
		return fmt.Errorf("create upload %s/%s %s: %w", u.Bucket, u.Key, u.ID, err)
	}
	return nil
}

func (w *wtx) createUpload(d *dec) error {
	bucket, key, id, v := d.str(), d.str(), d.str(), d.raw()
	if err := args(d); err != nil {
		return err
	}
	if !json.Valid(v) {
		return reject(fmt.Errorf("%w: record is not JSON", errCorrupt))
	}
	if w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchBucket)
	}
	return w.uploads.Put(uploadKey(bucket, key, id), v)
}

// GetUpload returns an upload in progress: ErrNoSuchUpload, also if it
// belongs to another bucket or key.
func (s *Store) GetUpload(ctx context.Context, bucket, key, id string) (*Upload, error) {
	u := new(Upload)
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bUploads).Get(uploadKey(bucket, key, id))
		if v == nil {
			return ErrNoSuchUpload
		}
		if err := decodeJSON(v, u, &u.V); err != nil {
			return err
		}
		u.ReadIndex = appliedIndex(tx)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get upload %s/%s %s: %w", bucket, key, id, err)
	}
	return u, nil
}

// PutPart stores an uploaded part, replacing a part with the same number
// (and releasing its chunks): ErrNoSuchUpload. p is not retained or
// modified.
func (s *Store) PutPart(ctx context.Context, bucket, key, id string, p *Part) error {
	err := checkUpload(bucket, key, id)
	if err == nil && p == nil {
		err = fmt.Errorf("%w: nil part", ErrInvalidArgument)
	}
	if err == nil {
		err = checkPartNumber(p.Number)
	}
	if err == nil {
		var m []byte
		if m, err = encodePart(p); err == nil {
			e := newCmd(opPutPart, s.cfg.Now(), len(bucket)+len(key)+len(id)+len(m)+20)
			e.str(bucket)
			e.str(key)
			e.str(id)
			e.uvarint(uint64(p.Number))
			e.bytes(m)
			e.uvarint(p.Fence)
			err = s.propose(ctx, e.b)
		}
	}
	if err != nil {
		return fmt.Errorf("put part of %s/%s %s: %w", bucket, key, id, err)
	}
	return nil
}

func (w *wtx) putPart(d *dec) error {
	bucket, key, id, n, m := d.str(), d.str(), d.str(), d.int(), d.raw()
	fence := optFence(d)
	if err := args(d); err != nil {
		return err
	}
	uk := uploadKey(bucket, key, id)
	if w.uploads.Get(uk) == nil {
		return reject(ErrNoSuchUpload)
	}
	chunks, err := decodeManifestChunks(m)
	if err != nil {
		return reject(err)
	}
	pk := partKey(uk, n)
	if err := w.checkForgotten(chunks, fence); err != nil {
		return err
	}
	if err := w.checkReferable(chunks); err != nil {
		return err
	}
	if err := w.addRefs(chunks); err != nil {
		return err
	}
	if old := w.parts.Get(pk); old != nil {
		oc, err := decodeManifestChunks(old)
		if err != nil {
			return fmt.Errorf("part being replaced: %w", err)
		}
		if err := w.releaseRefs(oc); err != nil {
			return err
		}
	}
	return w.parts.Put(pk, m)
}

// ListParts returns the parts of an upload numbered above marker, in
// ascending order, at most limit (1000 if limit <= 0), with their chunks, and
// whether more follow: ErrNoSuchUpload.
func (s *Store) ListParts(ctx context.Context, bucket, key, id string, marker, limit int) (parts []*Part, truncated bool, err error) {
	if limit <= 0 {
		limit = 1000
	}
	marker = min(max(marker, 0), MaxPartNumber)
	err = s.read(ctx, func(tx *bolt.Tx) error {
		uk := uploadKey(bucket, key, id)
		if tx.Bucket(bUploads).Get(uk) == nil {
			return ErrNoSuchUpload
		}
		c := tx.Bucket(bParts).Cursor()
		for k, v := c.Seek(partKey(uk, marker+1)); k != nil && bytes.HasPrefix(k, uk); k, v = c.Next() {
			if len(parts) == limit {
				truncated = true
				break
			}
			p, err := decodePart(v)
			if err != nil {
				return err
			}
			if err := resolveStripes(tx, p.Chunks); err != nil {
				return err
			}
			parts = append(parts, p)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("list parts of %s/%s %s: %w", bucket, key, id, err)
	}
	return parts, truncated, nil
}

// CompleteUpload completes upload id of obj.Bucket and obj.Key: each part
// listed must exist with the ETag given (quotes aside), else
// ErrInvalidPart; ErrNoSuchUpload. In one raft entry obj, which the caller
// built from those parts, becomes the object (replacing any), and the
// upload and all its parts go away: chunks of parts that obj does not list
// lose their reference. The object is a version as PutObject's, under
// obj.Cond; obj is not retained, and only its VersionID is set.
func (s *Store) CompleteUpload(ctx context.Context, id string, parts []PartRef, obj *Object) error {
	if obj == nil {
		return fmt.Errorf("complete upload %s: %w: nil object", id, ErrInvalidArgument)
	}
	err := checkUpload(obj.Bucket, obj.Key, id)
	size := len(obj.Bucket) + len(obj.Key) + len(id) + 20
	for _, p := range parts {
		if err == nil {
			err = checkPartNumber(p.Number)
		}
		size += len(p.ETag) + 4
	}
	var m []byte
	if err == nil {
		m, err = encodeObject(obj)
	}
	if err == nil {
		e := newCmd(opCompleteUpload, s.cfg.Now(), size+len(m))
		e.str(obj.Bucket)
		e.str(obj.Key)
		e.str(id)
		e.uvarint(uint64(len(parts)))
		for _, p := range parts {
			e.uvarint(uint64(p.Number))
			e.str(p.ETag)
		}
		e.bytes(m)
		appendCond(e, obj.Cond)
		var res any
		res, err = s.proposeResult(ctx, e.b)
		obj.VersionID, _ = res.(string)
	}
	if err != nil {
		return fmt.Errorf("complete upload %s/%s %s: %w", obj.Bucket, obj.Key, id, err)
	}
	return nil
}

func (w *wtx) completeUpload(d *dec) error {
	bucket, key, id := d.str(), d.str(), d.str()
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	refs := make([]PartRef, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		refs = append(refs, PartRef{Number: d.int(), ETag: d.str()})
	}
	m := d.raw()
	cond := optCond(d)
	if err := args(d); err != nil {
		return err
	}
	uk := uploadKey(bucket, key, id)
	if w.uploads.Get(uk) == nil || w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchUpload)
	}
	for _, r := range refs {
		v := w.parts.Get(partKey(uk, r.Number))
		if v == nil {
			return reject(fmt.Errorf("%w: part %d not uploaded", ErrInvalidPart, r.Number))
		}
		var p Part
		if err := decodeManifestHeader(v, &p); err != nil {
			return fmt.Errorf("part %d: %w", r.Number, err)
		}
		if strings.Trim(p.ETag, `"`) != strings.Trim(r.ETag, `"`) {
			return reject(fmt.Errorf("%w: part %d has ETag %s, not %s", ErrInvalidPart, r.Number, p.ETag, r.ETag))
		}
	}
	chunks, err := decodeManifestChunks(m)
	if err != nil {
		return reject(err)
	}
	if err := w.putVersion(bucket, key, m, chunks, cond, 1); err != nil {
		return err
	}
	return w.dropUpload(uk)
}

// AbortUpload deletes an upload in progress and its parts, releasing their
// chunks: ErrNoSuchUpload.
func (s *Store) AbortUpload(ctx context.Context, bucket, key, id string) error {
	err := checkUpload(bucket, key, id)
	if err == nil {
		e := newCmd(opAbortUpload, s.cfg.Now(), len(bucket)+len(key)+len(id)+8)
		e.str(bucket)
		e.str(key)
		e.str(id)
		err = s.propose(ctx, e.b)
	}
	if err != nil {
		return fmt.Errorf("abort upload %s/%s %s: %w", bucket, key, id, err)
	}
	return nil
}

func (w *wtx) abortUpload(d *dec) error {
	bucket, key, id := d.str(), d.str(), d.str()
	if err := args(d); err != nil {
		return err
	}
	uk := uploadKey(bucket, key, id)
	if w.uploads.Get(uk) == nil {
		return reject(ErrNoSuchUpload)
	}
	return w.dropUpload(uk)
}

// dropUpload deletes the upload at uk and its parts, releasing their
// chunks.
func (w *wtx) dropUpload(uk []byte) error {
	type part struct {
		key    []byte
		chunks []Chunk
	}
	var parts []part
	c := w.parts.Cursor()
	for k, v := c.Seek(uk); k != nil && bytes.HasPrefix(k, uk); k, v = c.Next() {
		chunks, err := decodeManifestChunks(v)
		if err != nil {
			return fmt.Errorf("part being dropped: %w", err)
		}
		parts = append(parts, part{append([]byte(nil), k...), chunks})
	}
	for _, p := range parts {
		if err := w.releaseRefs(p.chunks); err != nil {
			return err
		}
		if err := w.parts.Delete(p.key); err != nil {
			return err
		}
	}
	return w.uploads.Delete(uk)
}

// ListUploads lists a bucket's uploads in progress ordered by (key, upload
// ID), with S3's rules: keys with q.Prefix; after q.KeyMarker, or, with
// q.UploadIDMarker too, also the uploads of key q.KeyMarker with a greater
// ID; common prefixes as in ListObjects (one not greater than q.KeyMarker
// is not repeated); at most q.Max entries (1000 if q.Max <= 0); when
// truncated, the Next markers name the last upload (or prefix, with an
// empty upload ID) returned. ErrNoSuchBucket.
func (s *Store) ListUploads(ctx context.Context, bucket string, q UploadQuery) (*UploadList, error) {
	var res *UploadList
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if !hasBucket(tx, bucket) {
			return ErrNoSuchBucket
		}
		var err error
		res, err = listUploads(tx.Bucket(bUploads).Cursor(), bucket, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list uploads in %q: %w", bucket, err)
	}
	return res, nil
}

func listUploads(c *bolt.Cursor, bucket string, q UploadQuery) (*UploadList, error) {
	limit := q.Max
	if limit <= 0 {
		limit = 1000
	}
	base := bucketPrefix(bucket)
	base = base[:len(base):len(base)]
	start := appendEsc(base, q.Prefix)
	if q.KeyMarker != "" {
		if mk := appendEsc(base, q.KeyMarker); bytes.Compare(mk, start) > 0 {
			start = mk
		}
	}
	res := &UploadList{}
	var lastKey, lastID string
	n := 0
	k, v := c.Seek(start)
	for k != nil && bytes.HasPrefix(k, base) {
		key, rest, ok := readEscT(k[len(base):])
		var id string
		if ok {
			id, _, ok = readEscT(rest)
		}
		if !ok {
			return nil, fmt.Errorf("%w: upload key %x", errCorrupt, k)
		}
		if !strings.HasPrefix(key, q.Prefix) {
			break
		}
		if q.KeyMarker != "" && (key < q.KeyMarker || key == q.KeyMarker && (q.UploadIDMarker == "" || id <= q.UploadIDMarker)) {
			k, v = c.Next()
			continue
		}
		if q.Delimiter != "" {
			if i := strings.Index(key[len(q.Prefix):], q.Delimiter); i >= 0 {
				cp := key[:len(q.Prefix)+i+len(q.Delimiter)]
				if cp > q.KeyMarker {
					if n == limit {
						res.Truncated = true
						break
					}
					res.CommonPrefixes = append(res.CommonPrefixes, cp)
					lastKey, lastID = cp, ""
					n++
				}
				end := prefixEnd(appendEsc(base, cp))
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
		u := new(Upload)
		if err := decodeJSON(v, u, &u.V); err != nil {
			return nil, fmt.Errorf("upload %q %q: %w", key, id, err)
		}
		res.Uploads = append(res.Uploads, u)
		lastKey, lastID = key, id
		n++
		k, v = c.Next()
	}
	if res.Truncated {
		res.NextKeyMarker, res.NextUploadIDMarker = lastKey, lastID
	}
	return res, nil
}
