package admin_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"cairn/internal/admin/adminapi"
	"cairn/internal/admin/admintest"
)

func TestBuckets(t *testing.T) {
	c := sixNodes(t, admintest.Options{})
	cl := c.Client()
	bs, err := cl.Buckets(bg)
	must(t, err)
	if len(bs) != 0 {
		t.Fatalf("buckets of a new cluster: %+v", bs)
	}
	b, err := cl.CreateBucket(bg, "photos")
	must(t, err)
	if b.Name != "photos" || !b.Created.Equal(admintest.Clock) {
		t.Fatalf("created %+v", b)
	}
	if _, err := c.Store.GetBucket(bg, "photos"); err != nil {
		t.Fatalf("the store has no bucket: %v", err)
	}
	_, err = cl.CreateBucket(bg, "photos")
	wantCode(t, err, 409, adminapi.CodeBucketAlreadyExists)
	_, err = cl.CreateBucket(bg, "docs.v2")
	must(t, err)
	bs, err = cl.Buckets(bg)
	must(t, err)
	if len(bs) != 2 || bs[0].Name != "docs.v2" || bs[1].Name != "photos" {
		t.Fatalf("buckets %+v", bs)
	}

	for _, bad := range []string{"ab", "Photos", "-photos", "photos-", "pho..tos", "pho_tos", "192.168.1.1", strings.Repeat("a", 64), "a b c"} {
		_, err = cl.CreateBucket(bg, bad)
		wantCode(t, err, 400, adminapi.CodeInvalidBucketName)
	}
	err = cl.DeleteBucket(bg, "nothing")
	wantCode(t, err, 404, adminapi.CodeNoSuchBucket)

	c.PutObject("photos", "cat.jpg", 1)
	err = cl.DeleteBucket(bg, "photos")
	wantCode(t, err, 409, adminapi.CodeBucketNotEmpty)
	must(t, cl.DeleteBucket(bg, "docs.v2"))
	bs, err = cl.Buckets(bg)
	must(t, err)
	if len(bs) != 1 || bs[0].Name != "photos" {
		t.Fatalf("buckets after delete %+v", bs)
	}

	// The raw answers: 201 with the bucket, 204 without a body.
	status, _, body := rawCall(t, c, http.MethodPut, "/v1/admin/buckets/raw-bucket", "Bearer "+c.Token, nil)
	if status != 201 || !strings.Contains(string(body), `"name":"raw-bucket"`) {
		t.Fatalf("PUT bucket: %d %s", status, body)
	}
	status, _, body = rawCall(t, c, http.MethodDelete, "/v1/admin/buckets/raw-bucket", "Bearer "+c.Token, nil)
	if status != 204 || len(body) != 0 {
		t.Fatalf("DELETE bucket: %d %q", status, body)
	}
}

func TestKeys(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	cl := c.Client()
	k, err := cl.CreateKey(bg, nil)
	must(t, err)
	if !regexp.MustCompile(`^CAIRN[0-9A-F]{16}$`).MatchString(k.ID) || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(k.Secret) {
		t.Fatalf("new key %+v: want CAIRN + 16 hex digits and 40 hex digits", k)
	}
	stored, err := c.Store.GetKey(bg, k.ID)
	must(t, err)
	if stored.Secret != k.Secret || !stored.Created.Equal(admintest.Clock) {
		t.Fatalf("stored %+v, answered %+v", stored, k)
	}
	k2, err := cl.CreateKey(bg, nil)
	must(t, err)
	if k2.ID == k.ID || k2.Secret == k.Secret {
		t.Fatal("two keys alike")
	}

	ks, err := cl.Keys(bg)
	must(t, err)
	if len(ks) != 2 {
		t.Fatalf("keys %+v", ks)
	}
	// The list shows no secret: not as a field, not anywhere.
	status, _, body := rawCall(t, c, http.MethodGet, "/v1/admin/keys", "Bearer "+c.Token, nil)
	if status != 200 || strings.Contains(string(body), k.Secret) || strings.Contains(string(body), k2.Secret) || strings.Contains(string(body), "secret") {
		t.Fatalf("GET keys: %d %s", status, body)
	}
	var raw []map[string]any
	must(t, json.Unmarshal(body, &raw))
	if len(raw) != 2 || raw[0]["id"] == nil {
		t.Fatalf("GET keys: %s", body)
	}

	must(t, cl.DeleteKey(bg, k.ID))
	err = cl.DeleteKey(bg, k.ID)
	wantCode(t, err, 404, adminapi.CodeNoSuchAccessKey)
	ks, err = cl.Keys(bg)
	must(t, err)
	if len(ks) != 1 || ks[0].ID != k2.ID {
		t.Fatalf("keys after delete %+v", ks)
	}
}

// TestKeyPolicies: a key is created with its policy, which is stored and
// listed; bad policies are refused.
func TestKeyPolicies(t *testing.T) {
	c := admintest.Start(t, admintest.Options{})
	cl := c.Client()
	pol := &adminapi.KeyPolicy{Access: "read-only", Bucket: "photos", Prefix: "2024/"}
	k, err := cl.CreateKey(bg, pol)
	must(t, err)
	if k.Policy == nil || *k.Policy != *pol {
		t.Fatalf("created %+v, want policy %+v", k, pol)
	}
	stored, err := c.Store.GetKey(bg, k.ID)
	must(t, err)
	if stored.Policy == nil || stored.Policy.Access != "read-only" || stored.Policy.Bucket != "photos" || stored.Policy.Prefix != "2024/" {
		t.Fatalf("stored policy %+v", stored.Policy)
	}
	ks, err := cl.Keys(bg)
	must(t, err)
	if len(ks) != 1 || ks[0].Policy == nil || *ks[0].Policy != *pol {
		t.Fatalf("listed %+v", ks)
	}
	for _, bad := range []*adminapi.KeyPolicy{
		{Access: "admin"},
		{Access: "read-write", Bucket: "Not_A_Bucket"},
		{Access: "read-write", Prefix: "p/"},
	} {
		_, err := cl.CreateKey(bg, bad)
		wantCode(t, err, 400, adminapi.CodeBadRequest)
	}
}
