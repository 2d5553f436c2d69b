package s3gw

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestPostPolicy(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	doc := `{"expiration": "2030-01-01T13:00:00.000Z",
	  "conditions": [{"bucket": "up"}, ["starts-with", "$key", "user/"], {"acl": "public-read"},
	    ["content-length-range", 1, "100"], ["starts-with", "$Content-Type", "image/"],
	    ["eq", "$x-amz-meta-tag", "t"], {"success_action_status": "201"}]}`
	p, err := parsePostPolicy(b64(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p.minSize != 1 || p.maxSize != 100 {
		t.Fatalf("content-length-range %d-%d", p.minSize, p.maxSize)
	}
	ok := map[string]string{"key": "user/a.png", "acl": "public-read", "content-type": "image/png",
		"x-amz-meta-tag": "t", "success_action_status": "201", "policy": "...", "x-amz-signature": "...", "x-ignore-me": "1"}
	if err := p.check(ok, "up", now); err != nil {
		t.Fatalf("a form that meets the policy: %v", err)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		fields map[string]string
		bucket string
		at     time.Time
		msg    string
	}{
		{ok, "up", now.Add(time.Hour), "Policy expired."},
		{ok, "other", now, `Policy Condition failed: ["eq", "$bucket", "up"]`},
		{with("key", "admin/a.png"), "up", now, `Policy Condition failed: ["starts-with", "$key", "user/"]`},
		{with("acl", "private"), "up", now, `Policy Condition failed: ["eq", "$acl", "public-read"]`},
		{with("content-type", "text/plain"), "up", now, "Content-Type"},
		{with("x-amz-meta-tag", ""), "up", now, "x-amz-meta-tag"},
		{with("x-amz-meta-other", "x"), "up", now, "Extra input fields: x-amz-meta-other"},
	} {
		err := p.check(c.fields, c.bucket, c.at)
		var api *APIError
		if !errors.As(err, &api) || api.Code != "AccessDenied" || !strings.Contains(api.Message, "Invalid according to Policy: ") || !strings.Contains(api.Message, c.msg) {
			t.Errorf("check = %v, want AccessDenied with %q", err, c.msg)
		}
	}
	for _, bad := range []string{"%%%", b64("{"), b64(`{"conditions": []}`), b64(`{"expiration": "2030-01-01T00:00:00Z"}`),
		b64(`{"expiration": "tomorrow", "conditions": []}`),
		b64(`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["matches", "$key", "x"]]}`),
		b64(`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 10, 1]]}`)} {
		if _, err := parsePostPolicy(bad); !errors.Is(err, errInvalidPolicyDocument) {
			t.Errorf("parsePostPolicy(%s) = %v, want InvalidPolicyDocument", bad, err)
		}
	}
}

func TestSizeCheck(t *testing.T) {
	read := func(n, lo, hi int64) error {
		_, err := io.ReadAll(&sizeCheck{r: strings.NewReader(strings.Repeat("x", int(n))), min: lo, max: hi})
		return err
	}
	if err := read(10, 1, 10); err != nil {
		t.Errorf("10 bytes in 1-10: %v", err)
	}
	if err := read(11, 1, 10); !errors.Is(err, errEntityTooLarge) {
		t.Errorf("11 bytes in 1-10: %v", err)
	}
	if err := read(0, 1, 10); err == nil || err.(*APIError).Code != "EntityTooSmall" {
		t.Errorf("0 bytes in 1-10: %v", err)
	}
}
