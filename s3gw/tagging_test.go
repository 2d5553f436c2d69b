package s3gw

import (
	"context"
	"encoding/xml"
	"maps"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

func taggingDoc(pairs ...string) []byte {
	var b strings.Builder
	b.WriteString(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>`)
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString("<Tag><Key>" + pairs[i] + "</Key><Value>" + pairs[i+1] + "</Value></Tag>")
	}
	b.WriteString("</TagSet></Tagging>")
	return []byte(b.String())
}

// TestObjectTaggingMinio: tags at PUT (x-amz-tagging), Put/Get/Delete
// ObjectTagging, x-amz-tagging-count, and copies with COPY and REPLACE.
func TestObjectTaggingMinio(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio()
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	getTags := func(key string) map[string]string {
		t.Helper()
		tg, err := c.GetObjectTagging(ctx, "bkt", key, minio.GetObjectTaggingOptions{})
		if err != nil {
			t.Fatalf("get tagging %s: %v", key, err)
		}
		return tg.ToMap()
	}
	put := map[string]string{"project": "cairn", "stage": "a b+c/d"}
	if _, err := c.PutObject(ctx, "bkt", "obj", strings.NewReader("data"), 4, minio.PutObjectOptions{UserTags: put}); err != nil {
		t.Fatal(err)
	}
	if got := getTags("obj"); !maps.Equal(got, put) {
		t.Fatalf("tags from PUT %v, want %v", got, put)
	}
	resp, _ := e.must(200, "HEAD", "/bkt/obj", nil)
	if resp.Header.Get("X-Amz-Tagging-Count") != "2" {
		t.Fatalf("x-amz-tagging-count %q", resp.Header.Get("X-Amz-Tagging-Count"))
	}
	next, err := tags.NewTags(map[string]string{"only": "one"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutObjectTagging(ctx, "bkt", "obj", next, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := getTags("obj"); !maps.Equal(got, map[string]string{"only": "one"}) {
		t.Fatalf("tags after PutObjectTagging %v", got)
	}
	if got := getAll(t, c, "bkt", "obj", minio.GetObjectOptions{}); string(got) != "data" {
		t.Fatalf("tagging changed the object: %q", got)
	}
	// Copies keep the source's tags, or take x-amz-tagging with REPLACE.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "bkt", Object: "copy"}, minio.CopySrcOptions{Bucket: "bkt", Object: "obj"}); err != nil {
		t.Fatal(err)
	}
	if got := getTags("copy"); !maps.Equal(got, map[string]string{"only": "one"}) {
		t.Fatalf("COPY tags %v", got)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "bkt", Object: "replaced", ReplaceTags: true, UserTags: map[string]string{"new": "tag"}},
		minio.CopySrcOptions{Bucket: "bkt", Object: "obj"}); err != nil {
		t.Fatal(err)
	}
	if got := getTags("replaced"); !maps.Equal(got, map[string]string{"new": "tag"}) {
		t.Fatalf("REPLACE tags %v", got)
	}
	if err := c.RemoveObjectTagging(ctx, "bkt", "obj", minio.RemoveObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := getTags("obj"); len(got) != 0 {
		t.Fatalf("tags after DeleteObjectTagging %v", got)
	}
	resp, _ = e.must(200, "HEAD", "/bkt/obj", nil)
	if resp.Header.Get("X-Amz-Tagging-Count") != "" {
		t.Fatalf("x-amz-tagging-count %q without tags", resp.Header.Get("X-Amz-Tagging-Count"))
	}
	// Multipart: the upload's tags go to the object.
	if _, err := c.PutObject(ctx, "bkt", "mp", strings.NewReader(strings.Repeat("x", 6<<20)), 6<<20,
		minio.PutObjectOptions{UserTags: map[string]string{"mp": "yes"}, PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := getTags("mp"); !maps.Equal(got, map[string]string{"mp": "yes"}) {
		t.Fatalf("multipart tags %v", got)
	}
}

// TestObjectTaggingWire checks the documents and S3's errors.
func TestObjectTaggingWire(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/obj", []byte("x"), "X-Amz-Tagging", "b=2&a=1")
	_, body := e.must(200, "GET", "/bkt/obj?tagging", nil)
	want := `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>`
	if !strings.HasSuffix(string(body), want) {
		t.Fatalf("GetObjectTagging:\n%s\nwant\n%s", body, want)
	}
	e.must(200, "PUT", "/bkt/obj?tagging", taggingDoc("k", "v"), "Content-MD5", b64MD5(taggingDoc("k", "v")))
	e.must(204, "DELETE", "/bkt/obj?tagging", nil)
	_, body = e.must(200, "GET", "/bkt/obj?tagging", nil)
	var empty struct {
		XMLName xml.Name
		Tags    []struct{ Key string } `xml:"TagSet>Tag"`
	}
	if err := xml.Unmarshal(body, &empty); err != nil || empty.XMLName.Local != "Tagging" || len(empty.Tags) != 0 {
		t.Fatalf("no tags: %v %s", err, body)
	}

	eleven := make([]string, 0, 22)
	for i := range 11 {
		eleven = append(eleven, "k"+strings.Repeat("x", i), "v")
	}
	for _, c := range []struct {
		name         string
		method, path string
		body         []byte
		hdr          []string
		status       int
		code         string
	}{
		{"11 tags", "PUT", "/bkt/obj?tagging", taggingDoc(eleven...), nil, 400, "InvalidTag"},
		{"duplicate key", "PUT", "/bkt/obj?tagging", taggingDoc("k", "1", "k", "2"), nil, 400, "InvalidTag"},
		{"key too long", "PUT", "/bkt/obj?tagging", taggingDoc(strings.Repeat("k", 129), "v"), nil, 400, "InvalidTag"},
		{"value too long", "PUT", "/bkt/obj?tagging", taggingDoc("k", strings.Repeat("v", 257)), nil, 400, "InvalidTag"},
		{"empty key", "PUT", "/bkt/obj?tagging", taggingDoc("", "v"), nil, 400, "InvalidTag"},
		{"aws: key", "PUT", "/bkt/obj?tagging", taggingDoc("aws:x", "v"), nil, 400, "InvalidTag"},
		{"bad character", "PUT", "/bkt/obj?tagging", taggingDoc("k", "semi;colon"), nil, 400, "InvalidTag"},
		{"no TagSet", "PUT", "/bkt/obj?tagging", []byte("<Tagging></Tagging>"), nil, 400, "MalformedXML"},
		{"bad MD5", "PUT", "/bkt/obj?tagging", taggingDoc("k", "v"), []string{"Content-MD5", b64MD5([]byte("other"))}, 400, "BadDigest"},
		{"missing key", "PUT", "/bkt/missing?tagging", taggingDoc("k", "v"), nil, 404, "NoSuchKey"},
		{"missing bucket", "GET", "/nobkt/obj?tagging", nil, nil, 404, "NoSuchBucket"},
		{"get missing", "GET", "/bkt/missing?tagging", nil, nil, 404, "NoSuchKey"},
		{"delete missing", "DELETE", "/bkt/missing?tagging", nil, nil, 404, "NoSuchKey"},
		{"header duplicate", "PUT", "/bkt/h", []byte("x"), []string{"X-Amz-Tagging", "a=1&a=2"}, 400, "InvalidArgument"},
		{"header bad encoding", "PUT", "/bkt/h", []byte("x"), []string{"X-Amz-Tagging", "a=%zz"}, 400, "InvalidArgument"},
		{"header value too long", "PUT", "/bkt/h", []byte("x"), []string{"X-Amz-Tagging", "a=" + strings.Repeat("v", 257)}, 400, "InvalidTag"},
		{"copy bad directive", "PUT", "/bkt/c", nil, []string{"X-Amz-Copy-Source", "/bkt/obj", "X-Amz-Tagging-Directive", "MERGE"}, 400, "InvalidArgument"},
		{"bucket tagging", "GET", "/bkt?tagging", nil, nil, 501, "NotImplemented"},
	} {
		resp, body := e.do(e.signedReq(c.method, c.path, c.body, c.hdr...))
		if resp.StatusCode != c.status || s3Code(t, body) != c.code {
			t.Errorf("%s: %d %s, want %d %s\n%s", c.name, resp.StatusCode, s3Code(t, body), c.status, c.code, body)
		}
	}
	// A failed tagging left the object's tags (none) as they were; a
	// failed PUT stored nothing.
	if _, body := e.must(200, "GET", "/bkt/obj?tagging", nil); strings.Contains(string(body), "<Tag>") {
		t.Fatalf("tags after refused requests: %s", body)
	}
	resp, body := e.do(e.signedReq("HEAD", "/bkt/h", nil))
	wantError(t, resp, body, 404, "")
}
