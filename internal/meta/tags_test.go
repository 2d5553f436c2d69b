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
