//go:build integration

package itest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"cairn/internal/blob/blobtest"
)

// TestLifecycle (issue 14, item 2): with a lifecycle day of two seconds
// (storaged --lifecycle-day), a rule set with the AWS CLI expires the
// current versions under its prefix, then their noncurrent versions and
// the delete markers left, and aborts a stale multipart upload; garbage
// collection then gives their space back, and an object outside the
// prefix stays, byte for byte.
func TestLifecycle(t *testing.T) {
	p := startDevArgs(t, "", []string{"--lifecycle-day", "2s", "--gc-grace", gcGrace.String(), "--heal-interval", "1s"},
		"CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	ctx := ctxT(t)
	c := p.client()
	core := minio.Core{Client: c}
	before := allocated(t, p)
	mkBucket(t, c, "lcb")
	if err := c.EnableVersioning(ctx, "lcb"); err != nil {
		t.Fatal(err)
	}
	// Kept inline in the metadata (no shards), so that the storage
	// directories hold only what the rule expires: a store gives back the
	// space of a segment once nothing live is left in it.
	keep := payloadBytes(1, 1000)
	if _, err := c.PutObject(ctx, "lcb", "keep/data", bytes.NewReader(keep), int64(len(keep)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, seed := range []uint64{10, 11, 12} {
		key := fmt.Sprintf("tmp/%d", i%2)
		if _, err := c.PutObject(ctx, "lcb", key, newPayload(seed, 4*MiB+1), 4*MiB+1, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := core.NewMultipartUpload(ctx, "lcb", "tmp/upload", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutObjectPart(ctx, "lcb", "tmp/upload", id, 1, bytes.NewReader(payloadBytes(20, 5*MiB+1)), 5*MiB+1, minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	// Under tag/, a rule with And{Prefix, Tags} expires only what carries
	// its tag: tag/old (tagged at PUT) and tag/retagged (by
	// PutObjectTagging) go; tag/plain (untagged) and tag/other (another
	// value) stay. Inline too.
	tagged := map[string]map[string]string{
		"tag/old": {"expire": "yes", "team": "a"}, "tag/retagged": nil, "tag/plain": nil, "tag/other": {"expire": "no"},
	}
	for key, tags := range tagged {
		if _, err := c.PutObject(ctx, "lcb", key, bytes.NewReader(keep), int64(len(keep)), minio.PutObjectOptions{UserTags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := tags.NewTags(map[string]string{"expire": "yes"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutObjectTagging(ctx, "lcb", "tag/retagged", ts, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	full := allocated(t, p)
	if full < before+15*MiB {
		t.Fatalf("the writes took only %d bytes: the test proves nothing", full-before)
	}

	env := awsEnv(t, p)
	ep := "--endpoint-url=" + p.url()
	rules := `{"Rules":[{"ID":"tmp","Status":"Enabled","Filter":{"Prefix":"tmp/"},
		"Expiration":{"Days":1},"NoncurrentVersionExpiration":{"NoncurrentDays":1},
		"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}},
		{"ID":"tagged","Status":"Enabled","Filter":{"And":{"Prefix":"tag/","Tags":[{"Key":"expire","Value":"yes"}]}},
		"Expiration":{"Days":1}}]}`
	tool(t, env, "aws", ep, "s3api", "put-bucket-lifecycle-configuration", "--bucket", "lcb", "--lifecycle-configuration", rules)
	var got struct{ Rules []map[string]any }
	if err := json.Unmarshal([]byte(tool(t, env, "aws", ep, "--output", "json", "s3api", "get-bucket-lifecycle-configuration", "--bucket", "lcb")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 2 || got.Rules[0]["ID"] != "tmp" || got.Rules[1]["ID"] != "tagged" ||
		fmt.Sprint(got.Rules[1]["Filter"]) != "map[And:map[Prefix:tag/ Tags:[map[Key:expire Value:yes]]]]" || fmt.Sprint(got.Rules[0]["Expiration"]) != "map[Days:1]" ||
		fmt.Sprint(got.Rules[0]["AbortIncompleteMultipartUpload"]) != "map[DaysAfterInitiation:1]" {
		t.Fatalf("get-bucket-lifecycle-configuration: %+v", got)
	}

	waitFor(t, 2*time.Minute, "the rule to expire everything under tmp/", func() error {
		var left []string
		for o := range c.ListObjects(ctx, "lcb", minio.ListObjectsOptions{WithVersions: true, Recursive: true, Prefix: "tmp/"}) {
			if o.Err != nil {
				return o.Err
			}
			left = append(left, o.Key+"@"+o.VersionID)
		}
		for u := range c.ListIncompleteUploads(ctx, "lcb", "tmp/", true) {
			if u.Err != nil {
				return u.Err
			}
			left = append(left, "upload "+u.UploadID)
		}
		if len(left) > 0 {
			return fmt.Errorf("left: %v", left)
		}
		return nil
	})
	overhead := int64(len(p.nodeDirs())) * blobtest.ReclaimOverhead
	waitFor(t, 3*time.Minute, "the expired versions' bytes to return", func() error {
		if now := allocated(t, p); now > before+overhead {
			return fmt.Errorf("%d bytes allocated, %d before the writes (+%d)", now, before, overhead)
		}
		return nil
	})
	o, err := c.GetObject(ctx, "lcb", "keep/data", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(b, keep) {
		t.Fatalf("keep/data read back %d bytes, err %v", len(b), err)
	}
	waitFor(t, time.Minute, "the tag rule to expire tag/old and tag/retagged", func() error {
		for _, key := range []string{"tag/old", "tag/retagged"} {
			_, err := c.StatObject(ctx, "lcb", key, minio.StatObjectOptions{})
			if code := minio.ToErrorResponse(err).Code; code != "NoSuchKey" {
				return fmt.Errorf("%s: %v", key, err)
			}
		}
		return nil
	})
	for _, key := range []string{"tag/plain", "tag/other"} {
		o, err := c.GetObject(ctx, "lcb", key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(b, keep) {
			t.Fatalf("%s, which the tag rule does not match, read back %d bytes, err %v", key, len(b), err)
		}
	}
	tool(t, env, "aws", ep, "s3api", "delete-bucket-lifecycle", "--bucket", "lcb")
	if out, err := toolErr(t, env, "aws", ep, "s3api", "get-bucket-lifecycle-configuration", "--bucket", "lcb"); err == nil || !bytesContains(out, "NoSuchLifecycleConfiguration") {
		t.Fatalf("after delete-bucket-lifecycle: %v\n%s", err, out)
	}
}

func bytesContains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }
