package meta

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func versionIDs(t *testing.T, s *Store, bucket string, q VersionQuery) []string {
	t.Helper()
	l, err := s.ListObjectVersions(bg, bucket, q)
	must(t, err)
	var out []string
	for _, v := range l.Versions {
		tag := ""
		if v.DeleteMarker {
			tag = "(dm)"
		}
		if v.Latest {
			tag += "*"
		}
		out = append(out, v.Key+"@"+v.ID()+tag)
	}
	return out
}

func wantList(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
}

func setVersioning(t *testing.T, s *Store, bucket, state string) {
	t.Helper()
	must(t, s.SetBucketConfig(bg, bucket, ConfigVersioning, &BucketConfig{Versioning: state}))
}

// TestVersioning walks a key through S3's versioning states: the null
// version of an unversioned bucket, versions under Enabled, delete
// markers, deletes by version ID, the null version under Suspended; every
// version keeps its chunks referenced until it is deleted.
func TestVersioning(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	r := refState{t, s, clock}
	must(t, s.CreateBucket(bg, "b", clock.now()))

	cfg, err := s.GetBucketConfig(bg, "b")
	must(t, err)
	if cfg.Versioning != "" || cfg.ObjectLock != nil {
		t.Fatalf("new bucket config %+v", cfg)
	}
	o := object("b", "k", "c0")
	must(t, s.PutObject(bg, o))
	if o.VersionID != "" {
		t.Fatalf("unversioned put answered version %q", o.VersionID)
	}
	wantList(t, versionIDs(t, s, "b", VersionQuery{}), "k@null*")

	setVersioning(t, s, "b", VersioningEnabled)
	o1 := object("b", "k", "c1")
	must(t, s.PutObject(bg, o1))
	o2 := object("b", "k", "c2")
	must(t, s.PutObject(bg, o2))
	if o1.VersionID == "" || o2.VersionID == "" || o1.VersionID == o2.VersionID {
		t.Fatalf("version IDs %q %q", o1.VersionID, o2.VersionID)
	}
	wantList(t, versionIDs(t, s, "b", VersionQuery{}), "k@"+o2.VersionID+"*", "k@"+o1.VersionID, "k@null")
	r.want(map[string]int64{"c0": 1, "c1": 1, "c2": 1}, nil)
	for _, v := range []*Object{o, o1, o2} {
		got, err := s.GetObjectVersion(bg, "b", "k", v.ID())
		must(t, err)
		if string(got.Chunks[0].CID) != string(v.Chunks[0].CID) {
			t.Fatalf("version %s has chunk %x", v.ID(), got.Chunks[0].CID)
		}
	}
	_, err = s.GetObjectVersion(bg, "b", "k", FormatVersionID(12345))
	wantErr(t, err, ErrNoSuchVersion)
	_, err = s.GetObjectVersion(bg, "b", "k", "bogus")
	wantErr(t, err, ErrInvalidArgument)

	// A delete makes a delete marker: no current object, nothing listed.
	out, err := s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k"}}, false)
	must(t, err)
	dm := out[0]
	if !dm.DeleteMarker || dm.VersionID == "" || dm.Err != nil {
		t.Fatalf("delete outcome %+v", dm)
	}
	_, err = s.GetObject(bg, "b", "k")
	wantErr(t, err, ErrNoSuchKey)
	cur, err := s.GetObjectVersion(bg, "b", "k", "")
	must(t, err)
	if !cur.DeleteMarker || cur.ID() != dm.VersionID {
		t.Fatalf("current version %+v", cur)
	}
	l, err := s.ListObjects(bg, "b", ListQuery{})
	must(t, err)
	if len(l.Objects) != 0 || l.Truncated {
		t.Fatalf("listing shows %d objects under a delete marker", len(l.Objects))
	}
	wantErr(t, s.DeleteBucket(bg, "b"), ErrBucketNotEmpty)
	r.want(map[string]int64{"c0": 1, "c1": 1, "c2": 1}, nil)

	// Deleting the marker by ID brings o2 back.
	out, err = s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k", VersionID: dm.VersionID}}, false)
	must(t, err)
	if !out[0].DeleteMarker || out[0].VersionID != dm.VersionID {
		t.Fatalf("delete marker delete %+v", out[0])
	}
	got, err := s.GetObject(bg, "b", "k")
	must(t, err)
	if got.VersionID != o2.VersionID {
		t.Fatalf("current %q after the marker went, want %q", got.VersionID, o2.VersionID)
	}

	// Deleting a version releases its chunks.
	clock.add(time.Minute)
	t1 := clock.now()
	_, err = s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k", VersionID: o1.VersionID}}, false)
	must(t, err)
	r.want(map[string]int64{"c0": 1, "c1": 0, "c2": 1}, map[string]time.Time{"c1": t1})
	wantList(t, versionIDs(t, s, "b", VersionQuery{}), "k@"+o2.VersionID+"*", "k@null")

	// Suspended: a put replaces the null version (current or not) and
	// keeps the others.
	setVersioning(t, s, "b", VersioningSuspended)
	clock.add(time.Minute)
	t2 := clock.now()
	o3 := object("b", "k", "c3")
	must(t, s.PutObject(bg, o3))
	if o3.VersionID != NullVersion {
		t.Fatalf("suspended put answered %q", o3.VersionID)
	}
	wantList(t, versionIDs(t, s, "b", VersionQuery{}), "k@null*", "k@"+o2.VersionID)
	r.want(map[string]int64{"c0": 0, "c2": 1, "c3": 1}, map[string]time.Time{"c1": t1, "c0": t2})
	out, err = s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k"}}, false)
	must(t, err)
	if out[0].VersionID != NullVersion || !out[0].DeleteMarker {
		t.Fatalf("suspended delete %+v", out[0])
	}
	wantList(t, versionIDs(t, s, "b", VersionQuery{}), "k@null(dm)*", "k@"+o2.VersionID)
	checkRefsConsistent(t, s)

	// Everything deleted by version: the bucket is empty.
	for _, id := range []string{NullVersion, o2.VersionID} {
		_, err = s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k", VersionID: id}}, false)
		must(t, err)
	}
	wantList(t, versionIDs(t, s, "b", VersionQuery{}))
	checkRefsConsistent(t, s)
	n.restart()
	waitLeader(t, n.s)
	must(t, n.s.DeleteBucket(bg, "b"))
}

// TestListObjectVersionsPages lists versions of several keys page by page
// with the markers of each page, and with a delimiter.
func TestListObjectVersionsPages(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	setVersioning(t, s, "b", VersioningEnabled)
	var all []string
	for _, k := range []string{"a", "d/1", "d/2", "e"} {
		var ids []string
		for i := 0; i < 3; i++ {
			o := object("b", k, fmt.Sprint(k, i))
			must(t, s.PutObject(bg, o))
			ids = append([]string{o.VersionID}, ids...)
		}
		for i, id := range ids {
			tag := ""
			if i == 0 {
				tag = "*"
			}
			all = append(all, k+"@"+id+tag)
		}
	}
	wantList(t, versionIDs(t, s, "b", VersionQuery{}), all...)
	for _, size := range []int{1, 2, 4, 5, 12} {
		var got []string
		q := VersionQuery{Max: size}
		for pages := 0; ; pages++ {
			l, err := s.ListObjectVersions(bg, "b", q)
			must(t, err)
			for _, v := range l.Versions {
				tag := ""
				if v.Latest {
					tag = "*"
				}
				got = append(got, v.Key+"@"+v.ID()+tag)
			}
			if !l.Truncated {
				break
			}
			if pages > 20 || l.NextKeyMarker == "" || l.NextVersionIDMarker == "" {
				t.Fatalf("page size %d: markers %q %q", size, l.NextKeyMarker, l.NextVersionIDMarker)
			}
			q.KeyMarker, q.VersionIDMarker = l.NextKeyMarker, l.NextVersionIDMarker
		}
		wantList(t, got, all...)
	}
	l, err := s.ListObjectVersions(bg, "b", VersionQuery{Delimiter: "/"})
	must(t, err)
	if fmt.Sprint(l.CommonPrefixes) != "[d/]" || len(l.Versions) != 6 {
		t.Fatalf("with delimiter: prefixes %v, %d versions", l.CommonPrefixes, len(l.Versions))
	}
	l, err = s.ListObjectVersions(bg, "b", VersionQuery{KeyMarker: "d/1", Prefix: "d/"})
	must(t, err)
	if len(l.Versions) != 3 || l.Versions[0].Key != "d/2" {
		t.Fatalf("after key marker d/1: %d versions", len(l.Versions))
	}
	_, err = s.ListObjectVersions(bg, "b", VersionQuery{KeyMarker: "a", VersionIDMarker: "zz"})
	wantErr(t, err, ErrInvalidArgument)
}

// TestWriteConditions: If-None-Match: * and If-Match are decided in the
// raft entry.
func TestWriteConditions(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	o := object("b", "k", "c1")
	o.Cond = &WriteCond{IfMatch: "abc"}
	wantErr(t, s.PutObject(bg, o), ErrNoSuchKey)
	o.Cond = &WriteCond{IfNoneMatch: true}
	must(t, s.PutObject(bg, o))
	o2 := object("b", "k", "c2")
	o2.Cond = &WriteCond{IfNoneMatch: true}
	wantErr(t, s.PutObject(bg, o2), ErrPreconditionFailed)
	o2.Cond = &WriteCond{IfMatch: `"nope"`}
	wantErr(t, s.PutObject(bg, o2), ErrPreconditionFailed)
	o2.Cond = &WriteCond{IfMatch: `"` + o.ETag + `"`}
	o2.ETag = "0123"
	must(t, s.PutObject(bg, o2))
	got, err := s.GetObject(bg, "b", "k")
	must(t, err)
	if got.ETag != "0123" || got.Cond != nil {
		t.Fatalf("stored %q cond %v", got.ETag, got.Cond)
	}
	// A delete marker counts as no object.
	setVersioning(t, s, "b", VersioningEnabled)
	_, err = s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k"}}, false)
	must(t, err)
	o3 := object("b", "k", "c3")
	o3.Cond = &WriteCond{IfNoneMatch: true}
	must(t, s.PutObject(bg, o3))
	checkRefsConsistent(t, s)
}

// TestObjectLock: a COMPLIANCE version survives every delete and every
// attempt to shorten it until its date; GOVERNANCE gives way to bypass;
// legal holds; the bucket's rules.
func TestObjectLock(t *testing.T) {
	clock := newTestClock()
	n := newDev(t, func(c *Config) { c.Now = clock.now })
	s := n.s
	must(t, s.CreateBucket(bg, "plain", clock.now()))
	o := object("plain", "k", "c0")
	o.LockMode, o.RetainUntil = LockCompliance, clock.now().Add(time.Hour)
	wantErr(t, s.PutObject(bg, o), ErrLockNotEnabled)
	wantErr(t, s.SetBucketConfig(bg, "plain", ConfigObjectLock, &BucketConfig{ObjectLock: &ObjectLockConfig{}}), ErrLockNotEnabled)

	must(t, s.CreateBucketConfigured(bg, "lk", clock.now(), &BucketConfig{ObjectLock: &ObjectLockConfig{}}))
	cfg, err := s.GetBucketConfig(bg, "lk")
	must(t, err)
	if cfg.Versioning != VersioningEnabled || cfg.ObjectLock == nil {
		t.Fatalf("lock bucket config %+v", cfg)
	}
	wantErr(t, s.SetBucketConfig(bg, "lk", ConfigVersioning, &BucketConfig{Versioning: VersioningSuspended}), ErrInvalidBucketState)

	until := clock.now().Add(time.Hour)
	c := object("lk", "k", "c1")
	c.LockMode, c.RetainUntil = LockCompliance, until
	must(t, s.PutObject(bg, c))
	for _, bypass := range []bool{false, true} {
		out, err := s.DeleteVersions(bg, "lk", []DeleteTarget{{Key: "k", VersionID: c.VersionID}}, bypass)
		must(t, err)
		wantErr(t, out[0].Err, ErrObjectLocked)
	}
	_, err = s.SetObjectLock(bg, "lk", "k", c.VersionID, LockChange{Retention: true, Mode: LockCompliance, RetainUntil: until.Add(-time.Minute), Bypass: true})
	wantErr(t, err, ErrObjectLocked)
	_, err = s.SetObjectLock(bg, "lk", "k", c.VersionID, LockChange{Retention: true, Mode: LockGovernance, RetainUntil: until.Add(time.Hour), Bypass: true})
	wantErr(t, err, ErrObjectLocked)
	_, err = s.SetObjectLock(bg, "lk", "k", c.VersionID, LockChange{Retention: true, Bypass: true})
	wantErr(t, err, ErrObjectLocked)
	// Extending is allowed.
	until = until.Add(time.Hour)
	_, err = s.SetObjectLock(bg, "lk", "k", c.VersionID, LockChange{Retention: true, Mode: LockCompliance, RetainUntil: until})
	must(t, err)
	// A delete without version ID only adds a marker.
	out, err := s.DeleteVersions(bg, "lk", []DeleteTarget{{Key: "k"}}, true)
	must(t, err)
	if !out[0].DeleteMarker || out[0].Err != nil {
		t.Fatalf("delete of a locked key: %+v", out[0])
	}
	must(t, s.DeleteObjects(bg, "lk", []string{"k"}))
	wantErr(t, s.DeleteBucket(bg, "lk"), ErrBucketNotEmpty)
	if _, err := s.GetObjectVersion(bg, "lk", "k", c.VersionID); err != nil {
		t.Fatalf("locked version gone: %v", err)
	}

	// GOVERNANCE: bypass shortens and deletes.
	g := object("lk", "g", "c2")
	g.LockMode, g.RetainUntil = LockGovernance, clock.now().Add(time.Hour)
	must(t, s.PutObject(bg, g))
	out, err = s.DeleteVersions(bg, "lk", []DeleteTarget{{Key: "g", VersionID: g.VersionID}}, false)
	must(t, err)
	wantErr(t, out[0].Err, ErrObjectLocked)
	_, err = s.SetObjectLock(bg, "lk", "g", g.VersionID, LockChange{Retention: true})
	wantErr(t, err, ErrObjectLocked)
	_, err = s.SetObjectLock(bg, "lk", "g", g.VersionID, LockChange{Hold: true, LegalHold: true})
	must(t, err)
	out, err = s.DeleteVersions(bg, "lk", []DeleteTarget{{Key: "g", VersionID: g.VersionID}}, true)
	must(t, err)
	wantErr(t, out[0].Err, ErrObjectLocked) // the legal hold
	_, err = s.SetObjectLock(bg, "lk", "g", g.VersionID, LockChange{Hold: true, LegalHold: false})
	must(t, err)
	out, err = s.DeleteVersions(bg, "lk", []DeleteTarget{{Key: "g", VersionID: g.VersionID}}, true)
	must(t, err)
	if out[0].Err != nil {
		t.Fatalf("governance delete with bypass: %v", out[0].Err)
	}

	// Default retention.
	must(t, s.SetBucketConfig(bg, "lk", ConfigObjectLock, &BucketConfig{ObjectLock: &ObjectLockConfig{DefaultMode: LockCompliance, DefaultDays: 1}}))
	d := object("lk", "d", "c3")
	must(t, s.PutObject(bg, d))
	got, err := s.GetObjectVersion(bg, "lk", "d", d.VersionID)
	must(t, err)
	if got.LockMode != LockCompliance || !got.RetainUntil.Equal(clock.now().AddDate(0, 0, 1)) {
		t.Fatalf("default retention: %s until %s", got.LockMode, got.RetainUntil)
	}

	// Past its date, the compliance version goes.
	clock.add(3 * time.Hour)
	out, err = s.DeleteVersions(bg, "lk", []DeleteTarget{{Key: "k", VersionID: c.VersionID}}, false)
	must(t, err)
	if out[0].Err != nil {
		t.Fatalf("delete after retention: %v", out[0].Err)
	}
	checkRefsConsistent(t, s)
}

// TestStateWithoutVersions: a state machine file from before versioning
// (no bucket-config, no versions bucket) opens, its objects read as
// current null versions, and versioning then works on them.
func TestStateWithoutVersions(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "old", time.Now()))
	o := object("old", "k", "c1")
	must(t, s.PutObject(bg, o))
	n.close()
	// Take the file back to before versioning: no such buckets, and a
	// manifest without a sequence.
	db, err := openBolt(filepath.Join(n.cfg.Dir, "fsm.db"))
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bBucketConfig, bVersions} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		legacy := *o
		legacy.V, legacy.VersionID = FormatVersion, ""
		m, err := encodeObject(&legacy)
		if err != nil {
			return err
		}
		return tx.Bucket(bObjects).Put(objectKey("old", "k"), m)
	}))
	must(t, db.Close())
	n.open()
	waitLeader(t, n.s)
	s = n.s
	cfg, err := s.GetBucketConfig(bg, "old")
	must(t, err)
	if cfg.Versioning != "" || cfg.ObjectLock != nil {
		t.Fatalf("config of an old bucket %+v", cfg)
	}
	wantList(t, versionIDs(t, s, "old", VersionQuery{}), "k@null*")
	setVersioning(t, s, "old", VersioningEnabled)
	o2 := object("old", "k", "c2")
	must(t, s.PutObject(bg, o2))
	wantList(t, versionIDs(t, s, "old", VersionQuery{}), "k@"+o2.VersionID+"*", "k@null")
	got, err := s.GetObjectVersion(bg, "old", "k", NullVersion)
	must(t, err)
	if string(got.Chunks[0].CID) != string(cid("c1")) {
		t.Fatal("the old object's version lost its chunk")
	}
	checkRefsConsistent(t, s)
}
