package s3gw

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// TestCreateBucketTwice: in us-east-1, S3 answers 200 to creating a bucket
// its owner has already; elsewhere 409 BucketAlreadyOwnedByYou.
func TestCreateBucketTwice(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/obj", []byte("kept"))
	e.must(200, "PUT", "/bkt", nil)
	if _, body := e.must(200, "GET", "/bkt/obj", nil); string(body) != "kept" {
		t.Fatalf("the bucket's object after a second create: %q", body)
	}

	eu := newTestEnv(t, false, func(c *Config) { c.Region = "eu-west-1" })
	put := func() (*http.Response, []byte) {
		req, err := http.NewRequest("PUT", eu.ts.URL+"/bkt", http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex(nil))
		return eu.do(signer.SignV4(*req, testAK, testSK, "", "eu-west-1"))
	}
	if resp, body := put(); resp.StatusCode != 200 {
		t.Fatalf("first create in eu-west-1: %d %s", resp.StatusCode, body)
	}
	resp, body := put()
	wantError(t, resp, body, 409, "BucketAlreadyOwnedByYou")
}

// TestLocationConstraint: the gateway's region, or its legacy name ("US",
// which s3cmd sends, for us-east-1), is accepted; another region is S3's
// IllegalLocationConstraintException.
func TestLocationConstraint(t *testing.T) {
	e := newTestEnv(t, false)
	doc := func(c string) []byte {
		return []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>` + c + `</LocationConstraint></CreateBucketConfiguration>`)
	}
	e.must(200, "PUT", "/us-legacy", doc("US"))
	e.must(200, "PUT", "/us-named", doc(testRegion))
	e.must(200, "PUT", "/us-none", doc(""))
	for _, c := range []string{"EU", "eu-west-1", "mars-north-1"} {
		resp, body := e.do(e.signedReq("PUT", "/elsewhere", doc(c)))
		wantError(t, resp, body, 400, "IllegalLocationConstraintException")
	}
	resp, body := e.do(e.signedReq("HEAD", "/elsewhere", nil))
	wantError(t, resp, body, 404, "NoSuchBucket")
}

// TestAnonymousNoSuchBucket: S3 tells an anonymous request that a bucket
// does not exist (404 NoSuchBucket) before refusing it (403 AccessDenied).
func TestAnonymousNoSuchBucket(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	e.must(200, "PUT", "/bkt/obj", []byte("x"))
	anon := func(method, path string) (*http.Response, []byte) {
		req, err := http.NewRequest(method, e.ts.URL+path, http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		return e.do(req)
	}
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nobucket/obj", 404, "NoSuchBucket"},
		{"GET", "/nobucket", 404, "NoSuchBucket"},
		{"PUT", "/nobucket/obj", 404, "NoSuchBucket"},
		{"HEAD", "/nobucket", 404, ""},
		{"GET", "/bkt/obj", 403, "AccessDenied"},
		{"GET", "/bkt", 403, "AccessDenied"},
		{"PUT", "/newbucket", 403, "AccessDenied"}, // creating: no bucket to name
		{"GET", "/", 403, "AccessDenied"},
	} {
		resp, body := anon(c.method, c.path)
		if c.method == "HEAD" {
			if resp.StatusCode != c.status {
				t.Errorf("anonymous %s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
			}
			continue
		}
		if resp.StatusCode != c.status || s3Code(t, body) != c.code {
			t.Errorf("anonymous %s %s: %d %s, want %d %s", c.method, c.path, resp.StatusCode, s3Code(t, body), c.status, c.code)
		}
	}
}

// TestEmptyContinuationToken: an empty continuation-token is no token.
func TestEmptyContinuationToken(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	for _, k := range []string{"a", "b", "c"} {
		e.must(200, "PUT", "/bkt/"+k, []byte(k))
	}
	var res struct {
		KeyCount          int
		ContinuationToken *string
		Contents          []struct{ Key string }
	}
	_, body := e.must(200, "GET", "/bkt?list-type=2&continuation-token=", nil)
	if err := xml.Unmarshal(body, &res); err != nil || res.KeyCount != 3 || res.ContinuationToken != nil {
		t.Fatalf("empty token: %v %s", err, body)
	}
	res.Contents = nil
	_, body = e.must(200, "GET", "/bkt?list-type=2&continuation-token=&start-after=a", nil)
	if err := xml.Unmarshal(body, &res); err != nil || len(res.Contents) != 2 || res.Contents[0].Key != "b" {
		t.Fatalf("empty token with start-after: %v %s", err, body)
	}
	resp, body := e.do(e.signedReq("GET", "/bkt?list-type=2&continuation-token=%21%21", nil))
	wantError(t, resp, body, 400, "InvalidArgument")
}

// multipartObject makes bkt/mp of three parts (5 MiB, 5 MiB, "end") and
// returns the parts.
func multipartObject(t *testing.T, e *testEnv) [][]byte {
	t.Helper()
	_, body := e.must(200, "POST", "/bkt/mp?uploads", nil)
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &init); err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{randBytes(5<<20, 21), randBytes(5<<20, 22), []byte("end")}
	var doc []string
	for i, p := range parts {
		resp, _ := e.must(200, "PUT", fmt.Sprintf("/bkt/mp?partNumber=%d&uploadId=%s", i+1, init.UploadID), p)
		doc = append(doc, strconv.Itoa(i+1), resp.Header.Get("ETag"))
	}
	e.must(200, "POST", "/bkt/mp?uploadId="+init.UploadID, completeXML(doc...))
	return parts
}

// TestPartNumber: GET and HEAD with partNumber read one part of a
// multipart object (206, Content-Range, x-amz-mp-parts-count); part 1 of
// any other object is all of it; a part the object does not have is 416
// InvalidPartNumber.
func TestPartNumber(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	parts := multipartObject(t, e)
	total := len(parts[0]) + len(parts[1]) + len(parts[2])
	start := 0
	for i, p := range parts {
		want := fmt.Sprintf("bytes %d-%d/%d", start, start+len(p)-1, total)
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := e.must(206, method, fmt.Sprintf("/bkt/mp?partNumber=%d", i+1), nil)
			h := resp.Header
			if h.Get("Content-Range") != want || h.Get("X-Amz-Mp-Parts-Count") != "3" || h.Get("Content-Length") != strconv.Itoa(len(p)) {
				t.Errorf("%s part %d: headers %v, want Content-Range %q", method, i+1, h, want)
			}
			if method == "GET" && !bytes.Equal(body, p) {
				t.Errorf("part %d: %d bytes differ from the part's %d", i+1, len(body), len(p))
			}
		}
		start += len(p)
	}
	c := e.minio()
	var o minio.GetObjectOptions
	o.PartNumber = 2
	if got := getAll(t, c, "bkt", "mp", o); !bytes.Equal(got, parts[1]) {
		t.Errorf("minio-go part 2: %d bytes", len(got))
	}
	for _, path := range []string{"/bkt/mp?partNumber=4", "/bkt/mp?partNumber=10000"} {
		resp, body := e.do(e.signedReq("GET", path, nil))
		wantError(t, resp, body, 416, "InvalidPartNumber")
	}
	resp, body := e.do(e.signedReq("GET", "/bkt/mp?partNumber=0", nil))
	wantError(t, resp, body, 400, "InvalidArgument")
	resp, body = e.do(e.signedReq("GET", "/bkt/mp?partNumber=1", nil, "Range", "bytes=0-1"))
	wantError(t, resp, body, 400, "InvalidRequest")

	e.must(200, "PUT", "/bkt/simple", []byte("simple object"))
	resp, body = e.must(206, "GET", "/bkt/simple?partNumber=1", nil)
	if string(body) != "simple object" || resp.Header.Get("Content-Range") != "bytes 0-12/13" || resp.Header.Get("X-Amz-Mp-Parts-Count") != "" {
		t.Errorf("part 1 of a simple object: %q %v", body, resp.Header)
	}
	resp, body = e.do(e.signedReq("GET", "/bkt/simple?partNumber=2", nil))
	wantError(t, resp, body, 416, "InvalidPartNumber")
}

// TestGetObjectAttributes checks the document on the wire.
func TestGetObjectAttributes(t *testing.T) {
	e := newTestEnv(t, false)
	e.must(200, "PUT", "/bkt", nil)
	parts := multipartObject(t, e)
	resp, _ := e.must(200, "HEAD", "/bkt/mp", nil)
	etag := strings.Trim(resp.Header.Get("ETag"), `"`)
	type part struct{ PartNumber, Size int64 }
	var got struct {
		XMLName      xml.Name
		ETag         string
		StorageClass string
		ObjectSize   int64
		ObjectParts  *struct {
			IsTruncated          bool
			MaxParts             int
			NextPartNumberMarker int
			PartNumberMarker     int
			PartsCount           int
			Part                 []part
		}
	}
	_, body := e.must(200, "GET", "/bkt/mp?attributes", nil,
		"X-Amz-Object-Attributes", "ETag,ObjectSize,StorageClass,ObjectParts", "X-Amz-Max-Parts", "2")
	if err := xml.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	size := int64(len(parts[0]) + len(parts[1]) + len(parts[2]))
	op := got.ObjectParts
	if got.XMLName.Local != "GetObjectAttributesResponse" || got.ETag != etag || got.StorageClass != "STANDARD" || got.ObjectSize != size ||
		op == nil || !op.IsTruncated || op.MaxParts != 2 || op.NextPartNumberMarker != 2 || op.PartsCount != 3 ||
		!slices.Equal(op.Part, []part{{1, 5 << 20}, {2, 5 << 20}}) {
		t.Fatalf("attributes: %s", body)
	}
	_, body = e.must(200, "GET", "/bkt/mp?attributes", nil, "X-Amz-Object-Attributes", "ObjectParts", "X-Amz-Part-Number-Marker", "2")
	got.ObjectParts, got.ETag = nil, ""
	if err := xml.Unmarshal(body, &got); err != nil || got.ETag != "" || got.ObjectParts == nil || got.ObjectParts.IsTruncated ||
		!slices.Equal(got.ObjectParts.Part, []part{{3, 3}}) {
		t.Fatalf("attributes after part 2: %v %s", err, body)
	}
	// A simple object has no ObjectParts.
	e.must(200, "PUT", "/bkt/simple", []byte("simple"))
	_, body = e.must(200, "GET", "/bkt/simple?attributes", nil, "X-Amz-Object-Attributes", "ObjectParts,ObjectSize")
	if strings.Contains(string(body), "ObjectParts") || !strings.Contains(string(body), "<ObjectSize>6</ObjectSize>") {
		t.Fatalf("simple object: %s", body)
	}
	resp, body = e.do(e.signedReq("GET", "/bkt/simple?attributes", nil))
	wantError(t, resp, body, 400, "InvalidRequest")
	resp, body = e.do(e.signedReq("GET", "/bkt/simple?attributes", nil, "X-Amz-Object-Attributes", "ETag,Colour"))
	wantError(t, resp, body, 400, "InvalidArgument")
	resp, body = e.do(e.signedReq("GET", "/bkt/missing?attributes", nil, "X-Amz-Object-Attributes", "ETag"))
	wantError(t, resp, body, 404, "NoSuchKey")
}

// TestListBucketsPages: max-buckets, continuation-token and prefix.
func TestListBucketsPages(t *testing.T) {
	e := newTestEnv(t, false)
	for _, b := range []string{"b-1", "a-3", "a-1", "a-2"} {
		e.must(200, "PUT", "/"+b, nil)
	}
	type page struct {
		Names             []string `xml:"Buckets>Bucket>Name"`
		ContinuationToken string
		Prefix            string
	}
	list := func(query string) page {
		t.Helper()
		_, body := e.must(200, "GET", "/?"+query, nil)
		var p page
		if err := xml.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := list("max-buckets=2")
	if !slices.Equal(p.Names, []string{"a-1", "a-2"}) || p.ContinuationToken == "" {
		t.Fatalf("page 1: %+v", p)
	}
	p = list("max-buckets=2&continuation-token=" + url.QueryEscape(p.ContinuationToken))
	if !slices.Equal(p.Names, []string{"a-3", "b-1"}) || p.ContinuationToken != "" {
		t.Fatalf("page 2: %+v", p)
	}
	p = list("prefix=a-&max-buckets=2")
	if !slices.Equal(p.Names, []string{"a-1", "a-2"}) || p.Prefix != "a-" || p.ContinuationToken == "" {
		t.Fatalf("prefix page 1: %+v", p)
	}
	p = list("prefix=a-&max-buckets=2&continuation-token=" + url.QueryEscape(p.ContinuationToken))
	if !slices.Equal(p.Names, []string{"a-3"}) || p.ContinuationToken != "" {
		t.Fatalf("prefix page 2: %+v", p)
	}
	if p := list(""); len(p.Names) != 4 || p.ContinuationToken != "" {
		t.Fatalf("all: %+v", p)
	}
	for _, q := range []string{"max-buckets=0", "max-buckets=10001", "max-buckets=x", "continuation-token=%21"} {
		resp, body := e.do(e.signedReq("GET", "/?"+q, nil))
		wantError(t, resp, body, 400, "InvalidArgument")
	}
}
