package s3gw

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type clientOpt func(*minio.Options)

func trailing(o *minio.Options) { o.TrailingHeaders = true }

func (e *testEnv) minio(opts ...clientOpt) *minio.Client {
	e.t.Helper()
	o := &minio.Options{
		Creds:        credentials.NewStaticV4(testAK, testSK, ""),
		Region:       testRegion,
		BucketLookup: minio.BucketLookupPath,
		Transport:    e.ts.Client().Transport,
	}
	for _, f := range opts {
		f(o)
	}
	c, err := minio.New(e.host(), o)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func minioCode(err error) string { return minio.ToErrorResponse(err).Code }

func getAll(t *testing.T, c *minio.Client, bucket, key string, opts minio.GetObjectOptions) []byte {
	t.Helper()
	o, err := c.GetObject(context.Background(), bucket, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return b
}

func TestMinioBuckets(t *testing.T) {
	e := newTestEnv(t, false)
	c := e.minio()
	ctx := context.Background()
	for _, b := range []string{"alpha", "beta.with.dots"} {
		if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Another region is signed with another scope, which this endpoint refuses.
	if err := c.MakeBucket(ctx, "gamma", minio.MakeBucketOptions{Region: "eu-west-1"}); minioCode(err) != "AuthorizationHeaderMalformed" {
		t.Fatalf("other region: %v", err)
	}
	if err := c.MakeBucket(ctx, "gamma", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	// us-east-1 answers 200 to creating a bucket its owner has already.
	if err := c.MakeBucket(ctx, "alpha", minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("second create: %v", err)
	}
	if ok, err := c.BucketExists(ctx, "alpha"); !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if ok, err := c.BucketExists(ctx, "nope"); ok || err != nil {
		t.Fatalf("exists(nope): %v %v", ok, err)
	}
	bs, err := c.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
		if b.CreationDate.IsZero() {
			t.Errorf("bucket %s without a creation date", b.Name)
		}
	}
	if !slices.Equal(names, []string{"alpha", "beta.with.dots", "gamma"}) {
		t.Fatalf("buckets %v", names)
	}
	if loc, err := c.GetBucketLocation(ctx, "alpha"); err != nil || loc != "us-east-1" {
		t.Fatalf("location %q %v", loc, err)
	}
	if v, err := c.GetBucketVersioning(ctx, "alpha"); err != nil || v.Status != "" {
		t.Fatalf("versioning %+v %v", v, err)
	}
	if _, err := c.PutObject(ctx, "alpha", "k", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "alpha"); minioCode(err) != "BucketNotEmpty" {
		t.Fatalf("remove non-empty: %v", err)
	}
	if err := c.RemoveObject(ctx, "alpha", "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "alpha"); minioCode(err) != "NoSuchBucket" {
		t.Fatalf("remove twice: %v", err)
	}
}

// TestMinioPutVariants sends objects with every payload mode minio-go has,
// and checks that each mode was really used.
func TestMinioPutVariants(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	plain, trail := e.minio(), e.minio(trailing)
	if err := plain.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		c      *minio.Client
		opts   minio.PutObjectOptions
		size   int
		unsize bool // send with size -1
		mode   string
	}{
		{"streaming signed", plain, minio.PutObjectOptions{}, 200 << 10, false, streamingPayload},
		{"streaming signed, empty", plain, minio.PutObjectOptions{}, 0, false, ""},
		{"signed trailer crc32", trail, minio.PutObjectOptions{Checksum: minio.ChecksumCRC32}, 150 << 10, false, streamingPayloadTrailer},
		{"signed trailer crc64nvme", trail, minio.PutObjectOptions{Checksum: minio.ChecksumCRC64NVME}, 70 << 10, false, "trailer:x-amz-checksum-crc64nvme"},
		{"signed trailer sha256", trail, minio.PutObjectOptions{Checksum: minio.ChecksumSHA256}, 1000, false, "trailer:x-amz-checksum-sha256"},
		{"signed trailer sha1", trail, minio.PutObjectOptions{Checksum: minio.ChecksumSHA1}, 1000, false, "trailer:x-amz-checksum-sha1"},
		// minio-go sends no checksum at all for DisableContentSha256 alone (its
		// own x-amz-checksum-algorithm header disables its auto checksum).
		{"unsigned payload, trailing client", trail, minio.PutObjectOptions{DisableContentSha256: true}, 100 << 10, false, unsignedPayload},
		{"unsigned trailer crc32c", trail, minio.PutObjectOptions{DisableContentSha256: true, Checksum: minio.ChecksumCRC32C}, 100 << 10, false, streamingUnsignedTrailer},
		{"unsigned trailer crc64nvme", trail, minio.PutObjectOptions{DisableContentSha256: true, Checksum: minio.ChecksumCRC64NVME}, 100 << 10, false, "trailer:x-amz-checksum-crc64nvme"},
		{"unsigned payload", plain, minio.PutObjectOptions{DisableContentSha256: true}, 10 << 10, false, unsignedPayload},
		{"content-md5", plain, minio.PutObjectOptions{SendContentMd5: true, DisableContentSha256: true}, 5000, false, ""},
		{"unknown size", plain, minio.PutObjectOptions{PartSize: 5 << 20}, 6 << 20, true, ""},
		{"multipart streaming", plain, minio.PutObjectOptions{PartSize: 5 << 20}, 11 << 20, false, ""},
		{"multipart trailer crc32c", trail, minio.PutObjectOptions{PartSize: 5 << 20, DisableContentSha256: true}, 11 << 20, false, ""},
		{"multipart content-md5", plain, minio.PutObjectOptions{PartSize: 5 << 20, SendContentMd5: true}, 11 << 20, false, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := randBytes(c.size, uint64(i))
			key := fmt.Sprintf("obj/%02d", i)
			size := int64(len(data))
			if c.unsize {
				size = -1
			}
			info, err := c.c.PutObject(ctx, "bkt", key, bytes.NewReader(data), size, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) <= 5<<20 && info.ETag != md5Hex(data) {
				t.Errorf("ETag %q, want %q", info.ETag, md5Hex(data))
			}
			got := getAll(t, c.c, "bkt", key, minio.GetObjectOptions{})
			if !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, differ", len(got))
			}
			if c.mode != "" && !e.seen.has(c.mode) {
				t.Fatalf("mode %s not used; seen %v", c.mode, e.seen)
			}
		})
	}
}

func TestMinioObjectMetadataAndReads(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio()
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	data := []byte("0123456789abcdefghij")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	info, err := c.PutObject(ctx, "bkt", "dir/ünï cødé+key", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:        "text/plain",
		CacheControl:       "max-age=60",
		ContentDisposition: `attachment; filename="x.txt"`,
		ContentEncoding:    "identity",
		ContentLanguage:    "fr",
		Expires:            exp,
		UserMetadata:       map[string]string{"Color": "blue", "cid": "forged"},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, "bkt", "dir/ünï cødé+key", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ETag != info.ETag || st.Size != int64(len(data)) || st.ContentType != "text/plain" {
		t.Fatalf("stat %+v", st)
	}
	// User metadata round-trips exactly, a "cid" of the client's own too;
	// the CID is a header of its own.
	if want := map[string]string{"Color": "blue", "Cid": "forged"}; !maps.Equal(st.UserMetadata, want) {
		t.Errorf("user metadata %v, want %v", st.UserMetadata, want)
	}
	// minio-go keeps only the headers it knows in ObjectInfo: look on the
	// wire.
	if resp, _ := e.must(200, "HEAD", "/bkt/dir/%C3%BCn%C3%AF%20c%C3%B8d%C3%A9%2Bkey", nil); resp.Header.Get("X-Cairn-Cid") != fakeCID(data) {
		t.Errorf("x-cairn-cid = %q, want the CID %q", resp.Header.Get("X-Cairn-Cid"), fakeCID(data))
	}
	for k, want := range map[string]string{
		"Cache-Control": "max-age=60", "Content-Disposition": `attachment; filename="x.txt"`,
		"Content-Encoding": "identity", "Content-Language": "fr",
	} {
		if got := st.Metadata.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	if !st.Expires.Equal(exp) {
		t.Errorf("Expires = %v, want %v", st.Expires, exp)
	}
	// Ranges.
	for _, r := range []struct {
		start, end int64
		want       string
	}{{2, 5, "2345"}, {15, 0, "fghij"}, {0, 0, "0"}, {0, -3, "hij"}} {
		var o minio.GetObjectOptions
		if err := o.SetRange(r.start, r.end); err != nil {
			t.Fatal(err)
		}
		if got := getAll(t, c, "bkt", "dir/ünï cødé+key", o); string(got) != r.want {
			t.Errorf("range %d-%d: %q, want %q", r.start, r.end, got, r.want)
		}
	}
	// Conditions.
	var o minio.GetObjectOptions
	_ = o.SetMatchETag(info.ETag)
	if got := getAll(t, c, "bkt", "dir/ünï cødé+key", o); !bytes.Equal(got, data) {
		t.Fatal("If-Match with the ETag")
	}
	for _, set := range []func(*minio.GetObjectOptions){
		func(o *minio.GetObjectOptions) { _ = o.SetMatchETag("nope") },
		func(o *minio.GetObjectOptions) { _ = o.SetUnmodified(time.Now().Add(-time.Hour)) },
	} {
		var o minio.GetObjectOptions
		set(&o)
		if _, err := c.StatObject(ctx, "bkt", "dir/ünï cødé+key", minio.StatObjectOptions(o)); minioCode(err) != "PreconditionFailed" {
			t.Errorf("failing precondition: %v", err)
		}
	}
	// response-* overrides through a presigned URL.
	u, err := c.PresignedGetObject(ctx, "bkt", "dir/ünï cødé+key", time.Minute, url.Values{
		"response-content-type":        {"application/x-test"},
		"response-content-disposition": {"inline"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "application/x-test" ||
		resp.Header.Get("Content-Disposition") != "inline" {
		t.Fatalf("presigned GET: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if _, err := c.StatObject(ctx, "bkt", "missing", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
		t.Fatalf("stat missing: %v", err)
	}
}

func TestMinioPresignedPut(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio()
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	u, err := c.PresignedPutObject(ctx, "bkt", "up loaded", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u.String(), strings.NewReader("presigned body"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Cairn-Cid") != fakeCID([]byte("presigned body")) {
		t.Fatalf("presigned PUT: %d %v", resp.StatusCode, resp.Header)
	}
	if got := getAll(t, c, "bkt", "up loaded", minio.GetObjectOptions{}); string(got) != "presigned body" {
		t.Fatalf("got %q", got)
	}
	// The same URL used for another key fails.
	req, _ = http.NewRequest(http.MethodPut, strings.Replace(u.String(), "up%20loaded", "other", 1), strings.NewReader("x"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, resp, body, 403, "SignatureDoesNotMatch")
}

func TestMinioCopyAndCompose(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio()
	if err := c.MakeBucket(ctx, "src", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(ctx, "dst", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	big := randBytes(6<<20, 7)
	small := []byte("tail of the composed object")
	srcInfo, err := c.PutObject(ctx, "src", "big one", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{
		ContentType: "application/x-big", UserMetadata: map[string]string{"k": "v"}, DisableMultipart: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, "src", "small?#%", bytes.NewReader(small), int64(len(small)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	// Plain copy keeps metadata.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "copy"},
		minio.CopySrcOptions{Bucket: "src", Object: "big one", MatchETag: srcInfo.ETag}); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, "dst", "copy", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "application/x-big" || !maps.Equal(st.UserMetadata, map[string]string{"K": "v"}) || st.ETag != srcInfo.ETag {
		t.Fatalf("copy: %+v %v", st, err)
	}
	// REPLACE takes new metadata; copying onto itself needs it.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "src", Object: "small?#%", ReplaceMetadata: true,
		UserMetadata: map[string]string{"new": "meta"}, ContentType: "text/x-new"},
		minio.CopySrcOptions{Bucket: "src", Object: "small?#%"}); err != nil {
		t.Fatal(err)
	}
	st, err = c.StatObject(ctx, "src", "small?#%", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "text/x-new" || !maps.Equal(st.UserMetadata, map[string]string{"New": "meta"}) {
		t.Fatalf("replace: %+v %v", st, err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "src", Object: "small?#%"},
		minio.CopySrcOptions{Bucket: "src", Object: "small?#%"}); minioCode(err) != "InvalidRequest" {
		t.Fatalf("copy onto itself: %v", err)
	}
	// Copy-source conditions fail with 412.
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "x"},
		minio.CopySrcOptions{Bucket: "src", Object: "big one", NoMatchETag: srcInfo.ETag}); minioCode(err) != "PreconditionFailed" {
		t.Fatalf("copy if-none-match: %v", err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "x"},
		minio.CopySrcOptions{Bucket: "src", Object: "big one", MatchModifiedSince: time.Now().Add(time.Hour)}); minioCode(err) != "PreconditionFailed" {
		t.Fatalf("copy if-modified-since: %v", err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "x"},
		minio.CopySrcOptions{Bucket: "src", Object: "nothing"}); minioCode(err) != "NoSuchKey" {
		t.Fatalf("copy missing: %v", err)
	}

	// ComposeObject: UploadPartCopy with x-amz-copy-source-range.
	if _, err := c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "composed"},
		minio.CopySrcOptions{Bucket: "src", Object: "big one"},
		minio.CopySrcOptions{Bucket: "src", Object: "big one", MatchRange: true, Start: 10, End: 5<<20 + 9},
		minio.CopySrcOptions{Bucket: "src", Object: "small?#%"},
	); err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(big, big[10:5<<20+10], small)
	if got := getAll(t, c, "dst", "composed", minio.GetObjectOptions{}); !bytes.Equal(got, want) {
		t.Fatalf("composed object: %d bytes, want %d", len(got), len(want))
	}
}

func TestMinioListings(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio()
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "b/1", "b/2", "b/3/x", "c d", "c+d", "e\x01ctl", "f/ü", "g"}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, "bkt", k, strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(o minio.ListObjectsOptions) []string {
		t.Helper()
		var out []string
		for obj := range c.ListObjects(ctx, "bkt", o) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			out = append(out, obj.Key)
		}
		return out
	}
	for _, v1 := range []bool{false, true} {
		for _, max := range []int{0, 1, 2, 1000} {
			if got := list(minio.ListObjectsOptions{Recursive: true, MaxKeys: max, UseV1: v1}); !slices.Equal(got, keys) {
				t.Errorf("v1=%v max=%d recursive: %q", v1, max, got)
			}
			// minio-go yields a page's keys before its prefixes.
			want := []string{"a", "b/", "c d", "c+d", "e\x01ctl", "f/", "g"}
			if got := list(minio.ListObjectsOptions{MaxKeys: max, UseV1: v1}); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Errorf("v1=%v max=%d delimited: %q", v1, max, got)
			}
			if got := list(minio.ListObjectsOptions{Prefix: "b/", MaxKeys: max, UseV1: v1}); !slices.Equal(got, []string{"b/1", "b/2", "b/3/"}) {
				t.Errorf("v1=%v max=%d prefix: %q", v1, max, got)
			}
		}
	}
	if got := list(minio.ListObjectsOptions{Recursive: true, StartAfter: "c d"}); !slices.Equal(got, keys[5:]) {
		t.Errorf("start-after: %q", got)
	}

	// Core, for the raw pages.
	core := minio.Core{Client: c}
	v2, err := core.ListObjectsV2("bkt", "", "", "", "/", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !v2.IsTruncated || v2.NextContinuationToken == "" || len(v2.Contents)+len(v2.CommonPrefixes) != 2 {
		t.Fatalf("v2 page: %+v", v2)
	}
	v2, err = core.ListObjectsV2("bkt", "", "", v2.NextContinuationToken, "/", 2)
	if err != nil || len(v2.Contents) != 2 || v2.Contents[0].Key != "c d" || v2.Contents[1].Key != "c+d" || len(v2.CommonPrefixes) != 0 {
		t.Fatalf("second v2 page: %+v %v", v2, err)
	}
	v1, err := core.ListObjects("bkt", "", "", "/", 2)
	if err != nil || !v1.IsTruncated || v1.NextMarker != "b/" {
		t.Fatalf("v1 page: %+v %v", v1, err)
	}
	v1, err = core.ListObjects("bkt", "", "", "", 2)
	if err != nil || !v1.IsTruncated || v1.NextMarker != "" {
		t.Fatalf("v1 page without delimiter has no NextMarker: %+v %v", v1, err)
	}
	if _, err := core.ListObjectsV2("nope", "", "", "", "", 10); minioCode(err) != "NoSuchBucket" {
		t.Fatalf("list missing bucket: %v", err)
	}

	// RemoveObjects (DeleteObjects), including a missing key.
	ch := make(chan minio.ObjectInfo, len(keys)+1)
	for _, k := range append(keys, "never-existed") {
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	for rerr := range c.RemoveObjects(ctx, "bkt", ch, minio.RemoveObjectsOptions{}) {
		t.Errorf("remove %s: %v", rerr.ObjectName, rerr.Err)
	}
	if got := list(minio.ListObjectsOptions{Recursive: true}); len(got) != 0 {
		t.Fatalf("left after RemoveObjects: %q", got)
	}
}

func TestMinioMultipartCore(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio()
	core := minio.Core{Client: c}
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	id, err := core.NewMultipartUpload(ctx, "bkt", "mp", minio.PutObjectOptions{ContentType: "video/x-test", UserMetadata: map[string]string{"m": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := core.NewMultipartUpload(ctx, "bkt", "other", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(5<<20, 1), []byte("last part")
	part1, err := core.PutObjectPart(ctx, "bkt", "mp", id, 1, bytes.NewReader(p1), int64(len(p1)), minio.PutObjectPartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part2, err := core.PutObjectPart(ctx, "bkt", "mp", id, 2, bytes.NewReader(p2), int64(len(p2)), minio.PutObjectPartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := core.ListObjectParts(ctx, "bkt", "mp", id, 0, 1)
	if err != nil || len(lp.ObjectParts) != 1 || !lp.IsTruncated || lp.NextPartNumberMarker != 1 || strings.Trim(lp.ObjectParts[0].ETag, `"`) != part1.ETag {
		t.Fatalf("list parts: %+v %v", lp, err)
	}
	lu, err := core.ListMultipartUploads(ctx, "bkt", "", "", "", "", 10)
	if err != nil || len(lu.Uploads) != 2 {
		t.Fatalf("list uploads: %+v %v", lu, err)
	}
	n := 0
	for u := range c.ListIncompleteUploads(ctx, "bkt", "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d incomplete uploads", n)
	}
	if err := core.AbortMultipartUpload(ctx, "bkt", "other", id2); err != nil {
		t.Fatal(err)
	}
	if err := core.AbortMultipartUpload(ctx, "bkt", "other", id2); minioCode(err) != "NoSuchUpload" {
		t.Fatalf("abort twice: %v", err)
	}
	// Out of order, wrong ETag, then right.
	_, err = core.CompleteMultipartUpload(ctx, "bkt", "mp", id, []minio.CompletePart{{PartNumber: 2, ETag: part2.ETag}, {PartNumber: 1, ETag: part1.ETag}}, minio.PutObjectOptions{})
	if minioCode(err) != "InvalidPartOrder" {
		t.Fatalf("out of order: %v", err)
	}
	_, err = core.CompleteMultipartUpload(ctx, "bkt", "mp", id, []minio.CompletePart{{PartNumber: 1, ETag: part2.ETag}, {PartNumber: 2, ETag: part2.ETag}}, minio.PutObjectOptions{})
	if minioCode(err) != "InvalidPart" {
		t.Fatalf("wrong etag: %v", err)
	}
	info, err := core.CompleteMultipartUpload(ctx, "bkt", "mp", id, []minio.CompletePart{{PartNumber: 1, ETag: part1.ETag}, {PartNumber: 2, ETag: part2.ETag}}, minio.PutObjectOptions{})
	if err != nil || !strings.HasSuffix(info.ETag, "-2") {
		t.Fatalf("complete: %+v %v", info, err)
	}
	st, err := c.StatObject(ctx, "bkt", "mp", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "video/x-test" || st.UserMetadata["M"] != "1" || st.Size != int64(len(p1)+len(p2)) {
		t.Fatalf("stat multipart: %+v %v", st, err)
	}
	if got := getAll(t, c, "bkt", "mp", minio.GetObjectOptions{}); !bytes.Equal(got, slices.Concat(p1, p2)) {
		t.Fatal("multipart content differs")
	}
	// A retried Complete (its answer lost) gets the object again; one
	// with other parts gets NoSuchUpload.
	again, err := core.CompleteMultipartUpload(ctx, "bkt", "mp", id, []minio.CompletePart{{PartNumber: 1, ETag: part1.ETag}, {PartNumber: 2, ETag: part2.ETag}}, minio.PutObjectOptions{})
	if err != nil || again.ETag != info.ETag {
		t.Fatalf("complete again: %+v %v, want ETag %s", again, err, info.ETag)
	}
	_, err = core.CompleteMultipartUpload(ctx, "bkt", "mp", id, []minio.CompletePart{{PartNumber: 1, ETag: part1.ETag}}, minio.PutObjectOptions{})
	if minioCode(err) != "NoSuchUpload" {
		t.Fatalf("complete again with other parts: %v", err)
	}
	// A part listed twice in a row with its ETag counts once.
	id3, err := core.NewMultipartUpload(ctx, "bkt", "dup", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d1, err := core.PutObjectPart(ctx, "bkt", "dup", id3, 1, bytes.NewReader(p1), int64(len(p1)), minio.PutObjectPartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := core.PutObjectPart(ctx, "bkt", "dup", id3, 2, bytes.NewReader(p2), int64(len(p2)), minio.PutObjectPartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dup, err := core.CompleteMultipartUpload(ctx, "bkt", "dup", id3, []minio.CompletePart{
		{PartNumber: 1, ETag: d1.ETag}, {PartNumber: 1, ETag: d1.ETag}, {PartNumber: 2, ETag: d2.ETag}, {PartNumber: 2, ETag: d2.ETag},
	}, minio.PutObjectOptions{})
	if err != nil || dup.ETag != info.ETag {
		t.Fatalf("complete with parts listed twice: %+v %v, want ETag %s", dup, err, info.ETag)
	}
	if got := getAll(t, c, "bkt", "dup", minio.GetObjectOptions{}); !bytes.Equal(got, slices.Concat(p1, p2)) {
		t.Fatal("object of parts listed twice differs")
	}
}

// TestMinioVirtualHost addresses buckets as bucket.localhost:port, dialling
// the test server whatever the name.
func TestMinioVirtualHost(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	addr := e.host()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	c, err := minio.New("localhost:"+port, &minio.Options{
		Creds:        credentials.NewStaticV4(testAK, testSK, ""),
		Region:       testRegion,
		BucketLookup: minio.BucketLookupDNS,
		Transport:    tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		e.srv.ServeHTTP(w, r)
	})
	e.ts.Config.Handler = probe
	if err := c.MakeBucket(ctx, "vhost", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, "vhost", "a/b c", strings.NewReader("hello"), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, "vhost", "a/b c", minio.GetObjectOptions{}); string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
	var keys []string
	for o := range c.ListObjects(ctx, "vhost", minio.ListObjectsOptions{Recursive: true}) {
		keys = append(keys, o.Key)
	}
	if !slices.Equal(keys, []string{"a/b c"}) {
		t.Fatalf("keys %q", keys)
	}
	if !slices.Contains(hosts, "vhost.localhost:"+port) {
		t.Fatalf("no virtual-host request; hosts %q", hosts)
	}
	if _, err := e.be.HeadBucket(ctx, "vhost"); err != nil {
		t.Fatal(err)
	}
}

// TestMinioBadChecksumRejected makes minio-go send a wrong checksum by
// lying in the metadata: nothing may be stored.
func TestMinioBadChecksumRejected(t *testing.T) {
	e := newTestEnv(t, false)
	ctx := context.Background()
	c := e.minio(trailing)
	if err := c.MakeBucket(ctx, "bkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(ctx, "bkt", "k", strings.NewReader("data"), 4, minio.PutObjectOptions{
		UserMetadata: map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, DisableContentSha256: true,
	})
	if minioCode(err) != "BadDigest" {
		t.Fatalf("wrong crc32: %v", err)
	}
	if _, err := e.be.GetObject(ctx, "bkt", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("object stored despite a bad checksum: %v", err)
	}
}
