package s3gw

import (
	"encoding/xml"
	"net/http"
	"testing"

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
