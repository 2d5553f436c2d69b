//go:build integration

package itest

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/tags"

	"cairn/internal/admin/adminapi"
)

// TestClusterS3Features: the features of issue 14 that cross the
// metadata RPC work through every gateway of a cluster of three storaged
// processes: tags set through one gateway (a metadata follower's, which
// forwards to the leader) read through another; an SSE-C object written
// through one reads through another with its key only, and its text is on
// no storage node's disk; a read-only key made with the admin API is
// refused a PUT by a follower's gateway.
func TestClusterS3Features(t *testing.T) {
	c := newShapedCluster(t, threeNodes(), nil)
	ctx := ctxT(t)
	c.bringUp(ctx)
	lead := c.leader(ctx)
	var follower, other *clusterNode
	for _, g := range c.gateways() {
		switch {
		case g != lead && follower == nil:
			follower = g
		case g != follower:
			other = g
		}
	}
	if follower == nil || other == nil {
		t.Fatalf("want a gateway on a metadata follower and another: leader %s, gateways %d", lead.id, len(c.gateways()))
	}

	// Tags.
	want := map[string]string{"team": "storage"}
	if _, err := c.s3(follower).PutObject(ctx, clusterBucket, "tagged", strings.NewReader("t"), 1, minio.PutObjectOptions{UserTags: want}); err != nil {
		t.Fatal(err)
	}
	tg, err := c.s3(other).GetObjectTagging(ctx, clusterBucket, "tagged", minio.GetObjectTaggingOptions{})
	if err != nil || !maps.Equal(tg.ToMap(), want) {
		t.Fatalf("tags through another gateway: %v %v", tg, err)
	}
	next, _ := tags.NewTags(map[string]string{"moved": "yes"}, true)
	if err := c.s3(follower).PutObjectTagging(ctx, clusterBucket, "tagged", next, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatalf("PutObjectTagging through a follower's gateway: %v", err)
	}
	if tg, err = c.s3(other).GetObjectTagging(ctx, clusterBucket, "tagged", minio.GetObjectTaggingOptions{}); err != nil || !maps.Equal(tg.ToMap(), next.ToMap()) {
		t.Fatalf("retagged: %v %v", tg, err)
	}

	// SSE-C, with hand-signed requests (minio-go sends customer keys
	// over TLS only; the gateways are on loopback).
	key := bytes.Repeat([]byte{0x5C}, 32)
	canary := fmt.Sprintf("CLUSTER-SSE-C-%x", time.Now().UnixNano())
	var b bytes.Buffer
	for b.Len() < MiB+5000 {
		fmt.Fprintf(&b, "%s %d\n", canary, b.Len())
	}
	data := b.Bytes()
	as := func(n *clusterNode) *proc { return &proc{t: t, endpoint: n.s3addr, access: c.access} }
	req := func(n *clusterNode, method string, body []byte, hdr map[string]string) *http.Request {
		return signed(t, as(n), method, "/"+clusterBucket+"/secret", nil, body, hdr, time.Now(), c.secret)
	}
	do(t, req(follower, "PUT", data, ssec(objSSEC, key)))
	if resp, got := send(t, req(other, "GET", nil, ssec(objSSEC, key))); resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("SSE-C object through another gateway: %d, %d bytes", resp.StatusCode, len(got))
	}
	expectError(t, req(other, "GET", nil, nil), 400, "InvalidRequest")
	expectError(t, req(lead, "GET", nil, ssec(objSSEC, bytes.Repeat([]byte{1}, 32))), 403, "AccessDenied")
	hits, files := c.grepStorage([]byte(canary))
	if files == 0 || hits != 0 {
		t.Fatalf("the SSE-C canary is in %d of the %d files of the storage directories", hits, files)
	}

	// A read-only key.
	k, err := c.admin(lead).CreateKey(ctx, &adminapi.KeyPolicy{Access: "read-only"})
	if err != nil {
		t.Fatal(err)
	}
	ro, err := minio.New(follower.s3addr, &minio.Options{Creds: credentials.NewStaticV4(k.ID, k.Secret, ""), Region: region, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.StatObject(ctx, clusterBucket, "tagged", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("read-only key HEAD: %v", err)
	}
	_, err = ro.PutObject(ctx, clusterBucket, "nope", strings.NewReader("x"), 1, minio.PutObjectOptions{})
	if r := minio.ToErrorResponse(err); r.StatusCode != 403 || r.Code != "AccessDenied" {
		t.Fatalf("read-only key PUT through a follower's gateway: %v, want 403 AccessDenied", err)
	}
}
