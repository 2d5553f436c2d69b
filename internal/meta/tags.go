package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// maxTags bounds the tags of one object (S3 allows 10; the gateway checks
// S3's rules, this only keeps records small).
const maxTags = 64

// SetObjectTags replaces the tags of the object at bucket/key (none: nil
// or empty), in one raft entry that leaves the rest of its manifest, and
// its chunks' references, as they are: ErrNoSuchBucket, ErrNoSuchKey.
// Tags apply to the object the key holds when the entry is applied.
func (s *Store) SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	cmd, err := setObjectTagsCmd(bucket, key, tags, s)
	if err == nil {
		err = s.propose(ctx, cmd)
	}
	if err != nil {
		return fmt.Errorf("set tags of %s/%s: %w", bucket, key, err)
	}
	return nil
}

func setObjectTagsCmd(bucket, key string, tags map[string]string, s *Store) ([]byte, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if len(tags) > maxTags {
		return nil, fmt.Errorf("%w: %d tags, at most %d", ErrInvalidArgument, len(tags), maxTags)
	}
	e := newCmd(opSetObjectTags, s.cfg.Now(), len(bucket)+len(key)+64*len(tags)+8)
	e.str(bucket)
	e.str(key)
	appendTags(e, tags)
	return e.b, nil
}

func appendTags(e *enc, tags map[string]string) {
	e.uvarint(uint64(len(tags)))
	for k, v := range tags {
		e.str(k)
		e.str(v)
	}
}

// decodeTags reads what appendTags wrote (none: nil).
func decodeTags(d *dec) map[string]string {
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	var tags map[string]string
	if d.err == nil && n > 0 {
		tags = make(map[string]string, n)
		for range n {
			k := d.str()
			tags[k] = d.str()
		}
	}
	return tags
}

func (w *wtx) setObjectTags(d *dec) error {
	bucket, key := d.str(), d.str()
	tags := decodeTags(d)
	if err := args(d); err != nil {
		return err
	}
	if w.buckets.Get([]byte(bucket)) == nil {
		return reject(ErrNoSuchBucket)
	}
	ok := objectKey(bucket, key)
	old := w.objects.Get(ok)
	if old == nil {
		return reject(ErrNoSuchKey)
	}
	m, err := retagManifest(old, tags)
	if err != nil {
		return reject(err)
	}
	return w.objects.Put(ok, m)
}

// SetVersionTags replaces the tags of one version of bucket/key (id "":
// the current one; "null": the null version), in one raft entry (op
// SetVersionTags, 65) that leaves the rest of its manifest, and its
// chunks' references, as they are, current or noncurrent. It answers the
// version's ID as S3 names it (NameVersion). Errors: ErrNoSuchBucket,
// ErrNoSuchKey (no current object: none, or a delete marker),
// ErrNoSuchVersion, ErrInvalidArgument (an ID that is no version ID),
// ErrDeleteMarker (the ID names a delete marker).
func (s *Store) SetVersionTags(ctx context.Context, bucket, key, id string, tags map[string]string) (string, error) {
	err := checkBucket(bucket)
	if err == nil {
		err = checkKey(key)
	}
	if err == nil && len(tags) > maxTags {
		err = fmt.Errorf("%w: %d tags, at most %d", ErrInvalidArgument, len(tags), maxTags)
	}
	var res any
	if err == nil {
		e := newCmd(opSetVersionTags, s.cfg.Now(), len(bucket)+len(key)+len(id)+64*len(tags)+8)
		e.str(bucket)
		e.str(key)
		e.str(id)
		appendTags(e, tags)
		res, err = s.proposeResult(ctx, e.b)
	}
	if err != nil {
		return "", fmt.Errorf("set tags of %s/%s version %q: %w", bucket, key, id, err)
	}
	vid, _ := res.(string)
	return vid, nil
}

func (w *wtx) setVersionTags(d *dec) error {
	bucket, key, id := d.str(), d.str(), d.str()
	tags := decodeTags(d)
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
	vs := w.versionsOf(bucket, key)
	var v *version
	if id == "" {
		v, err = vs.current()
	} else {
		v, err = vs.find(id)
	}
	switch {
	case errors.Is(err, ErrInvalidArgument):
		return reject(err)
	case err != nil:
		return err
	case v == nil && id == "", id == "" && v.hdr.DeleteMarker:
		return reject(ErrNoSuchKey)
	case v == nil:
		return reject(ErrNoSuchVersion)
	case v.hdr.DeleteMarker:
		return reject(fmt.Errorf("%w: %s", ErrDeleteMarker, id))
	}
	m, err := retagManifest(v.raw, tags)
	if err != nil {
		return reject(err)
	}
	dst := w.versions
	if v.current {
		dst = w.objects
	}
	if err := dst.Put(v.key, m); err != nil {
		return err
	}
	w.result = NameVersion(v.hdr, cfg)
	return nil
}

// NameVersion returns the version ID S3 answers for version o of a bucket
// configured as cfg: o's own, or for the null version "null" once the
// bucket's versioning has been enabled (Enabled or Suspended), "" while
// it never was (S3 sends no x-amz-version-id then).
func NameVersion(o *Object, cfg *BucketConfig) string {
	if o.isNull() {
		if cfg != nil && cfg.Versioning != "" {
			return NullVersion
		}
		return ""
	}
	return o.VersionID
}

// retagManifest returns manifest m with its header's tags replaced: the
// same version byte, the new JSON header, and m's chunks byte for byte.
// The header is edited as JSON, so that fields this binary does not know
// survive.
func retagManifest(m []byte, tags map[string]string) ([]byte, error) {
	h, d, _, err := splitManifest(m)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(h, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("%w: manifest header: %v", errCorrupt, err)
	}
	delete(fields, "tags")
	if len(tags) > 0 {
		t, err := json.Marshal(tags)
		if err != nil {
			return nil, err
		}
		fields["tags"] = t
	}
	nh, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	e := enc{b: make([]byte, 0, len(m)+len(nh)-len(h)+8)}
	e.b = append(e.b, m[0])
	e.bytes(nh)
	e.b = append(e.b, d.b...)
	return e.b, nil
}
