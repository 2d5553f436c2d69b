package s3gw

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// policyCreds are memCreds with a policy per key.
type policyCreds struct {
	memCreds
	policies map[string]*KeyPolicy
}

func (p policyCreds) KeyPolicy(ctx context.Context, ak string) (string, *KeyPolicy, error) {
	secret, err := p.SecretKey(ctx, ak)
	return secret, p.policies[ak], err
}

// TestKeyPolicies: what a read-only, a bucket and a prefix key may do,
// and the AccessDenied of everything else.
func TestKeyPolicies(t *testing.T) {
	const (
		roAK, roSK     = "READONLYKEY", "read-only-secret"
		bktAK, bktSK   = "BUCKETKEY", "bucket-secret"
		pfxAK, pfxSK   = "PREFIXKEY", "prefix-secret"
		roPfxAK, roPfx = "ROPREFIXKEY", "ro-prefix-secret"
	)
	creds := policyCreds{
		memCreds: memCreds{testAK: testSK, roAK: roSK, bktAK: bktSK, pfxAK: pfxSK, roPfxAK: roPfx},
		policies: map[string]*KeyPolicy{
			roAK:    {ReadOnly: true},
			bktAK:   {Bucket: "mine"},
			pfxAK:   {Bucket: "mine", Prefix: "team/"},
			roPfxAK: {ReadOnly: true, Bucket: "mine", Prefix: "team/"},
		},
	}
	e := newTestEnv(t, false, func(c *Config) { c.Credentials = creds })
	e.must(200, "PUT", "/mine", nil)
	e.must(200, "PUT", "/other", nil)
	e.must(200, "PUT", "/mine/team/a", []byte("a"))
	e.must(200, "PUT", "/mine/top", []byte("top"))
	e.must(200, "PUT", "/other/x", []byte("x"))

	type req struct {
		method, path string
		body         []byte
		hdr          []string
	}
	deleteDoc := []byte(`<Delete><Object><Key>team/gone</Key></Object><Object><Key>top</Key></Object></Delete>`)
	cases := []struct {
		ak, sk string
		req
		status int
	}{
		// read-only, every bucket
		{roAK, roSK, req{"GET", "/mine/top", nil, nil}, 200},
		{roAK, roSK, req{"HEAD", "/other/x", nil, nil}, 200},
		{roAK, roSK, req{"GET", "/", nil, nil}, 200},
		{roAK, roSK, req{"GET", "/mine?list-type=2", nil, nil}, 200},
		{roAK, roSK, req{"PUT", "/mine/new", []byte("n"), nil}, 403},
		{roAK, roSK, req{"DELETE", "/mine/top", nil, nil}, 403},
		{roAK, roSK, req{"POST", "/mine/mp?uploads", nil, nil}, 403},
		{roAK, roSK, req{"PUT", "/newbucket", nil, nil}, 403},
		{roAK, roSK, req{"PUT", "/mine/c", nil, []string{"X-Amz-Copy-Source", "/mine/top"}}, 403},
		// read-write, one bucket
		{bktAK, bktSK, req{"PUT", "/mine/b", []byte("b"), nil}, 200},
		{bktAK, bktSK, req{"GET", "/mine/b", nil, nil}, 200},
		{bktAK, bktSK, req{"GET", "/other/x", nil, nil}, 403},
		{bktAK, bktSK, req{"PUT", "/other/y", []byte("y"), nil}, 403},
		{bktAK, bktSK, req{"GET", "/", nil, nil}, 403},
		{bktAK, bktSK, req{"PUT", "/mine/c", nil, []string{"X-Amz-Copy-Source", "/other/x"}}, 403},
		{bktAK, bktSK, req{"PUT", "/mine/c", nil, []string{"X-Amz-Copy-Source", "/mine/top"}}, 200},
		// read-write, a prefix
		{pfxAK, pfxSK, req{"PUT", "/mine/team/b", []byte("b"), nil}, 200},
		{pfxAK, pfxSK, req{"GET", "/mine/team/a", nil, nil}, 200},
		{pfxAK, pfxSK, req{"GET", "/mine/top", nil, nil}, 403},
		{pfxAK, pfxSK, req{"PUT", "/mine/top", []byte("t"), nil}, 403},
		{pfxAK, pfxSK, req{"GET", "/mine?list-type=2&prefix=team/", nil, nil}, 200},
		{pfxAK, pfxSK, req{"GET", "/mine?list-type=2", nil, nil}, 403},
		{pfxAK, pfxSK, req{"GET", "/mine?list-type=2&prefix=te", nil, nil}, 403},
		{pfxAK, pfxSK, req{"DELETE", "/mine", nil, nil}, 403},
		{pfxAK, pfxSK, req{"HEAD", "/mine", nil, nil}, 200},
		{pfxAK, pfxSK, req{"PUT", "/mine/team/c", nil, []string{"X-Amz-Copy-Source", "/mine/top"}}, 403},
		// read-only, a prefix
		{roPfxAK, roPfx, req{"GET", "/mine/team/a", nil, nil}, 200},
		{roPfxAK, roPfx, req{"PUT", "/mine/team/z", []byte("z"), nil}, 403},
		{roPfxAK, roPfx, req{"POST", "/mine?delete", deleteDoc, []string{"Content-MD5", b64MD5(deleteDoc)}}, 403},
	}
	for _, c := range cases {
		resp, body := e.do(e.signedReqAs(c.ak, c.sk, c.method, c.path, c.body, c.hdr...))
		if resp.StatusCode != c.status {
			t.Errorf("%s %s %s: %d, want %d\n%s", c.ak, c.method, c.path, resp.StatusCode, c.status, body)
			continue
		}
		if c.status == 403 && c.method != "HEAD" && s3Code(t, body) != "AccessDenied" {
			t.Errorf("%s %s %s: %s, want AccessDenied", c.ak, c.method, c.path, s3Code(t, body))
		}
	}
	// DeleteObjects with a prefix key: the keys outside it are refused one
	// by one, the others deleted.
	e.must(200, "PUT", "/mine/team/gone", []byte("g"))
	_, body := e.do(e.signedReqAs(pfxAK, pfxSK, "POST", "/mine?delete", deleteDoc, "Content-MD5", b64MD5(deleteDoc)))
	if s := string(body); !containsAll(s, "<Deleted><Key>team/gone</Key></Deleted>", "<Error><Key>top</Key><Code>AccessDenied</Code>") {
		t.Fatalf("DeleteObjects with a prefix key: %s", body)
	}
	e.must(200, "GET", "/mine/top", nil)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestKeyPolicyPostUpload: a browser POST upload is a write by the key
// that signed its policy, so a read-only key's signature stores nothing
// (403 AccessDenied) where an unrestricted key's stores the file.
func TestKeyPolicyPostUpload(t *testing.T) {
	const roAK, roSK = "READONLYKEY", "read-only-secret"
	creds := policyCreds{
		memCreds: memCreds{testAK: testSK, roAK: roSK},
		policies: map[string]*KeyPolicy{roAK: {ReadOnly: true}},
	}
	e := newTestEnv(t, false, func(c *Config) { c.Credentials = creds })
	e.must(200, "PUT", "/mine", nil)
	post := func(ak, sk, key string) (int, string) {
		t.Helper()
		policy := base64.StdEncoding.EncodeToString([]byte(`{"expiration":"` +
			time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z") +
			`","conditions":[{"bucket":"mine"},["starts-with","$key",""]]}`))
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, f := range [][2]string{{"key", key}, {"AWSAccessKeyId", ak}, {"policy", policy}, {"signature", signV2(sk, policy)}} {
			if err := mw.WriteField(f[0], f[1]); err != nil {
				t.Fatal(err)
			}
		}
		fw, err := mw.CreateFormFile("file", "f.txt")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte("posted"))
		mw.Close()
		req, err := http.NewRequest("POST", e.ts.URL+"/mine", &body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(roAK, roSK, "by-read-only"); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("POST upload signed by a read-only key: %d %s, want 403 AccessDenied", code, body)
	}
	e.must(404, "GET", "/mine/by-read-only", nil)
	if code, body := post(testAK, testSK, "by-full-key"); code != 204 {
		t.Fatalf("POST upload signed by an unrestricted key: %d %s, want 204", code, body)
	}
	if _, got := e.must(200, "GET", "/mine/by-full-key", nil); string(got) != "posted" {
		t.Fatalf("the posted object reads %q", got)
	}
}
