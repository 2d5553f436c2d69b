package s3gw

import (
	"encoding/xml"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestVersionOps: the sub-resources of versioning, object lock, bucket
// tagging and lifecycle name their operations by method; object tagging
// is still refused.
func TestVersionOps(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		hdr            map[string]string
		want           string // operation name, or error code
	}{
		{"GET", "/b?versions", nil, "ListObjectVersions"},
		{"GET", "/b?versions&prefix=a&key-marker=k", nil, "ListObjectVersions"},
		{"PUT", "/b?versioning", nil, "PutBucketVersioning"},
		{"GET", "/b?versioning", nil, "GetBucketVersioning"},
		{"DELETE", "/b?versioning", nil, "MethodNotAllowed"},
		{"PUT", "/b?object-lock", nil, "PutObjectLockConfiguration"},
		{"GET", "/b?object-lock", nil, "GetObjectLockConfiguration"},
		{"PUT", "/b?tagging", nil, "PutBucketTagging"},
		{"DELETE", "/b?tagging", nil, "DeleteBucketTagging"},
		{"PUT", "/b?lifecycle", nil, "PutBucketLifecycleConfiguration"},
		{"DELETE", "/b?lifecycle", nil, "DeleteBucketLifecycle"},
		{"PUT", "/b", map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"}, "CreateBucket"},
		{"PUT", "/b/k?retention", nil, "PutObjectRetention"},
		{"GET", "/b/k?legal-hold", nil, "GetObjectLegalHold"},
		{"POST", "/b/k?legal-hold", nil, "MethodNotAllowed"},
		{"GET", "/b/k?tagging", nil, "GetObjectTagging"},
		{"GET", "/b/k?versionId=x", nil, "GetObject"},
	} {
		r := httptest.NewRequest(tc.method, "http://localhost"+tc.target, nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		o, err := parseOp(r, nil)
		got := o.name()
		if err != nil {
			api, _ := toAPIError(err)
			got = api.Code
		}
		if got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.target, got, tc.want)
		}
	}
	r := httptest.NewRequest("PUT", "http://localhost/b", nil)
	r.Header.Set("X-Amz-Bucket-Object-Lock-Enabled", "true")
	if o, _ := parseOp(r, nil); o.spec != opCreateBucketLocked {
		t.Error("CreateBucket with object lock is not the lock bucket's")
	}
}

func TestParseLifecycle(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want string // "" ok, else error code
	}{
		{`<Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>`, ""},
		{`<Rule><Prefix>x</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`, ""},
		{`<Rule><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>`, ""},
		{`<Rule><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`, ""},
		{`<Rule><Status>Enabled</Status></Rule>`, "MalformedXML"},
		{`<Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>`, "MalformedXML"},
		{`<Rule><Status>Enabled</Status><Expiration><Days>-1</Days></Expiration></Rule>`, "InvalidArgument"},
		{`<Rule><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`, "MalformedXML"},
		{`<Rule><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration></Rule>`, "InvalidArgument"},
		{`<Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>`, "InvalidArgument"},
		{`<Rule><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>`, "NotImplemented"},
	} {
		var req lifecycleXML
		if err := xml.Unmarshal([]byte("<LifecycleConfiguration>"+tc.doc+"</LifecycleConfiguration>"), &req); err != nil {
			t.Fatal(err)
		}
		_, err := parseLifecycle(&req)
		got := ""
		if err != nil {
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("%s: %v", tc.doc, err)
			}
			got = api.Code
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.doc, got, tc.want)
		}
	}
}

func TestCheckTags(t *testing.T) {
	if _, err := checkBucketTags([]bucketTagXML{{"a", "1"}, {"b", ""}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]bucketTagXML{{{"", "x"}}, {{"aws:x", "y"}}, {{"a", "1"}, {"a", "2"}}, {{strings.Repeat("k", 129), ""}}} {
		if _, err := checkBucketTags(bad); err == nil {
			t.Errorf("tags %v accepted", bad)
		}
	}
}
