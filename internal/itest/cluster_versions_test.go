//go:build integration

package itest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// TestClusterVersions (issue 14, item 6): in the six-process cluster,
// every version of an object written through one gateway, and a delete
// marker over them, read back through every gateway after two storage
// nodes are SIGKILLed: versions' chunks are erasure coded and placed as
// objects' are. So do the other families of issue 14, written beside
// them (families): an SSE-C object (read with its key only), an SSE-S3
// one, a tagged one (its tags too), a version under COMPLIANCE retention
// (which still refuses DELETE), a multipart object (and a partNumber
// GET), and an object anonymous requests may read under a bucket policy.
func TestClusterVersions(t *testing.T) {
	c := newTestCluster(t, nil)
	ctx := ctxT(t)
	c.bringUp(ctx)
	s3 := c.s3(c.gateways()[0])
	if err := s3.MakeBucket(ctx, "versions", minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatal(err)
	}
	if err := s3.EnableVersioning(ctx, "versions"); err != nil {
		t.Fatal(err)
	}
	type version struct {
		id   string
		data []byte
	}
	var vs []version
	for i, size := range []int{300 << 10, 3*MiB + 7, 1} {
		data := payloadBytes(uint64(500+i), int64(size))
		info, err := s3.PutObject(ctx, "versions", "k", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, version{info.VersionID, data})
	}
	if err := s3.RemoveObject(ctx, "versions", "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	fam := writeFamilies(t, c, c.gateways()[0])
	var storageOnly []*clusterNode
	for _, n := range c.nodes {
		if !n.meta && !n.s3 {
			storageOnly = append(storageOnly, n)
		}
	}
	if len(storageOnly) < 2 {
		t.Fatalf("%d storage-only nodes", len(storageOnly))
	}
	for _, n := range storageOnly[:2] {
		t.Logf("killing %s", n.name)
		n.kill()
	}
	for _, gw := range c.gateways() {
		cl := c.s3(gw)
		if _, err := cl.StatObject(ctx, "versions", "k", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
			t.Fatalf("%s: stat under a delete marker: %v", gw.name, err)
		}
		for _, v := range vs {
			o, err := cl.GetObject(ctx, "versions", "k", minio.GetObjectOptions{VersionID: v.id})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(o)
			if err != nil || !bytes.Equal(got, v.data) {
				t.Fatalf("%s: version %s read %d of %d bytes: %v", gw.name, v.id, len(got), len(v.data), err)
			}
		}
		n := 0
		for o := range cl.ListObjects(ctx, "versions", minio.ListObjectsOptions{WithVersions: true, Prefix: "k"}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			n++
		}
		if n != len(vs)+1 {
			t.Fatalf("%s lists %d versions, want %d", gw.name, n, len(vs)+1)
		}
		t.Log(fmt.Sprintf("%s: %d versions read back with two storage nodes down", gw.name, len(vs)))
		fam.check(t, c, gw)
	}
}

// families are objects of each kind issue 14 added, written through one
// gateway for TestClusterVersions to read back through every gateway
// once two storage nodes are down. Each is above the inline size, so
// that its chunks are erasure coded on the storage nodes.
type families struct {
	ssecKey                     []byte
	ssec, sses3, tagged, locked []byte
	multi                       []byte
	multiPart1                  int64
	lockedVersion, publicDoc    string
	tags                        map[string]string
	publicData                  []byte
}

func writeFamilies(t *testing.T, c *testCluster, gw *clusterNode) *families {
	t.Helper()
	ctx := ctxT(t)
	s3 := c.s3(gw)
	f := &families{
		ssecKey: bytes.Repeat([]byte{0x7E}, 32),
		ssec:    payloadBytes(601, 100<<10), sses3: payloadBytes(602, 90<<10+1), tagged: payloadBytes(603, 80<<10+2),
		locked: payloadBytes(604, 70<<10+3), multi: payloadBytes(605, 5*MiB+70<<10), multiPart1: 5 * MiB,
		tags: map[string]string{"family": "tagged", "kept": "after kills"}, publicData: payloadBytes(606, 75<<10+4),
	}
	// SSE-C and SSE-S3, with hand-signed requests (minio-go sends
	// customer keys over TLS only; the gateways are on loopback).
	do(t, familyReq(t, c, gw, "PUT", "/versions/ssec", nil, f.ssec, ssec(objSSEC, f.ssecKey)))
	do(t, familyReq(t, c, gw, "PUT", "/versions/sses3", nil, f.sses3, map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}))
	if _, err := s3.PutObject(ctx, "versions", "tagged", bytes.NewReader(f.tagged), int64(len(f.tagged)), minio.PutObjectOptions{UserTags: f.tags}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3.PutObject(ctx, "versions", "multi", bytes.NewReader(f.multi), int64(len(f.multi)), minio.PutObjectOptions{PartSize: uint64(f.multiPart1)}); err != nil {
		t.Fatal(err)
	}
	if err := s3.MakeBucket(ctx, "locked", minio.MakeBucketOptions{Region: region, ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	mode := minio.Compliance
	info, err := s3.PutObject(ctx, "locked", "k", bytes.NewReader(f.locked), int64(len(f.locked)), minio.PutObjectOptions{
		Mode: mode, RetainUntilDate: time.Now().Add(time.Hour), SendContentMd5: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.lockedVersion = info.VersionID
	if err := s3.MakeBucket(ctx, "public", minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatal(err)
	}
	if err := s3.SetBucketPolicy(ctx, "public", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",`+
		`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::public/docs/*"]}]}`); err != nil {
		t.Fatal(err)
	}
	f.publicDoc = "docs/readme"
	if _, err := s3.PutObject(ctx, "public", f.publicDoc, bytes.NewReader(f.publicData), int64(len(f.publicData)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func familyReq(t *testing.T, c *testCluster, gw *clusterNode, method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
	t.Helper()
	return signed(t, &proc{t: t, endpoint: gw.s3addr, access: c.access}, method, path, q, body, hdr, time.Now(), c.secret)
}

// check reads every family back through gw, byte for byte, and checks
// that what protects them still does.
func (f *families) check(t *testing.T, c *testCluster, gw *clusterNode) {
	t.Helper()
	ctx := ctxT(t)
	s3 := c.s3(gw)
	get := func(bucket, key string, opts minio.GetObjectOptions) []byte {
		t.Helper()
		o, err := s3.GetObject(ctx, bucket, key, opts)
		if err != nil {
			t.Fatalf("%s: GET %s/%s: %v", gw.name, bucket, key, err)
		}
		b, err := io.ReadAll(o)
		if err != nil {
			t.Fatalf("%s: GET %s/%s: %v", gw.name, bucket, key, err)
		}
		return b
	}
	resp, got := send(t, familyReq(t, c, gw, "GET", "/versions/ssec", nil, nil, ssec(objSSEC, f.ssecKey)))
	if resp.StatusCode != 200 || !bytes.Equal(got, f.ssec) {
		t.Fatalf("%s: SSE-C object with its key: %d, %d of %d bytes", gw.name, resp.StatusCode, len(got), len(f.ssec))
	}
	wantStatus(t, familyReq(t, c, gw, "GET", "/versions/ssec", nil, nil, nil), 400, "InvalidRequest")
	resp, got = send(t, familyReq(t, c, gw, "GET", "/versions/sses3", nil, nil, nil))
	if resp.StatusCode != 200 || !bytes.Equal(got, f.sses3) || resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("%s: SSE-S3 object: %d, %d of %d bytes, encryption %q", gw.name, resp.StatusCode, len(got), len(f.sses3), resp.Header.Get("X-Amz-Server-Side-Encryption"))
	}
	if got := get("versions", "tagged", minio.GetObjectOptions{}); !bytes.Equal(got, f.tagged) {
		t.Fatalf("%s: tagged object read %d of %d bytes", gw.name, len(got), len(f.tagged))
	}
	tg, err := s3.GetObjectTagging(ctx, "versions", "tagged", minio.GetObjectTaggingOptions{})
	if err != nil || !maps.Equal(tg.ToMap(), f.tags) {
		t.Fatalf("%s: tags %v, %v; want %v", gw.name, tg, err, f.tags)
	}
	if got := get("versions", "multi", minio.GetObjectOptions{}); !bytes.Equal(got, f.multi) {
		t.Fatalf("%s: multipart object read %d of %d bytes", gw.name, len(got), len(f.multi))
	}
	if got := get("versions", "multi", minio.GetObjectOptions{PartNumber: 2}); !bytes.Equal(got, f.multi[f.multiPart1:]) {
		t.Fatalf("%s: part 2 read %d of %d bytes", gw.name, len(got), len(f.multi)-int(f.multiPart1))
	}
	if got := get("locked", "k", minio.GetObjectOptions{VersionID: f.lockedVersion}); !bytes.Equal(got, f.locked) {
		t.Fatalf("%s: locked version read %d of %d bytes", gw.name, len(got), len(f.locked))
	}
	err = s3.RemoveObject(ctx, "locked", "k", minio.RemoveObjectOptions{VersionID: f.lockedVersion, GovernanceBypass: true})
	if code := minio.ToErrorResponse(err).Code; code != "AccessDenied" {
		t.Fatalf("%s: DELETE of a COMPLIANCE version: %v, want AccessDenied", gw.name, err)
	}
	anon, err := http.NewRequestWithContext(ctx, "GET", "http://"+gw.s3addr+"/public/"+f.publicDoc, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, got = send(t, anon)
	if resp.StatusCode != 200 || !bytes.Equal(got, f.publicData) {
		t.Fatalf("%s: anonymous GET under the bucket policy: %d, %d of %d bytes", gw.name, resp.StatusCode, len(got), len(f.publicData))
	}
}
