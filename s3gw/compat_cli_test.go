package s3gw

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAWSCLICompat drives the points of issue 14 with the AWS CLI:
// partNumber, GetObjectAttributes, ListBuckets pages, CreateBucket twice.
func TestAWSCLICompat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs the aws CLI")
	}
	e := newTestEnv(t, false)
	a := newAWSCLI(t, e)
	for _, b := range []string{"cli-b", "cli-a2", "cli-a1", "other"} {
		a.run("s3api", "create-bucket", "--bucket", b)
	}
	a.run("s3api", "create-bucket", "--bucket", "cli-a1") // its owner's again: 200 in us-east-1
	a.fail("ServerSideEncryptionConfigurationNotFoundError", "s3api", "get-bucket-encryption", "--bucket", "cli-a1")
	a.fail("NotImplemented", "s3api", "put-bucket-encryption", "--bucket", "cli-a1", "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)

	// The CLI follows continuation tokens page by page (--page-size is
	// max-buckets), and --max-items stops it with a token of its own.
	var lb struct {
		Buckets   []struct{ Name string }
		NextToken string
	}
	jsonField(t, a.run("s3api", "list-buckets", "--prefix", "cli-", "--page-size", "1"), &lb)
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, b.Name)
	}
	if !slices.Equal(names, []string{"cli-a1", "cli-a2", "cli-b"}) {
		t.Fatalf("list-buckets --prefix cli- --page-size 1: %v", names)
	}
	lb.Buckets = nil
	jsonField(t, a.run("s3api", "list-buckets", "--page-size", "2", "--max-items", "2"), &lb)
	if len(lb.Buckets) != 2 || lb.Buckets[0].Name != "cli-a1" || lb.NextToken == "" {
		t.Fatalf("list-buckets --max-items 2: %+v", lb)
	}

	// A 17 MiB upload is three parts for the CLI: 8, 8 and 1 MiB.
	data := randBytes(17<<20, 31)
	src := a.file("big", data)
	a.run("s3", "cp", src, "s3://cli-a1/big")
	out := filepath.Join(a.dir, "part2")
	var part struct {
		ContentLength int64
		ContentRange  string
		PartsCount    int
	}
	jsonField(t, a.run("s3api", "get-object", "--bucket", "cli-a1", "--key", "big", "--part-number", "2", out), &part)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[8<<20:16<<20]) || part.PartsCount != 3 || part.ContentRange != "bytes 8388608-16777215/17825792" {
		t.Fatalf("get-object --part-number 2: %d bytes, %+v", len(got), part)
	}
	a.fail("416", "s3api", "head-object", "--bucket", "cli-a1", "--key", "big", "--part-number", "4")
	a.fail("InvalidPartNumber", "s3api", "get-object", "--bucket", "cli-a1", "--key", "big", "--part-number", "4", out)

	var attrs struct {
		ETag         string
		ObjectSize   int64
		StorageClass string
		ObjectParts  struct {
			TotalPartsCount      int
			MaxParts             int
			IsTruncated          bool
			NextPartNumberMarker int
			Parts                []struct {
				PartNumber int
				Size       int64
			}
		}
	}
	jsonField(t, a.run("s3api", "get-object-attributes", "--bucket", "cli-a1", "--key", "big",
		"--object-attributes", "ETag", "ObjectSize", "StorageClass", "ObjectParts", "--max-parts", "2"), &attrs)
	op := attrs.ObjectParts
	if len(attrs.ETag) != 34 || attrs.ETag[32:] != "-3" || attrs.ObjectSize != int64(len(data)) || attrs.StorageClass != "STANDARD" ||
		op.TotalPartsCount != 3 || op.MaxParts != 2 || !op.IsTruncated || op.NextPartNumberMarker != 2 ||
		len(op.Parts) != 2 || op.Parts[1].PartNumber != 2 || op.Parts[1].Size != 8<<20 {
		t.Fatalf("get-object-attributes: %+v", attrs)
	}
}

// TestAWSCLITagging: put-object --tagging, put/get/delete-object-tagging,
// copy-object --tagging-directive, and a refused tag.
func TestAWSCLITagging(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs the aws CLI")
	}
	e := newTestEnv(t, false)
	a := newAWSCLI(t, e)
	a.run("s3api", "create-bucket", "--bucket", "tags")
	src := a.file("obj", []byte("tagged"))
	a.run("s3api", "put-object", "--bucket", "tags", "--key", "obj", "--body", src, "--tagging", "team=storage&tier=gold")
	type tagSet struct {
		TagSet []struct{ Key, Value string }
	}
	get := func(key string) map[string]string {
		t.Helper()
		var ts tagSet
		jsonField(t, a.run("s3api", "get-object-tagging", "--bucket", "tags", "--key", key), &ts)
		m := map[string]string{}
		for _, tg := range ts.TagSet {
			m[tg.Key] = tg.Value
		}
		return m
	}
	if got := get("obj"); len(got) != 2 || got["team"] != "storage" || got["tier"] != "gold" {
		t.Fatalf("tags from put-object: %v", got)
	}
	var head struct{ TagCount int }
	jsonField(t, a.run("s3api", "get-object", "--bucket", "tags", "--key", "obj", filepath.Join(a.dir, "out")), &head)
	if head.TagCount != 2 {
		t.Fatalf("get-object TagCount %d", head.TagCount)
	}
	a.run("s3api", "put-object-tagging", "--bucket", "tags", "--key", "obj", "--tagging", `TagSet=[{Key=a,Value=1}]`)
	if got := get("obj"); len(got) != 1 || got["a"] != "1" {
		t.Fatalf("tags after put-object-tagging: %v", got)
	}
	a.run("s3api", "copy-object", "--bucket", "tags", "--key", "copy", "--copy-source", "tags/obj", "--tagging-directive", "REPLACE", "--tagging", "b=2")
	if got := get("copy"); len(got) != 1 || got["b"] != "2" {
		t.Fatalf("tags of a REPLACE copy: %v", got)
	}
	a.fail("InvalidTag", "s3api", "put-object-tagging", "--bucket", "tags", "--key", "obj", "--tagging", `TagSet=[{Key=aws:x,Value=1}]`)
	a.run("s3api", "delete-object-tagging", "--bucket", "tags", "--key", "obj")
	if got := get("obj"); len(got) != 0 {
		t.Fatalf("tags after delete-object-tagging: %v", got)
	}
}
