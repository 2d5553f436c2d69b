package meta

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Versions. The current version of a key (what GET without a version ID
// reads: an object or a delete marker) stays where an object always was,
// in the objects bbolt bucket, so that listings and reads of current
// objects are unchanged and data from before versioning is a bucket of
// current null versions. The noncurrent versions live in the versions
// bbolt bucket under versionKey: esc(bucket) esc(key) then ^seq (8 bytes
// BE), so a key's versions sort newest first. A version keeps its
// manifest's chunks referenced until it is deleted, so garbage
// collection, repair, scrub and seal migration, which walk the chunk
// table, treat it as live.
//
// How a write or a delete treats the versions follows S3 (the bucket's
// BucketConfig.Versioning):
//
//   - never enabled: a write replaces the null version; a delete removes it;
//   - Enabled: a write makes a new version, current, and the one it
//     replaces noncurrent; a delete without version ID makes a delete
//     marker the current version;
//   - Suspended: as never enabled, but a non-null current version becomes
//     noncurrent rather than replaced, a delete makes a null delete marker,
//     and the null version, current or not, is what a write replaces.
//
// Deleting a version by ID removes it (releasing its chunks); if it was
// current the newest noncurrent one becomes current. A version under
// retention or legal hold is not deleted (ErrObjectLocked), whichever
// command tries: the state machine checks, with the command's time.

// WriteCond is the condition a write (PutObject, CompleteUpload) must
// meet, checked atomically in the raft entry that commits it: IfNoneMatch
// (If-None-Match: *) that the key has no current object (a delete marker
// counts as none); IfMatch that the current object's ETag is this one
// (quotes aside; ErrNoSuchKey when there is no current object).
// ErrPreconditionFailed otherwise.
type WriteCond struct {
	IfNoneMatch bool   `json:"if_none_match,omitempty"`
	IfMatch     string `json:"if_match,omitempty"`
}

// NullVersion is the version ID S3 gives the null version.
const NullVersion = "null"

// FormatVersionID returns the version ID of the version with sequence seq.
func FormatVersionID(seq uint64) string { return fmt.Sprintf("%016x", seq) }

// ParseVersionID returns the sequence of a version ID, with ok false for
// a string that is neither "null" (seq 0) nor a version ID.
func ParseVersionID(id string) (seq uint64, ok bool) {
	if id == NullVersion {
		return 0, true
	}
	if len(id) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(id, 16, 64)
	if err != nil || v == 0 || FormatVersionID(v) != id {
		return 0, false
	}
	return v, true
}

// ID returns the version's S3 version ID: VersionID, or "null".
func (o *Object) ID() string {
	if o.isNull() {
		return NullVersion
	}
	return o.VersionID
}

// isNull reports whether o is the null version: VersionID "" (written
// while the bucket's versioning was never enabled) or "null" (written
// while it was suspended, so that S3's answers name it).
func (o *Object) isNull() bool { return o.VersionID == "" || o.VersionID == NullVersion }

func keyVersionsPrefix(bucket, key string) []byte {
	return appendEscT(bucketPrefix(bucket), key)
}

func versionKey(bucket, key string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(keyVersionsPrefix(bucket, key), ^seq)
}

// checkCond checks c against the key's current version (nil: none).
func checkCond(c *WriteCond, cur *Object) error {
	if c == nil {
		return nil
	}
	live := cur != nil && !cur.DeleteMarker
	if c.IfNoneMatch && live {
		return fmt.Errorf("%w: If-None-Match: the key has an object", ErrPreconditionFailed)
	}
	if c.IfMatch != "" {
		if !live {
			return fmt.Errorf("%w: If-Match: the key has no object", ErrNoSuchKey)
		}
		if trimQuotes(c.IfMatch) != trimQuotes(cur.ETag) && c.IfMatch != "*" {
			return fmt.Errorf("%w: If-Match: the object's ETag is %s", ErrPreconditionFailed, cur.ETag)
		}
	}
	return nil
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func appendCond(e *enc, c *WriteCond) {
	if c == nil {
		return
	}
	var flags uint64
	if c.IfNoneMatch {
		flags |= 1
	}
	if c.IfMatch != "" {
		flags |= 2
	}
	e.uvarint(flags)
	e.str(c.IfMatch)
}

// optCond reads the optional condition appendCond wrote.
func optCond(d *dec) *WriteCond {
	if d.err != nil || len(d.b) == 0 {
		return nil
	}
	flags := d.uvarint()
	m := d.str()
	c := &WriteCond{IfNoneMatch: flags&1 != 0}
	if flags&2 != 0 {
		c.IfMatch = m
	}
	return c
}

// version is one stored version of a key: its header and where it is.
type version struct {
	hdr     *Object
	raw     []byte // its manifest (a copy)
	key     []byte // its bbolt key
	current bool   // in objects (else in versions)
}

// versionsOf reads versions of one key; it works on a read transaction
// as on a write one.
type versionsOf struct {
	objects, versions *bolt.Bucket
	bucket, key       string
	// headers: read only the versions' headers (version.raw stays nil),
	// for a listing.
	headers bool
}

// keep returns the copy of a manifest that a version holds.
func (v versionsOf) keep(raw []byte) []byte {
	if v.headers {
		return nil
	}
	return bytes.Clone(raw)
}

func (v versionsOf) current() (*version, error) {
	ok := objectKey(v.bucket, v.key)
	raw := v.objects.Get(ok)
	if raw == nil {
		return nil, nil
	}
	hdr, err := decodeObject(raw, false)
	if err != nil {
		return nil, fmt.Errorf("object %q: %w", v.key, err)
	}
	return &version{hdr: hdr, raw: v.keep(raw), key: ok, current: true}, nil
}

// each calls fn with the key's noncurrent versions, newest first, until
// fn returns false.
func (v versionsOf) each(fn func(*version) bool) error {
	p := keyVersionsPrefix(v.bucket, v.key)
	c := v.versions.Cursor()
	for k, raw := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, raw = c.Next() {
		hdr, err := decodeObject(raw, false)
		if err != nil {
			return fmt.Errorf("version of %q: %w", v.key, err)
		}
		if !fn(&version{hdr: hdr, raw: v.keep(raw), key: bytes.Clone(k)}) {
			return nil
		}
	}
	return nil
}

// find returns the version with ID id ("null" for the null version), nil
// if there is none; ErrInvalidArgument for an ID that is no version ID.
func (v versionsOf) find(id string) (*version, error) {
	seq, ok := ParseVersionID(id)
	if !ok {
		return nil, fmt.Errorf("%w: version ID %q", ErrInvalidArgument, id)
	}
	cur, err := v.current()
	if err != nil || (cur != nil && cur.hdr.ID() == id) {
		return cur, err
	}
	if id != NullVersion {
		k := versionKey(v.bucket, v.key, seq)
		raw := v.versions.Get(k)
		if raw == nil {
			return nil, nil
		}
		hdr, err := decodeObject(raw, false)
		if err != nil {
			return nil, fmt.Errorf("version %s of %q: %w", id, v.key, err)
		}
		if hdr.VersionID != id {
			return nil, nil
		}
		return &version{hdr: hdr, raw: v.keep(raw), key: k}, nil
	}
	var found *version
	err = v.each(func(ver *version) bool {
		if ver.hdr.isNull() {
			found = ver
			return false
		}
		return true
	})
	return found, err
}

func (w *wtx) versionsOf(bucket, key string) versionsOf {
	return versionsOf{objects: w.objects, versions: w.versions, bucket: bucket, key: key}
}

// seq is the sequence of the pos-th version the command being applied
// writes (pos from 1; 0 is for a version of before versioning made
// noncurrent).
func (w *wtx) seq(pos int) uint64 { return w.index<<16 | uint64(pos&0xFFFF) }

// demote makes the current version cur noncurrent.
func (w *wtx) demote(cur *version) error {
	seq := cur.hdr.Seq
	if seq == 0 { // written before versioning: older than anything now
		seq = w.seq(0)
	}
	if err := w.versions.Put(versionKey(cur.hdr.Bucket, cur.hdr.Key, seq), cur.raw); err != nil {
		return err
	}
	return w.objects.Delete(cur.key)
}

// drop deletes a version, releasing its chunks; if it was current, the
// newest noncurrent version becomes current. The caller has checked its
// lock.
func (w *wtx) drop(v *version, bucket, key string) error {
	chunks, err := decodeManifestChunks(v.raw)
	if err != nil {
		return fmt.Errorf("version being deleted: %w", err)
	}
	if err := w.releaseRefs(chunks); err != nil {
		return err
	}
	if !v.current {
		return w.versions.Delete(v.key)
	}
	if err := w.objects.Delete(v.key); err != nil {
		return err
	}
	var next *version
	if err := w.versionsOf(bucket, key).each(func(n *version) bool { next = n; return false }); err != nil {
		return err
	}
	if next == nil {
		return nil
	}
	if err := w.versions.Delete(next.key); err != nil {
		return err
	}
	return w.objects.Put(v.key, next.raw)
}

// replaced returns what a new null version of the key replaces besides
// the current version: the noncurrent null version, when versioning is
// suspended and the current version is not null (nil: nothing).
func (w *wtx) nullReplaced(vs versionsOf, cur *version) (*version, error) {
	if cur == nil || cur.hdr.isNull() {
		return nil, nil
	}
	var null *version
	err := vs.each(func(v *version) bool {
		if v.hdr.isNull() {
			null = v
			return false
		}
		return true
	})
	return null, err
}

// putVersion makes manifest m (whose chunks are chunks) the current
// version of bucket/key under the bucket's versioning, if cond holds, and
// answers its version ID (w.result). The lock a version names is checked
// against the bucket's, and the bucket's default retention applied.
func (w *wtx) putVersion(bucket, key string, m []byte, chunks []Chunk, cond *WriteCond, pos int) error {
	cfg, err := readBucketConfig(w.bconfig, bucket)
	if err != nil {
		return err
	}
	hdr, err := decodeObject(m, false)
	if err != nil {
		return reject(err)
	}
	vs := w.versionsOf(bucket, key)
	cur, err := vs.current()
	if err != nil {
		return err
	}
	if err := checkCond(cond, curHdr(cur)); err != nil {
		return reject(err)
	}
	if err := w.applyLockDefaults(cfg, hdr); err != nil {
		return reject(err)
	}
	versioned := cfg.Versioning == VersioningEnabled
	// Everything that can refuse the write, before anything changes.
	var null *version
	if !versioned {
		if cur != nil && cur.hdr.isNull() {
			if err := lockRefusal(cur.hdr, w.now, false); err != nil {
				return reject(err)
			}
		}
		if null, err = w.nullReplaced(vs, cur); err != nil {
			return err
		}
		if null != nil {
			if err := lockRefusal(null.hdr, w.now, false); err != nil {
				return reject(err)
			}
		}
	}
	if err := w.checkReferable(chunks); err != nil {
		return err
	}

	seq := w.seq(pos)
	hdr.Bucket, hdr.Key, hdr.Seq, hdr.DeleteMarker = bucket, key, seq, false
	hdr.HoldSet = hdr.LegalHold
	hdr.VersionID = ""
	switch {
	case versioned:
		hdr.VersionID = FormatVersionID(seq)
	case cfg.Versioning != "":
		hdr.VersionID = NullVersion
	}
	hdr.Chunks = chunks
	nm, err := encodeObject(hdr)
	if err != nil {
		return reject(err)
	}
	if err := w.addRefs(chunks); err != nil {
		return err
	}
	if err := w.retire(cur, null, versioned, bucket, key); err != nil {
		return err
	}
	if err := w.objects.Put(objectKey(bucket, key), nm); err != nil {
		return err
	}
	w.result = hdr.VersionID
	return nil
}

func curHdr(cur *version) *Object {
	if cur == nil {
		return nil
	}
	return cur.hdr
}

// retire makes room for a new current version: the current one becomes
// noncurrent, or, when the new one is null (versioned false) and so is
// the current one, goes; a noncurrent null version the new one replaces
// goes too.
func (w *wtx) retire(cur, null *version, versioned bool, bucket, key string) error {
	if null != nil {
		if err := w.drop(null, bucket, key); err != nil {
			return err
		}
	}
	if cur == nil {
		return nil
	}
	if versioned || !cur.hdr.isNull() {
		return w.demote(cur)
	}
	chunks, err := decodeManifestChunks(cur.raw)
	if err != nil {
		return fmt.Errorf("object being replaced: %w", err)
	}
	if err := w.releaseRefs(chunks); err != nil {
		return err
	}
	return w.objects.Delete(cur.key)
}

// applyLockDefaults checks the lock that hdr names against the bucket's
// configuration, or gives hdr the bucket's default retention.
func (w *wtx) applyLockDefaults(cfg *BucketConfig, hdr *Object) error {
	named := hdr.LockMode != "" || !hdr.RetainUntil.IsZero()
	if (named || hdr.LegalHold) && cfg.ObjectLock == nil {
		return ErrLockNotEnabled
	}
	if named {
		return checkRetention(hdr.LockMode, hdr.RetainUntil, w.now)
	}
	if cfg.ObjectLock != nil && cfg.ObjectLock.DefaultMode != "" {
		hdr.LockMode = cfg.ObjectLock.DefaultMode
		hdr.RetainUntil = cfg.ObjectLock.defaultUntil(w.now).UTC()
	}
	return nil
}

// DeleteTarget is one version (or, without VersionID, the current
// object) that DeleteVersions deletes.
type DeleteTarget struct {
	Key string `json:"key"`
	// VersionID names the version to delete: a version ID or "null";
	// "" deletes the key as S3's DELETE without versionId does.
	VersionID string `json:"vid,omitempty"`
	// IfStamp makes the delete conditional on the version it acts on
	// (the current one, or the one VersionID names) being still the one
	// with this Stamp: else its outcome is ErrPreconditionFailed. A
	// background deleter (lifecycle) sets it, so that what it decided on
	// a listing does not hit a version written since.
	IfStamp *Stamp `json:"if_stamp,omitempty"`
}

// Stamp tells one version of a key from any other: its Seq (0 for a
// version of before versioning) and when it was written.
type Stamp struct {
	Seq      uint64    `json:"seq"`
	Modified time.Time `json:"modified"`
}

// StampOf returns o's Stamp.
func StampOf(o *Object) *Stamp { return &Stamp{Seq: o.Seq, Modified: o.Modified} }

func (st *Stamp) matches(o *Object) bool {
	return st == nil || (o != nil && o.Seq == st.Seq && o.Modified.Equal(st.Modified))
}

// DeleteOutcome is what DeleteVersions did for one target: the version
// deleted or the delete marker made (VersionID, "" when a key of a
// bucket without versioning was deleted), or why nothing was (Err:
// ErrObjectLocked, ErrInvalidArgument).
type DeleteOutcome struct {
	VersionID    string
	DeleteMarker bool
	Err          error
}

// DeleteVersions deletes, in one raft entry, each target as S3 does (see
// versions.go): ErrNoSuchBucket for the whole call; per target, the
// outcome. bypass lets a GOVERNANCE retention give way. A target that
// names no version is deleted already (no error), as S3 answers it.
func (s *Store) DeleteVersions(ctx context.Context, bucket string, targets []DeleteTarget, bypass bool) ([]DeleteOutcome, error) {
	if err := checkBucket(bucket); err != nil {
		return nil, fmt.Errorf("delete in %q: %w", bucket, err)
	}
	if len(targets) > maxDeleteBatch {
		return nil, fmt.Errorf("delete in %q: %w: more than %d keys", bucket, ErrInvalidArgument, maxDeleteBatch)
	}
	size := len(bucket) + 8
	for _, t := range targets {
		if err := checkKey(t.Key); err != nil {
			return nil, fmt.Errorf("delete in %q: %w", bucket, err)
		}
		size += len(t.Key) + len(t.VersionID) + 4
	}
	e := newCmd(opDeleteVersions, s.cfg.Now(), size)
	e.str(bucket)
	e.uvarint(boolU(bypass))
	e.uvarint(uint64(len(targets)))
	for _, t := range targets {
		e.str(t.Key)
		e.str(t.VersionID)
		if t.IfStamp == nil {
			e.uvarint(0)
			continue
		}
		e.uvarint(1)
		e.uvarint(t.IfStamp.Seq)
		e.uvarint(uint64(unixNano(t.IfStamp.Modified)))
	}
	res, err := s.proposeResult(ctx, e.b)
	if err != nil {
		return nil, fmt.Errorf("delete in %q: %w", bucket, err)
	}
	out, ok := res.([]DeleteOutcome)
	if !ok || len(out) != len(targets) {
		return nil, fmt.Errorf("delete in %q: the state machine answered %T", bucket, res)
	}
	return out, nil
}

func boolU(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (w *wtx) deleteVersions(d *dec) error {
	bucket := d.str()
	bypass := d.uvarint() == 1
	n := d.int()
	if d.err == nil && n > len(d.b) {
		d.err = errCorrupt
	}
	targets := make([]DeleteTarget, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		t := DeleteTarget{Key: d.str(), VersionID: d.str()}
		if d.uvarint() == 1 {
			t.IfStamp = &Stamp{Seq: d.uvarint(), Modified: time.Unix(0, int64(d.uvarint())).UTC()}
		}
		targets = append(targets, t)
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
	out := make([]DeleteOutcome, len(targets))
	for i, t := range targets {
		var err error
		if t.VersionID == "" {
			out[i], err = w.deleteCurrent(cfg, bucket, t.Key, i+1, t.IfStamp)
		} else {
			out[i], err = w.deleteVersion(bucket, t.Key, t.VersionID, bypass, t.IfStamp)
		}
		var rej rejected
		switch {
		case errors.As(err, &rej):
			out[i] = DeleteOutcome{VersionID: t.VersionID, Err: rej.err}
		case err != nil:
			return err
		}
	}
	w.result = out
	return nil
}

// deleteCurrent deletes bucket/key as a DELETE without version ID does,
// making a delete marker in a versioning bucket. A refusal is rejected
// and changes nothing.
func (w *wtx) deleteCurrent(cfg *BucketConfig, bucket, key string, pos int, stamp *Stamp) (DeleteOutcome, error) {
	vs := w.versionsOf(bucket, key)
	cur, err := vs.current()
	if err != nil {
		return DeleteOutcome{}, err
	}
	if !stamp.matches(curHdr(cur)) {
		return DeleteOutcome{}, reject(fmt.Errorf("%w: the current version changed", ErrPreconditionFailed))
	}
	if cfg.Versioning == "" {
		if cur == nil {
			return DeleteOutcome{}, nil
		}
		if err := lockRefusal(cur.hdr, w.now, false); err != nil {
			return DeleteOutcome{}, reject(err)
		}
		return DeleteOutcome{}, w.retire(cur, nil, false, bucket, key)
	}
	versioned := cfg.Versioning == VersioningEnabled
	var null *version
	if !versioned {
		if cur != nil && cur.hdr.isNull() {
			if err := lockRefusal(cur.hdr, w.now, false); err != nil {
				return DeleteOutcome{}, reject(err)
			}
		}
		if null, err = w.nullReplaced(vs, cur); err != nil {
			return DeleteOutcome{}, err
		}
		if null != nil {
			if err := lockRefusal(null.hdr, w.now, false); err != nil {
				return DeleteOutcome{}, reject(err)
			}
		}
	}
	seq := w.seq(pos)
	dm := &Object{V: FormatVersion, Bucket: bucket, Key: key, Modified: w.now, Seq: seq, DeleteMarker: true, VersionID: NullVersion}
	if versioned {
		dm.VersionID = FormatVersionID(seq)
	}
	m, err := encodeObject(dm)
	if err != nil {
		return DeleteOutcome{}, err
	}
	if err := w.retire(cur, null, versioned, bucket, key); err != nil {
		return DeleteOutcome{}, err
	}
	if err := w.objects.Put(objectKey(bucket, key), m); err != nil {
		return DeleteOutcome{}, err
	}
	return DeleteOutcome{VersionID: dm.ID(), DeleteMarker: true}, nil
}

// deleteVersion deletes one version by ID.
func (w *wtx) deleteVersion(bucket, key, id string, bypass bool, stamp *Stamp) (DeleteOutcome, error) {
	v, err := w.versionsOf(bucket, key).find(id)
	switch {
	case errors.Is(err, ErrInvalidArgument):
		return DeleteOutcome{}, reject(err)
	case err != nil:
		return DeleteOutcome{}, err
	case stamp != nil && (v == nil || !stamp.matches(v.hdr)):
		return DeleteOutcome{}, reject(fmt.Errorf("%w: version %s changed", ErrPreconditionFailed, id))
	case v == nil:
		return DeleteOutcome{VersionID: id}, nil
	}
	if err := lockRefusal(v.hdr, w.now, bypass); err != nil {
		return DeleteOutcome{}, reject(err)
	}
	if err := w.drop(v, bucket, key); err != nil {
		return DeleteOutcome{}, err
	}
	return DeleteOutcome{VersionID: id, DeleteMarker: v.hdr.DeleteMarker}, nil
}

// GetObjectVersion returns a version's whole manifest: with id "" the
// current version, which may be a delete marker (DeleteMarker); else the
// version with that ID ("null" for the null version). Its VersionID is
// the one S3 answers (NameVersion: "null" for the null version once the
// bucket's versioning was ever set, "" before). ErrNoSuchBucket,
// ErrNoSuchKey (no current version), ErrNoSuchVersion, ErrInvalidArgument
// (an ID that is no version ID).
func (s *Store) GetObjectVersion(ctx context.Context, bucket, key, id string) (*Object, error) {
	var obj *Object
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if !hasBucket(tx, bucket) {
			return ErrNoSuchBucket
		}
		vs := versionsOf{objects: tx.Bucket(bObjects), versions: tx.Bucket(bVersions), bucket: bucket, key: key}
		var v *version
		var err error
		if id == "" {
			v, err = vs.current()
		} else {
			v, err = vs.find(id)
		}
		switch {
		case err != nil:
			return err
		case v == nil && id == "":
			return ErrNoSuchKey
		case v == nil:
			return ErrNoSuchVersion
		}
		if obj, err = decodeObject(v.raw, true); err != nil {
			return err
		}
		obj.Latest = v.current
		cfg, err := readBucketConfig(tx.Bucket(bBucketConfig), bucket)
		if err != nil {
			return err
		}
		obj.VersionID = NameVersion(obj, cfg)
		return resolveStripes(tx, obj.Chunks)
	})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s version %q: %w", bucket, key, id, err)
	}
	return obj, nil
}

// hasVersions reports whether a bucket holds any noncurrent version.
func hasVersions(versions *bolt.Bucket, bucket string) bool {
	base := bucketPrefix(bucket)
	k, _ := versions.Cursor().Seek(base)
	return k != nil && bytes.HasPrefix(k, base)
}

// isDeleteMarker reports whether manifest v is a delete marker's, by its
// JSON header alone.
func isDeleteMarker(v []byte) bool {
	h, _, _, err := splitManifest(v)
	return err == nil && bytes.Contains(h, []byte(`"dm":true`))
}
