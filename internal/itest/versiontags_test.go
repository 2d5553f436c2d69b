//go:build integration

package itest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

// TestVersionTagging (issue 14, tagging with versions): Put, Get and
// DeleteObjectTagging and GetObjectAttributes with versionId act on that
// version and answer its x-amz-version-id; tags given at PUT stay with a
// version that becomes noncurrent; GET and HEAD of a version send its
// x-amz-tagging-count; a delete marker named by its ID answers 405
// MethodNotAllowed, as S3 does. The null version answers no version ID
// while the bucket was never versioned, "null" after.
func TestVersionTagging(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	req := func(method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, q, body, hdr, time.Now(), p.secret)
	}
	tagging := func(kv ...string) []byte {
		var b bytes.Buffer
		b.WriteString("<Tagging><TagSet>")
		for i := 0; i < len(kv); i += 2 {
			fmt.Fprintf(&b, "<Tag><Key>%s</Key><Value>%s</Value></Tag>", kv[i], kv[i+1])
		}
		b.WriteString("</TagSet></Tagging>")
		return b.Bytes()
	}
	var tagResult struct {
		Tags []struct{ Key, Value string } `xml:"TagSet>Tag"`
	}
	getTags := func(id string, wantVID string) string {
		t.Helper()
		q := url.Values{"tagging": {""}}
		if id != "" {
			q.Set("versionId", id)
		}
		resp, body := wantStatus(t, req("GET", "/vtag/k", q, nil, nil), 200, "")
		if v := resp.Header.Get("x-amz-version-id"); v != wantVID {
			t.Fatalf("GET ?tagging versionId=%q answered x-amz-version-id %q, want %q", id, v, wantVID)
		}
		tagResult.Tags = nil
		if err := xml.Unmarshal(body, &tagResult); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(tagResult.Tags)
	}
	mkBucket(t, c, "vtag")

	// Never versioned: the null version, tagged by its ID "null", answers
	// no version ID.
	do(t, req("PUT", "/vtag/k", nil, []byte("null-version"), map[string]string{"x-amz-tagging": "a=1"}))
	resp, _ := wantStatus(t, req("PUT", "/vtag/k", url.Values{"tagging": {""}, "versionId": {"null"}}, tagging("a", "2"), nil), 200, "")
	if v := resp.Header.Get("x-amz-version-id"); v != "" {
		t.Fatalf("PutObjectTagging of the null version of an unversioned bucket answered x-amz-version-id %q", v)
	}
	if got := getTags("null", ""); got != "[{a 2}]" {
		t.Fatalf("null version's tags %s", got)
	}

	if err := c.EnableVersioning(ctx, "vtag"); err != nil {
		t.Fatal(err)
	}
	// The null version, now in a versioned bucket, is named "null".
	resp, _ = wantStatus(t, req("HEAD", "/vtag/k", nil, nil, nil), 200, "")
	if v := resp.Header.Get("x-amz-version-id"); v != "null" || resp.Header.Get("x-amz-tagging-count") != "1" {
		t.Fatalf("HEAD of the null version in a versioned bucket: x-amz-version-id %q, x-amz-tagging-count %q", v, resp.Header.Get("x-amz-tagging-count"))
	}
	data1 := payloadBytes(7, 70<<10) // above the inline size: chunks on the storage nodes
	v1, err := c.PutObject(ctx, "vtag", "k", bytes.NewReader(data1), int64(len(data1)), minio.PutObjectOptions{UserTags: map[string]string{"v": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := c.PutObject(ctx, "vtag", "k", bytes.NewReader([]byte("current")), 7, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The tags of v1, given at its PUT, stay now that it is noncurrent.
	if got := getTags(v1.VersionID, v1.VersionID); got != "[{v 1}]" {
		t.Fatalf("noncurrent version's tags %s", got)
	}
	if got := getTags("", v2.VersionID); got != "[]" {
		t.Fatalf("current version's tags %s", got)
	}
	tg, err := c.GetObjectTagging(ctx, "vtag", "k", minio.GetObjectTaggingOptions{VersionID: "null"})
	if err != nil || !maps.Equal(tg.ToMap(), map[string]string{"a": "2"}) {
		t.Fatalf("minio GetObjectTagging of the null version: %v %v", tg, err)
	}

	// Tag a noncurrent version: that version changes, and says so.
	resp, _ = wantStatus(t, req("PUT", "/vtag/k", url.Values{"tagging": {""}, "versionId": {v1.VersionID}}, tagging("x", "y", "z", "w"), nil), 200, "")
	if v := resp.Header.Get("x-amz-version-id"); v != v1.VersionID {
		t.Fatalf("PutObjectTagging versionId=%s answered x-amz-version-id %q", v1.VersionID, v)
	}
	if got := getTags(v1.VersionID, v1.VersionID); got != "[{x y} {z w}]" {
		t.Fatalf("version's tags after PutObjectTagging %s", got)
	}
	if got := getTags("", v2.VersionID); got != "[]" {
		t.Fatalf("tagging a noncurrent version tagged the current one: %s", got)
	}
	for _, m := range []string{"HEAD", "GET"} {
		resp, body := wantStatus(t, req(m, "/vtag/k", url.Values{"versionId": {v1.VersionID}}, nil, nil), 200, "")
		if resp.Header.Get("x-amz-tagging-count") != "2" || resp.Header.Get("x-amz-version-id") != v1.VersionID {
			t.Fatalf("%s of version %s: x-amz-tagging-count %q, x-amz-version-id %q", m, v1.VersionID, resp.Header.Get("x-amz-tagging-count"), resp.Header.Get("x-amz-version-id"))
		}
		if m == "GET" && !bytes.Equal(body, data1) {
			t.Fatalf("GET of version %s read back %d bytes", v1.VersionID, len(body))
		}
		resp, _ = wantStatus(t, req(m, "/vtag/k", nil, nil, nil), 200, "")
		if n := resp.Header.Get("x-amz-tagging-count"); n != "" {
			t.Fatalf("%s of the untagged current version: x-amz-tagging-count %q", m, n)
		}
	}
	ts, err := tags.NewTags(map[string]string{"by": "minio"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutObjectTagging(ctx, "vtag", "k", ts, minio.PutObjectTaggingOptions{VersionID: v2.VersionID}); err != nil {
		t.Fatal(err)
	}
	if got := getTags(v2.VersionID, v2.VersionID); got != "[{by minio}]" {
		t.Fatalf("minio PutObjectTagging by version: %s", got)
	}

	// GetObjectAttributes of a version.
	resp, body := wantStatus(t, req("GET", "/vtag/k", url.Values{"attributes": {""}, "versionId": {v1.VersionID}}, nil,
		map[string]string{"x-amz-object-attributes": "ObjectSize,ETag"}), 200, "")
	if resp.Header.Get("x-amz-version-id") != v1.VersionID || !bytes.Contains(body, []byte(fmt.Sprintf("<ObjectSize>%d</ObjectSize>", len(data1)))) ||
		!bytes.Contains(body, []byte("<ETag>"+v1.ETag+"</ETag>")) {
		t.Fatalf("GetObjectAttributes of version %s: x-amz-version-id %q\n%s", v1.VersionID, resp.Header.Get("x-amz-version-id"), body)
	}
	wantStatus(t, req("GET", "/vtag/k", url.Values{"attributes": {""}, "versionId": {"00000000000a0001"}}, nil,
		map[string]string{"x-amz-object-attributes": "ObjectSize"}), 404, "NoSuchVersion")

	// DeleteObjectTagging of a version.
	resp, _ = wantStatus(t, req("DELETE", "/vtag/k", url.Values{"tagging": {""}, "versionId": {v1.VersionID}}, nil, nil), 204, "")
	if v := resp.Header.Get("x-amz-version-id"); v != v1.VersionID {
		t.Fatalf("DeleteObjectTagging versionId=%s answered x-amz-version-id %q", v1.VersionID, v)
	}
	if got := getTags(v1.VersionID, v1.VersionID); got != "[]" {
		t.Fatalf("version's tags after DeleteObjectTagging %s", got)
	}

	// Versions that are not there, and delete markers.
	wantStatus(t, req("PUT", "/vtag/k", url.Values{"tagging": {""}, "versionId": {"00000000000a0001"}}, tagging("a", "b"), nil), 404, "NoSuchVersion")
	wantStatus(t, req("PUT", "/vtag/k", url.Values{"tagging": {""}, "versionId": {"not-a-version"}}, tagging("a", "b"), nil), 400, "InvalidArgument")
	resp, _ = wantStatus(t, req("DELETE", "/vtag/k", nil, nil, nil), 204, "")
	dm := resp.Header.Get("x-amz-version-id")
	if dm == "" || resp.Header.Get("x-amz-delete-marker") != "true" {
		t.Fatalf("DELETE made no delete marker: %v", resp.Header)
	}
	for _, r := range []*http.Request{
		req("PUT", "/vtag/k", url.Values{"tagging": {""}, "versionId": {dm}}, tagging("a", "b"), nil),
		req("GET", "/vtag/k", url.Values{"tagging": {""}, "versionId": {dm}}, nil, nil),
		req("DELETE", "/vtag/k", url.Values{"tagging": {""}, "versionId": {dm}}, nil, nil),
	} {
		resp, _ := wantStatus(t, r, 405, "MethodNotAllowed")
		if resp.Header.Get("x-amz-delete-marker") != "true" || resp.Header.Get("x-amz-version-id") != dm {
			t.Fatalf("%s ?tagging of a delete marker: headers %v", r.Method, resp.Header)
		}
	}
	wantStatus(t, req("PUT", "/vtag/k", url.Values{"tagging": {""}}, tagging("a", "b"), nil), 404, "NoSuchKey")
	wantStatus(t, req("GET", "/vtag/k", url.Values{"tagging": {""}}, nil, nil), 404, "NoSuchKey")
	// The versions under the marker keep their tags.
	if got := getTags(v2.VersionID, v2.VersionID); got != "[{by minio}]" {
		t.Fatalf("tags of the version under a delete marker %s", got)
	}
}
