package meta

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// VersionQuery selects versions for ListObjectVersions: keys with Prefix,
// rolled up at the first Delimiter after the prefix; starting after
// KeyMarker (every version of it) or, with VersionIDMarker, after that
// version of KeyMarker; at most Max entries (versions, delete markers and
// common prefixes; 1000 if Max <= 0).
type VersionQuery struct {
	Prefix          string
	Delimiter       string
	KeyMarker       string
	VersionIDMarker string
	Max             int
}

// VersionList is one page of ListObjectVersions: versions by key, then
// newest first, each with Latest set on the current one; Chunks are left
// out.
type VersionList struct {
	Versions            []*Object
	CommonPrefixes      []string
	Truncated           bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// ListObjectVersions lists a bucket's versions with S3's rules. In a
// bucket without versioning every object is its null version.
// ErrNoSuchBucket; ErrInvalidArgument for a version ID marker that is no
// version ID.
func (s *Store) ListObjectVersions(ctx context.Context, bucket string, q VersionQuery) (*VersionList, error) {
	if q.VersionIDMarker != "" {
		if _, ok := ParseVersionID(q.VersionIDMarker); !ok {
			return nil, fmt.Errorf("list versions in %q: %w: version ID marker %q", bucket, ErrInvalidArgument, q.VersionIDMarker)
		}
	}
	var res *VersionList
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if !hasBucket(tx, bucket) {
			return ErrNoSuchBucket
		}
		var err error
		res, err = listVersions(tx.Bucket(bObjects), tx.Bucket(bVersions), bucket, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list versions in %q: %w", bucket, err)
	}
	return res, nil
}

// nextVersionedKey returns the smallest key >= from of the bucket that
// has a version, current or not.
func nextVersionedKey(objects, versions *bolt.Cursor, base []byte, from string) (string, bool) {
	var best string
	found := false
	if k, _ := objects.Seek(append(base, from...)); k != nil && bytes.HasPrefix(k, base) {
		best, found = string(k[len(base):]), true
	}
	if k, _ := versions.Seek(appendEsc(base, from)); k != nil && bytes.HasPrefix(k, base) {
		if key, _, ok := readEscT(k[len(base):]); ok && (!found || key < best) {
			best, found = key, true
		}
	}
	return best, found
}

func listVersions(objects, versions *bolt.Bucket, bucket string, q VersionQuery) (*VersionList, error) {
	limit := q.Max
	if limit <= 0 {
		limit = 1000
	}
	base := bucketPrefix(bucket)
	base = base[:len(base):len(base)]
	oc, vc := objects.Cursor(), versions.Cursor()
	res := &VersionList{}
	from := q.Prefix
	if q.KeyMarker != "" && q.KeyMarker >= from {
		from = q.KeyMarker
		if q.VersionIDMarker == "" {
			from += "\x00" // strictly after the marker
		}
	}
	n := 0
	var lastKey, lastVID string
	for {
		key, ok := nextVersionedKey(oc, vc, base, from)
		if !ok || !strings.HasPrefix(key, q.Prefix) {
			break
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
					lastKey, lastVID = cp, ""
					n++
				}
				end := prefixEnd([]byte(cp))
				if end == nil {
					break
				}
				from = string(end)
				continue
			}
		}
		vs := versionsOf{objects: objects, versions: versions, bucket: bucket, key: key, headers: true}
		var list []*Object
		cur, err := vs.current()
		if err != nil {
			return nil, err
		}
		if cur != nil {
			cur.hdr.Latest = true
			list = append(list, cur.hdr)
		}
		if err := vs.each(func(v *version) bool { list = append(list, v.hdr); return true }); err != nil {
			return nil, err
		}
		if key == q.KeyMarker && q.VersionIDMarker != "" {
			// Resume after the marker version; one that no longer
			// exists resumes at the next key.
			i := 0
			for i < len(list) && list[i].ID() != q.VersionIDMarker {
				i++
			}
			list = list[min(i+1, len(list)):]
		}
		for _, o := range list {
			if n == limit {
				res.Truncated = true
				break
			}
			res.Versions = append(res.Versions, o)
			lastKey, lastVID = key, o.ID()
			n++
		}
		if res.Truncated {
			break
		}
		from = key + "\x00"
	}
	if res.Truncated {
		res.NextKeyMarker, res.NextVersionIDMarker = lastKey, lastVID
	}
	return res, nil
}
