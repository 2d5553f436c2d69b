//go:build integration

package itest

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestClusterVersions (issue 14, item 6): in the six-process cluster,
// every version of an object written through one gateway, and a delete
// marker over them, read back through every gateway after two storage
// nodes are SIGKILLed: versions' chunks are erasure coded and placed as
// objects' are.
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
		for o := range cl.ListObjects(ctx, "versions", minio.ListObjectsOptions{WithVersions: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			n++
		}
		if n != len(vs)+1 {
			t.Fatalf("%s lists %d versions, want %d", gw.name, n, len(vs)+1)
		}
		t.Log(fmt.Sprintf("%s: %d versions read back with two storage nodes down", gw.name, len(vs)))
	}
}
