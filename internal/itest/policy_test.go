//go:build integration

package itest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/admin/adminapi"
)

// TestKeyPolicies: keys made with storectl key create --policy are held
// to it by the gateway of storaged --dev: a read-only key reads and gets
// AccessDenied on PUT; a bucket key reaches no other bucket; a prefix key
// writes under its prefix only.
func TestKeyPolicies(t *testing.T) {
	p := startDev(t, "")
	ctx := ctxT(t)
	admin := p.client()
	mkBucket(t, admin, "shared")
	mkBucket(t, admin, "private")
	for _, k := range []string{"shared/doc", "private/doc", "shared/team/doc"} {
		b, key, _ := strings.Cut(k, "/")
		if _, err := admin.PutObject(ctx, b, key, strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	newKey := func(args ...string) *minio.Client {
		t.Helper()
		out, err := p.storectl(ctx, append([]string{"--json", "key", "create"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var k adminapi.NewKey
		if err := json.Unmarshal([]byte(out), &k); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		c, err := minio.New(p.endpoint, &minio.Options{Creds: credentials.NewStaticV4(k.ID, k.Secret, ""), Region: region, MaxRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	get := func(c *minio.Client, bucket, key string) error {
		o, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer o.Close()
		var b bytes.Buffer
		_, err = b.ReadFrom(o)
		return err
	}
	put := func(c *minio.Client, bucket, key string) error {
		_, err := c.PutObject(ctx, bucket, key, strings.NewReader("new"), 3, minio.PutObjectOptions{})
		return err
	}
	denied := func(what string, err error) {
		t.Helper()
		if minio.ToErrorResponse(err).Code != "AccessDenied" || minio.ToErrorResponse(err).StatusCode != 403 {
			t.Errorf("%s: %v, want 403 AccessDenied", what, err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	ro := newKey("--policy", "read-only")
	allowed("read-only GET", get(ro, "private", "doc"))
	denied("read-only PUT", put(ro, "shared", "new"))
	denied("read-only DELETE", ro.RemoveObject(ctx, "shared", "doc", minio.RemoveObjectOptions{}))
	denied("read-only CreateBucket", ro.MakeBucket(ctx, "made-by-ro", minio.MakeBucketOptions{Region: region}))

	bkt := newKey("--policy", "read-write", "--bucket", "shared")
	allowed("bucket key PUT", put(bkt, "shared", "by-bucket-key"))
	allowed("bucket key GET", get(bkt, "shared", "doc"))
	denied("bucket key GET elsewhere", get(bkt, "private", "doc"))
	denied("bucket key PUT elsewhere", put(bkt, "private", "x"))
	_, err := bkt.ListBuckets(ctx)
	denied("bucket key ListBuckets", err)

	pfx := newKey("--policy", "read-write", "--bucket", "shared", "--prefix", "team/")
	allowed("prefix key PUT", put(pfx, "shared", "team/new"))
	allowed("prefix key GET", get(pfx, "shared", "team/doc"))
	denied("prefix key GET outside", get(pfx, "shared", "doc"))
	denied("prefix key PUT outside", put(pfx, "shared", "x"))
	n := 0
	for o := range pfx.ListObjects(ctx, "shared", minio.ListObjectsOptions{Prefix: "team/", Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("prefix key listing its prefix: %v", o.Err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("prefix key listed %d objects under team/, want 2", n)
	}
	for o := range pfx.ListObjects(ctx, "shared", minio.ListObjectsOptions{Recursive: true}) {
		denied("prefix key listing the bucket", o.Err)
		break
	}

	out, err := p.storectl(ctx, "key", "list")
	if err != nil || !strings.Contains(out, "read-only, every bucket") || !strings.Contains(out, `read-write, bucket shared, keys under "team/"`) {
		t.Errorf("storectl key list: %v\n%s", err, out)
	}
	if _, err := p.storectl(ctx, "key", "create", "--prefix", "x/"); err == nil {
		t.Error("storectl key create --prefix without --policy succeeded")
	}
}
