package meta

import (
	"context"
	"encoding/json"
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
	e.uvarint(uint64(len(tags)))
	for k, v := range tags {
		e.str(k)
		e.str(v)
	}
	return e.b, nil
}

func (w *wtx) setObjectTags(d *dec) error {
	bucket, key := d.str(), d.str()
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
