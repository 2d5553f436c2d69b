package meta

import (
	"maps"
	"reflect"
	"strings"
	"testing"
)

// TestSetObjectTags: tags replace in place, the manifest and the chunks'
// reference counts stay as they were, and old manifests (no tags) load.
func TestSetObjectTags(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", n.cfg.Now()))
	o := object("b", "k", "c1", "c2")
	must(t, s.PutObject(bg, o))
	before, err := s.GetObject(bg, "b", "k")
	must(t, err)
	if before.Tags != nil {
		t.Fatalf("a new object has tags %v", before.Tags)
	}
	tags := map[string]string{"project": "cairn", "empty": ""}
	must(t, s.SetObjectTags(bg, "b", "k", tags))
	after, err := s.GetObject(bg, "b", "k")
	must(t, err)
	if !maps.Equal(after.Tags, tags) {
		t.Fatalf("tags %v, want %v", after.Tags, tags)
	}
	after.Tags = nil
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("tagging changed the manifest:\n%+v\n%+v", before, after)
	}
	for _, c := range []string{"c1", "c2"} {
		refs, err := s.ChunkRefs(bg, cid(c))
		must(t, err)
		if refs != 1 {
			t.Errorf("chunk %s: %d references after tagging, want 1", c, refs)
		}
	}
	// Listings see the tags' object unchanged.
	l, err := s.ListObjects(bg, "b", ListQuery{Max: 10})
	must(t, err)
	if len(l.Objects) != 1 || l.Objects[0].ETag != o.ETag {
		t.Fatalf("list after tagging: %+v", l.Objects)
	}
	must(t, s.SetObjectTags(bg, "b", "k", nil))
	after, err = s.GetObject(bg, "b", "k")
	must(t, err)
	if after.Tags != nil {
		t.Fatalf("tags after removing them: %v", after.Tags)
	}
	wantErr(t, s.SetObjectTags(bg, "b", "missing", tags), ErrNoSuchKey)
	wantErr(t, s.SetObjectTags(bg, "nope", "k", tags), ErrNoSuchBucket)
	// A restart replays the log to the same tags.
	must(t, s.SetObjectTags(bg, "b", "k", tags))
	n.restart()
	waitLeader(t, n.s)
	after, err = n.s.GetObject(bg, "b", "k")
	must(t, err)
	if !maps.Equal(after.Tags, tags) {
		t.Fatalf("tags after a restart %v, want %v", after.Tags, tags)
	}
}

// TestRetagKeepsUnknownFields: a header field this binary does not know
// (written by a newer one) survives a retag.
func TestRetagKeepsUnknownFields(t *testing.T) {
	m, err := encodeObject(object("b", "k", "c1"))
	must(t, err)
	h, d, _, err := splitManifest(m)
	must(t, err)
	h = append([]byte(`{"from_the_future":42,`), h[1:]...)
	e := enc{b: []byte{m[0]}}
	e.bytes(h)
	e.b = append(e.b, d.b...)
	out, err := retagManifest(e.b, map[string]string{"k": "v"})
	must(t, err)
	nh, _, _, err := splitManifest(out)
	must(t, err)
	if !strings.Contains(string(nh), `"from_the_future":42`) || !strings.Contains(string(nh), `"tags":{"k":"v"}`) {
		t.Fatalf("retagged header %s", nh)
	}
	o, err := decodeObject(out, true)
	must(t, err)
	if o.Tags["k"] != "v" || len(o.Chunks) != 1 {
		t.Fatalf("decoded %+v", o)
	}
}

// TestSetVersionTags: tags given at the write stay with a version when it
// becomes noncurrent; SetVersionTags changes one version's tags, current
// or not, answers its ID, refuses a delete marker named by its ID and
// names the null version "null" once versioning was set.
func TestSetVersionTags(t *testing.T) {
	n := newDev(t, nil)
	s := n.s
	must(t, s.CreateBucket(bg, "b", n.cfg.Now()))
	o := object("b", "k", "c0")
	o.Tags = map[string]string{"at": "write"}
	must(t, s.PutObject(bg, o))
	// Never versioned: the null version has no ID to answer.
	id, err := s.SetVersionTags(bg, "b", "k", "", map[string]string{"v": "0"})
	must(t, err)
	if id != "" {
		t.Fatalf("tagging the null version of an unversioned bucket answered %q", id)
	}
	setVersioning(t, s, "b", VersioningEnabled)
	v1 := object("b", "k", "c1")
	v1.Tags = map[string]string{"at": "v1"}
	must(t, s.PutObject(bg, v1))
	v2 := object("b", "k", "c2")
	must(t, s.PutObject(bg, v2))
	if v1.VersionID == "" || v2.VersionID == "" {
		t.Fatal("no version IDs")
	}
	tagsOf := func(id string) map[string]string {
		t.Helper()
		o, err := s.GetObjectVersion(bg, "b", "k", id)
		must(t, err)
		return o.Tags
	}
	if got := tagsOf(v1.VersionID); !maps.Equal(got, v1.Tags) {
		t.Fatalf("noncurrent v1 has tags %v, want %v", got, v1.Tags)
	}
	if got := tagsOf(NullVersion); !maps.Equal(got, map[string]string{"v": "0"}) {
		t.Fatalf("noncurrent null version has tags %v", got)
	}
	id, err = s.SetVersionTags(bg, "b", "k", v1.VersionID, map[string]string{"new": "tag"})
	must(t, err)
	if id != v1.VersionID {
		t.Fatalf("answered %q, want %q", id, v1.VersionID)
	}
	if got := tagsOf(v1.VersionID); !maps.Equal(got, map[string]string{"new": "tag"}) {
		t.Fatalf("v1 tags %v after SetVersionTags", got)
	}
	if got := tagsOf(""); got != nil {
		t.Fatalf("the current version took tags %v", got)
	}
	id, err = s.SetVersionTags(bg, "b", "k", NullVersion, nil)
	must(t, err)
	if id != NullVersion {
		t.Fatalf("null version answered %q", id)
	}
	if got := tagsOf(NullVersion); got != nil {
		t.Fatalf("null version tags %v after removing them", got)
	}
	// The null version, once versioning was enabled, reads back as "null".
	if o, err := s.GetObjectVersion(bg, "b", "k", NullVersion); err != nil || o.VersionID != NullVersion {
		t.Fatalf("GetObjectVersion null: %v, id %q", err, o.VersionID)
	}
	// Chunk references are unchanged.
	for _, c := range []string{"c0", "c1", "c2"} {
		if refs := refsOf(t, s, c); refs != 1 {
			t.Errorf("chunk %s: %d references, want 1", c, refs)
		}
	}
	// A delete marker: by its ID, ErrDeleteMarker; as the current version,
	// ErrNoSuchKey.
	outs, err := s.DeleteVersions(bg, "b", []DeleteTarget{{Key: "k"}}, false)
	must(t, err)
	dm := outs[0].VersionID
	_, err = s.SetVersionTags(bg, "b", "k", dm, map[string]string{"a": "b"})
	wantErr(t, err, ErrDeleteMarker)
	_, err = s.SetVersionTags(bg, "b", "k", "", map[string]string{"a": "b"})
	wantErr(t, err, ErrNoSuchKey)
	_, err = s.SetVersionTags(bg, "b", "k", "00000000000000ff", nil)
	wantErr(t, err, ErrNoSuchVersion)
	_, err = s.SetVersionTags(bg, "b", "k", "bogus", nil)
	wantErr(t, err, ErrInvalidArgument)
	// A restart replays op 65 (and the op 64 entries before it) alike.
	n.restart()
	waitLeader(t, n.s)
	s = n.s
	if got := tagsOf(v1.VersionID); !maps.Equal(got, map[string]string{"new": "tag"}) {
		t.Fatalf("v1 tags %v after a restart", got)
	}
}
