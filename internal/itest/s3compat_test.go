//go:build integration

package itest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

// send sends a request and returns the response, its body read.
func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// head returns the headers of a signed HEAD of bucket/key, which must
// succeed.
func head(t *testing.T, p *proc, bucket, key string, hdr map[string]string) http.Header {
	t.Helper()
	resp, _ := send(t, signed(t, p, http.MethodHead, "/"+bucket+"/"+key, nil, nil, hdr, time.Now(), p.secret))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s/%s: %d", bucket, key, resp.StatusCode)
	}
	return resp.Header
}

// TestS3Compat drives the S3 points of issue 14 against storaged --dev
// with minio-go and hand-signed requests: the CID header and exact user
// metadata, the protocol points, multipart retries, partNumber,
// GetObjectAttributes and ListBuckets pages.
func TestS3Compat(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "compat")
	req := func(method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, q, body, hdr, time.Now(), p.secret)
	}

	t.Run("metadata", func(t *testing.T) {
		data := []byte("metadata round trip")
		meta := map[string]string{"Foo": "bar", "Cid": "the app's own"}
		if _, err := c.PutObject(ctx, "compat", "meta", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{UserMetadata: meta}); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"meta", "copy", "replaced"} {
			switch key {
			case "copy":
				if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "compat", Object: key}, minio.CopySrcOptions{Bucket: "compat", Object: "meta"}); err != nil {
					t.Fatal(err)
				}
			case "replaced":
				meta = map[string]string{"Foo": "baz"}
				if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "compat", Object: key, ReplaceMetadata: true, UserMetadata: meta},
					minio.CopySrcOptions{Bucket: "compat", Object: "meta"}); err != nil {
					t.Fatal(err)
				}
			}
			st, err := c.StatObject(ctx, "compat", key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(st.UserMetadata, meta) {
				t.Errorf("%s: user metadata %v, want exactly %v", key, st.UserMetadata, meta)
			}
			if got, want := head(t, p, "compat", key, nil).Get("X-Cairn-Cid"), expectedCID(t, bytes.NewReader(data)); got != want {
				t.Errorf("%s: x-cairn-cid %q, want %q", key, got, want)
			}
		}
	})

	t.Run("protocol", func(t *testing.T) {
		do(t, req("PUT", "/compat", nil, nil, nil)) // us-east-1: 200 for its owner
		us := []byte(`<CreateBucketConfiguration><LocationConstraint>US</LocationConstraint></CreateBucketConfiguration>`)
		do(t, req("PUT", "/compat-us", nil, us, nil))
		eu := []byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
		expectError(t, req("PUT", "/compat-eu", nil, eu, nil), 400, "IllegalLocationConstraintException")
		anon, err := http.NewRequest("GET", p.url()+"/no-such-bucket/key", nil)
		if err != nil {
			t.Fatal(err)
		}
		expectError(t, anon, 404, "NoSuchBucket")
		anon, _ = http.NewRequest("GET", p.url()+"/compat/meta", nil)
		expectError(t, anon, 403, "AccessDenied")
		body := do(t, req("GET", "/compat", url.Values{"list-type": {"2"}, "continuation-token": {""}}, nil, nil))
		if !strings.Contains(string(body), "<Key>meta</Key>") {
			t.Errorf("empty continuation token: %s", body)
		}
	})

	t.Run("multipart", func(t *testing.T) {
		core := minio.Core{Client: c}
		id, err := core.NewMultipartUpload(ctx, "compat", "mp", minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parts := [][]byte{payloadBytes(41, 5*MiB), payloadBytes(42, 5*MiB+3), []byte("end")}
		var done []minio.CompletePart
		for i, b := range parts {
			pt, err := core.PutObjectPart(ctx, "compat", "mp", id, i+1, bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Each part listed twice, as a client that retried it may.
			done = append(done, minio.CompletePart{PartNumber: i + 1, ETag: pt.ETag}, minio.CompletePart{PartNumber: i + 1, ETag: pt.ETag})
		}
		info, err := core.CompleteMultipartUpload(ctx, "compat", "mp", id, done, minio.PutObjectOptions{})
		if err != nil || !strings.HasSuffix(info.ETag, "-3") {
			t.Fatalf("complete: %+v %v", info, err)
		}
		again, err := core.CompleteMultipartUpload(ctx, "compat", "mp", id, done, minio.PutObjectOptions{})
		if err != nil || again.ETag != info.ETag {
			t.Fatalf("complete retried: %+v %v", again, err)
		}
		if _, err := core.CompleteMultipartUpload(ctx, "compat", "mp", id, done[:2], minio.PutObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchUpload" {
			t.Fatalf("complete retried with other parts: %v", err)
		}
		total := int64(len(parts[0]) + len(parts[1]) + len(parts[2]))
		start := int64(0)
		for i, want := range parts {
			resp, body := send(t, req("GET", "/compat/mp", url.Values{"partNumber": {fmt.Sprint(i + 1)}}, nil, nil))
			cr := fmt.Sprintf("bytes %d-%d/%d", start, start+int64(len(want))-1, total)
			if resp.StatusCode != 206 || !bytes.Equal(body, want) || resp.Header.Get("Content-Range") != cr || resp.Header.Get("X-Amz-Mp-Parts-Count") != "3" {
				t.Errorf("part %d: %d, %d bytes, %v", i+1, resp.StatusCode, len(body), resp.Header)
			}
			start += int64(len(want))
		}
		expectError(t, req("GET", "/compat/mp", url.Values{"partNumber": {"4"}}, nil, nil), 416, "InvalidPartNumber")
		body := do(t, req("GET", "/compat/mp", url.Values{"attributes": {""}}, nil, map[string]string{"X-Amz-Object-Attributes": "ETag,ObjectSize,ObjectParts"}))
		want := fmt.Sprintf("<ETag>%s</ETag><ObjectParts><IsTruncated>false</IsTruncated><MaxParts>1000</MaxParts><NextPartNumberMarker>3</NextPartNumberMarker>"+
			"<PartNumberMarker>0</PartNumberMarker><Part><PartNumber>1</PartNumber><Size>%d</Size></Part><Part><PartNumber>2</PartNumber><Size>%d</Size></Part>"+
			"<Part><PartNumber>3</PartNumber><Size>3</Size></Part><PartsCount>3</PartsCount></ObjectParts><ObjectSize>%d</ObjectSize>",
			info.ETag, len(parts[0]), len(parts[1]), total)
		if !strings.Contains(string(body), want) {
			t.Errorf("attributes:\n%s\nwant\n%s", body, want)
		}
	})

	t.Run("tagging", func(t *testing.T) {
		getTags := func(key string) map[string]string {
			t.Helper()
			tg, err := c.GetObjectTagging(ctx, "compat", key, minio.GetObjectTaggingOptions{})
			if err != nil {
				t.Fatalf("get tagging %s: %v", key, err)
			}
			return tg.ToMap()
		}
		data := payloadBytes(51, 2*MiB+5)
		first := map[string]string{"team": "storage", "tier": "gold"}
		if _, err := c.PutObject(ctx, "compat", "tagged", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{UserTags: first}); err != nil {
			t.Fatal(err)
		}
		if got := getTags("tagged"); !maps.Equal(got, first) {
			t.Fatalf("tags from PUT %v, want %v", got, first)
		}
		if n := head(t, p, "compat", "tagged", nil).Get("X-Amz-Tagging-Count"); n != "2" {
			t.Errorf("x-amz-tagging-count %q, want 2", n)
		}
		next, err := tags.NewTags(map[string]string{"only": "one"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PutObjectTagging(ctx, "compat", "tagged", next, minio.PutObjectTaggingOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := getTags("tagged"); !maps.Equal(got, next.ToMap()) {
			t.Fatalf("tags after PutObjectTagging %v", got)
		}
		obj, err := c.GetObject(ctx, "compat", "tagged", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(obj); !bytes.Equal(got, data) {
			t.Fatalf("tagging changed the object's bytes (%d read)", len(got))
		}
		if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "compat", Object: "tag-copy", ReplaceTags: true, UserTags: map[string]string{"copy": "yes"}},
			minio.CopySrcOptions{Bucket: "compat", Object: "tagged"}); err != nil {
			t.Fatal(err)
		}
		if got := getTags("tag-copy"); !maps.Equal(got, map[string]string{"copy": "yes"}) {
			t.Fatalf("REPLACE copy tags %v", got)
		}
		if err := c.RemoveObjectTagging(ctx, "compat", "tagged", minio.RemoveObjectTaggingOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := getTags("tagged"); len(got) != 0 {
			t.Fatalf("tags after delete: %v", got)
		}
		many := map[string]string{}
		for i := range 11 {
			many[fmt.Sprint("k", i)] = "v"
		}
		doc := "<Tagging><TagSet>"
		for k, v := range many {
			doc += "<Tag><Key>" + k + "</Key><Value>" + v + "</Value></Tag>"
		}
		doc += "</TagSet></Tagging>"
		expectError(t, req("PUT", "/compat/tagged", url.Values{"tagging": {""}}, []byte(doc), nil), 400, "InvalidTag")
	})

	t.Run("list buckets", func(t *testing.T) {
		var names []string
		token := ""
		for range 10 {
			q := url.Values{"max-buckets": {"1"}, "prefix": {"compat"}}
			if token != "" {
				q.Set("continuation-token", token)
			}
			var page struct {
				Names             []string `xml:"Buckets>Bucket>Name"`
				ContinuationToken string
			}
			if err := xml.Unmarshal(do(t, req("GET", "/", q, nil, nil)), &page); err != nil {
				t.Fatal(err)
			}
			names = append(names, page.Names...)
			if token = page.ContinuationToken; token == "" {
				break
			}
		}
		if !slices.Equal(names, []string{"compat", "compat-us"}) {
			t.Errorf("buckets page by page: %v", names)
		}
	})
}
