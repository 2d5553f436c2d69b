package s3gw

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestObjectHeaders checks the headers of object responses on the wire.
func TestObjectHeaders(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	resp, _ := e.must(200, "PUT", "/bkt/obj", []byte("0123456789"),
		"Content-Encoding", "aws-chunked, br", "X-Amz-Meta-Cid", "mine", "X-Amz-Meta-Two", "2",
		"X-Amz-Checksum-Crc32c", "KAwGng==")
	etag := resp.Header.Get("ETag")
	cid := fakeCID([]byte("0123456789"))
	if etag != `"781e5e245d69b566979b86e28d23f2c7"` || resp.Header.Get("X-Cairn-Cid") != cid ||
		resp.Header.Get("X-Amz-Checksum-Crc32c") != "KAwGng==" {
		t.Fatalf("PUT headers %v", resp.Header)
	}
	obj, _ := e.be.GetObject(t.Context(), "bkt", "obj")
	if info := obj.Info(); info.ContentType != defaultContentType || info.Headers["Content-Encoding"] != "br" || len(info.UserMeta) != 2 || info.UserMeta["cid"] != "mine" {
		t.Fatalf("stored %+v", info)
	}

	for _, method := range []string{"GET", "HEAD"} {
		resp, body := e.must(200, method, "/bkt/obj", nil)
		h := resp.Header
		if h.Get("ETag") != etag || h.Get("X-Cairn-Cid") != cid || h.Get("X-Amz-Meta-Cid") != "mine" || h.Get("X-Amz-Meta-Two") != "2" ||
			h.Get("Content-Length") != "10" || h.Get("Accept-Ranges") != "bytes" || h.Get("Content-Type") != defaultContentType {
			t.Fatalf("%s headers %v", method, h)
		}
		if _, err := time.Parse(http.TimeFormat, h.Get("Last-Modified")); err != nil || !strings.HasSuffix(h.Get("Last-Modified"), " GMT") {
			t.Fatalf("Last-Modified %q", h.Get("Last-Modified"))
		}
		if method == "GET" && string(body) != "0123456789" || method == "HEAD" && len(body) != 0 {
			t.Fatalf("%s body %q", method, body)
		}
	}

	// Ranges.
	for rng, want := range map[string]string{
		"bytes=2-4": "bytes 2-4/10", "bytes=7-": "bytes 7-9/10", "bytes=-3": "bytes 7-9/10",
		"bytes=-30": "bytes 0-9/10", "bytes=8-100": "bytes 8-9/10",
	} {
		resp, body := e.must(206, "GET", "/bkt/obj", nil, "Range", rng)
		if resp.Header.Get("Content-Range") != want || int64(len(body)) != resp.ContentLength {
			t.Errorf("%s: %q %q", rng, resp.Header.Get("Content-Range"), body)
		}
	}
	for _, rng := range []string{"bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=x-"} {
		if _, body := e.must(200, "GET", "/bkt/obj", nil, "Range", rng); string(body) != "0123456789" {
			t.Errorf("ignored range %s: %q", rng, body)
		}
	}
	resp, _ = e.do(e.signedReq("GET", "/bkt/obj", nil, "Range", "bytes=10-"))
	if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */10" {
		t.Errorf("416: %d %v", resp.StatusCode, resp.Header)
	}
	e.must(206, "GET", "/bkt/obj?partNumber=1", nil)

	// Conditions and their precedence.
	past, future := "Mon, 02 Jan 2006 15:04:05 GMT", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		hdr    []string
		status int
	}{
		{[]string{"If-Match", etag}, 200},
		{[]string{"If-Match", `"x", ` + etag}, 200},
		{[]string{"If-Match", "*"}, 200},
		{[]string{"If-None-Match", etag}, 304},
		{[]string{"If-None-Match", "*"}, 304},
		{[]string{"If-None-Match", `"other"`}, 200},
		{[]string{"If-Modified-Since", future}, 304},
		{[]string{"If-Modified-Since", past}, 200},
		{[]string{"If-Unmodified-Since", future}, 200},
		{[]string{"If-Unmodified-Since", past}, 412},
		{[]string{"If-Match", etag, "If-Unmodified-Since", past}, 200},           // If-Match wins
		{[]string{"If-None-Match", etag, "If-Modified-Since", past}, 304},        // If-None-Match wins
		{[]string{"If-None-Match", `"other"`, "If-Modified-Since", future}, 200}, // If-Modified-Since ignored
		{[]string{"If-Match", `"other"`, "If-None-Match", etag}, 412},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := e.do(e.signedReq(method, "/bkt/obj", nil, c.hdr...))
			if resp.StatusCode != c.status {
				t.Errorf("%s %v: %d, want %d", method, c.hdr, resp.StatusCode, c.status)
			}
			if resp.StatusCode == 304 && (resp.Header.Get("ETag") != etag || len(body) != 0) {
				t.Errorf("304: %v %q", resp.Header, body)
			}
		}
	}

	// response-* overrides.
	resp, _ = e.must(200, "GET", "/bkt/obj?response-content-type=text%2Fx&response-cache-control=no-cache&response-expires=never", nil)
	if resp.Header.Get("Content-Type") != "text/x" || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Expires") != "never" {
		t.Errorf("overrides %v", resp.Header)
	}

	// Copy carries the CID too.
	resp, body := e.must(200, "PUT", "/bkt/copy", nil, "X-Amz-Copy-Source", "/bkt/obj?versionId=null")
	var cr struct{ ETag, LastModified string }
	if err := xml.Unmarshal(body, &cr); err != nil || cr.ETag != etag || resp.Header.Get("X-Cairn-Cid") != cid {
		t.Fatalf("copy: %v %s %v", err, body, resp.Header)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(cr.LastModified) {
		t.Errorf("LastModified %q not ISO 8601 with milliseconds", cr.LastModified)
	}
	e.must(204, "DELETE", "/bkt/copy", nil)
	e.must(204, "DELETE", "/bkt/copy", nil) // deleting a missing key succeeds
}

func TestDeleteObjectsResult(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/a", []byte("a"))
	long := strings.Repeat("k", 1025)
	req := `<Delete><Object><Key>a</Key></Object><Object><Key>` + long + `</Key></Object>` +
		`<Object><Key>b</Key><VersionId>v1</VersionId></Object><Object><Key>missing</Key></Object></Delete>`
	_, body := e.must(200, "POST", "/bkt?delete", []byte(req), "Content-MD5", b64MD5([]byte(req)))
	var res struct {
		Deleted []struct{ Key string }
		Error   []struct{ Key, Code string }
	}
	if err := xml.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 2 || res.Deleted[0].Key != "a" || res.Deleted[1].Key != "missing" ||
		len(res.Error) != 2 || res.Error[0].Code != "KeyTooLongError" || res.Error[1].Code != "NoSuchVersion" {
		t.Fatalf("result %s", body)
	}
	quiet := `<Delete><Quiet>true</Quiet><Object><Key>x</Key></Object></Delete>`
	_, body = e.must(200, "POST", "/bkt?delete", []byte(quiet))
	if strings.Contains(string(body), "<Deleted>") {
		t.Fatalf("quiet result lists deletions: %s", body)
	}
}

func TestListEncodingAndOwner(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/a%20b%2Bc/%01", []byte("x"))
	_, body := e.must(200, "GET", "/bkt?list-type=2&encoding-type=url&fetch-owner=true&prefix=a%20", nil)
	s := string(body)
	for _, want := range []string{
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		"<Key>a%20b%2Bc/%01</Key>", "<Prefix>a%20</Prefix>", "<EncodingType>url</EncodingType>",
		"<Owner><ID>" + testAK, "<KeyCount>1</KeyCount>", "<StorageClass>STANDARD</StorageClass>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in %s", want, s)
		}
	}
	_, body = e.must(200, "GET", "/bkt?list-type=2", nil)
	if strings.Contains(string(body), "<Owner>") {
		t.Errorf("owner without fetch-owner: %s", body)
	}
	_, body = e.must(200, "GET", "/bkt?list-type=2&max-keys=0", nil)
	if !strings.Contains(string(body), "<KeyCount>0</KeyCount>") {
		t.Errorf("max-keys=0: %s", body)
	}
	_, body = e.must(200, "GET", "/bkt?location", nil)
	if !strings.Contains(string(body), `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`) {
		t.Errorf("location: %s", body)
	}
	_, body = e.must(200, "GET", "/", nil)
	if !strings.Contains(string(body), "<Name>bkt</Name>") {
		t.Errorf("list buckets: %s", body)
	}
}

// TestVirtualHostRaw addresses a bucket through the Host header, with and
// without a port, and checks that a Host outside the domains is path style.
func TestVirtualHostRaw(t *testing.T) {
	e := newTestEnv(t, false, func(c *Config) { c.Domains = []string{"s3.example.test", "localhost"} })
	e.must(200, "PUT", "/vbkt", nil)
	for _, host := range []string{"vbkt.s3.example.test", "vbkt.s3.example.test:9000", "VBKT.S3.Example.Test"} {
		req := e.signedReq("PUT", "/dir/key", []byte("v"))
		req.Host = host
		resp, body := e.do(signAgain(req))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", host, resp.StatusCode, body)
		}
	}
	if _, err := e.be.GetObject(t.Context(), "vbkt", "dir/key"); err != nil {
		t.Fatal(err)
	}
	// The bare domain is path style.
	req := e.signedReq("GET", "/vbkt/dir/key", nil)
	req.Host = "s3.example.test"
	if resp, body := e.do(signAgain(req)); resp.StatusCode != 200 || string(body) != "v" {
		t.Fatalf("bare domain: %d %s", resp.StatusCode, body)
	}
}

// faultyBackend fails in ways a real store can.
type faultyBackend struct {
	*memBackend
	listErr error
}

func (f *faultyBackend) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	return f.memBackend.ListBuckets(ctx)
}

func (f *faultyBackend) GetObject(ctx context.Context, bucket, key string) (Object, error) {
	o, err := f.memBackend.GetObject(ctx, bucket, key)
	if err != nil || key != "broken" {
		return o, err
	}
	return brokenObject{o}, nil
}

// brokenObject fails half way through its bytes, as a chunk that fails its
// content address would.
type brokenObject struct{ Object }

func (b brokenObject) Open(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	rc, err := b.Object.Open(ctx, off, n/2)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.MultiReader(rc, iotest.ErrReader(errors.New("shard verification failed")))), nil
}

func TestBackendFailures(t *testing.T) {
	fb := &faultyBackend{}
	e := newTestEnv(t, false, func(c *Config) {
		fb.memBackend = c.Backend.(*memBackend)
		c.Backend = fb
	})
	fb.listErr = fmt.Errorf("open /var/lib/cairn/secret: %w", errors.New("disk on fire"))
	resp, body := e.do(e.signedReq("GET", "/", nil))
	wantError(t, resp, body, 500, "InternalError")
	if strings.Contains(string(body), "secret") || strings.Contains(string(body), "fire") {
		t.Fatalf("internal detail leaked: %s", body)
	}
	fb.listErr = fmt.Errorf("placing stripe: %w", ErrSlowDown)
	resp, body = e.do(e.signedReq("GET", "/", nil))
	wantError(t, resp, body, 503, "SlowDown")
	fb.listErr = nil

	e.must(200, "PUT", "/bkt", nil)
	data := randBytes(1<<20, 5)
	e.must(200, "PUT", "/bkt/broken", data)
	resp, err := e.ts.Client().Do(e.signedReq("GET", "/bkt/broken", nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil || len(got) >= len(data) {
		t.Fatalf("a failing read must cut the response short: %d, %d bytes, %v", resp.StatusCode, len(got), err)
	}
}

func TestMiscRequests(t *testing.T) {
	e := newTestEnv(t, false)
	cfg := []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>US</LocationConstraint></CreateBucketConfiguration>`)
	resp, _ := e.must(200, "PUT", "/withcfg", cfg)
	if resp.Header.Get("Location") != "/withcfg" {
		t.Errorf("Location %q", resp.Header.Get("Location"))
	}
	// Clients cannot sign a key that is not UTF-8 consistently; parseOp
	// refuses it.
	if _, err := parseOp(httptest.NewRequest("PUT", "/withcfg/%FF%FE", nil), nil); !errors.Is(err, errInvalidArgument) {
		t.Errorf("invalid UTF-8 key: %v", err)
	}
	resp, _ = e.must(200, "HEAD", "/withcfg", nil)
	if resp.Header.Get("X-Amz-Bucket-Region") != testRegion {
		t.Errorf("HeadBucket headers %v", resp.Header)
	}
	_, body := e.must(200, "GET", "/withcfg?versioning", nil)
	if !strings.Contains(string(body), "<VersioningConfiguration") {
		t.Errorf("versioning: %s", body)
	}
	// Keys with characters that need care in paths and signatures.
	for _, k := range []string{"a b", "a+b", "a%b", "ü/ñ", "a//b", "trailing/", "~tilde", "semi;colon", "q?mark", "#hash", "*star", "(paren)", "!bang", "'quote'", "=eq&amp"} {
		path := "/withcfg/" + uriEncode(k, false)
		e.must(200, "PUT", path, []byte(k))
		if _, body := e.must(200, "GET", path, nil); string(body) != k {
			t.Errorf("key %q read back %q", k, body)
		}
	}
	// A CompleteMultipartUpload whose part ETags arrive unquoted, quoted,
	// and entity-escaped.
	_, body = e.must(200, "POST", "/withcfg/mp?uploads", nil)
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &init); err != nil {
		t.Fatal(err)
	}
	part := randBytes(5<<20, 9)
	r1, _ := e.must(200, "PUT", "/withcfg/mp?partNumber=1&uploadId="+init.UploadID, part)
	r2, _ := e.must(200, "PUT", "/withcfg/mp?partNumber=2&uploadId="+init.UploadID, []byte("end"))
	doc := completeXML("1", strings.ReplaceAll(r1.Header.Get("ETag"), `"`, "&quot;"), "2", strings.Trim(r2.Header.Get("ETag"), `"`))
	resp, body = e.must(200, "POST", "/withcfg/mp?uploadId="+init.UploadID, doc)
	var done struct{ Location, Bucket, Key, ETag string }
	if err := xml.Unmarshal(body, &done); err != nil || done.Key != "mp" || !strings.HasSuffix(done.ETag, `-2"`) ||
		resp.Header.Get("X-Cairn-Cid") != fakeCID(append(part, "end"...)) || !strings.HasSuffix(done.Location, "/withcfg/mp") {
		t.Fatalf("complete: %s %v", body, resp.Header)
	}
	// Part 1 of the multipart object is its first part.
	resp, body = e.must(206, "GET", "/withcfg/mp?partNumber=1", nil)
	if !bytes.Equal(body, part) || resp.Header.Get("X-Amz-Mp-Parts-Count") != "2" {
		t.Fatalf("part 1: %d bytes, headers %v", len(body), resp.Header)
	}
}
