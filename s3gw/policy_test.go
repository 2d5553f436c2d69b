package s3gw

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"a*", "abc", true},
		{"a*c", "abc", true},
		{"a*c", "abcd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*b*", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"pub/*", "pub/x/y", true},
		{"pub/*", "pubx", false},
		{"a*", "*", false},
		{"**", "x", true},
	} {
		if got := wildcardMatch(c.p, c.s, false); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
	if !wildcardMatch("s3:get*", "S3:GetObject", true) {
		t.Error("folded match failed")
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for _, c := range []struct{ doc, msg string }{
		{`[]`, "first byte"},
		{`{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{`{"Version":"2013-01-01","Statement":[]}`, "valid version"},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "Missing required field Principal"},
		{`{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "Invalid effect"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"iam:GetUser","Resource":"arn:aws:s3:::b/*"}]}`, "invalid action"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`, "invalid resource"},
		{`{"Statement":[{"Effect":"Allow","Principal":"x","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "Invalid principal"},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "Invalid principal"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringSortOf":{"s3:prefix":"a"}}}]}`, "Invalid Condition type"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"not-an-ip"}}}]}`, "Invalid value"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Bogus":1}]}`, "Invalid statement"},
		{`{"Statement":[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"a","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, "unique"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::b/*"}}`, "Action"},
		{"{" + strings.Repeat(" ", maxPolicyLen) + "}", "maximum allowed document size"},
	} {
		_, err := ParsePolicy([]byte(c.doc), "b")
		var api *APIError
		if !errors.As(err, &api) || api.Code != "MalformedPolicy" || !strings.Contains(api.Message, c.msg) {
			t.Errorf("ParsePolicy(%.80s) = %v, want MalformedPolicy with %q", c.doc, err, c.msg)
		}
	}
}

// TestEvaluate runs one policy against requests: who, what, where, and
// under which condition values.
func TestEvaluate(t *testing.T) {
	doc := `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
	     "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/pub/*"},
	    {"Sid": "ListPub", "Effect": "Allow", "Principal": {"AWS": "*"},
	     "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
	     "Condition": {"StringLike": {"s3:prefix": ["pub/*", "pub/"]}}},
	    {"Sid": "NoSecret", "Effect": "Deny", "Principal": "*",
	     "Action": "s3:*", "Resource": "arn:aws:s3:::b/pub/secret*"},
	    {"Sid": "Bob", "Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam::cairn:user/BOB", "EVE"]},
	     "NotAction": "s3:Get*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]},
	    {"Sid": "LAN", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
	     "Resource": "arn:aws:s3:::b/drop/*",
	     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": "true"}}},
	    {"Sid": "Window", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
	     "Resource": "arn:aws:s3:::b/timed/*",
	     "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
	                   "DateLessThan": {"aws:CurrentTime": "2030-02-01T00:00:00Z"}}},
	    {"Sid": "NotLoopback", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
	     "Resource": "arn:aws:s3:::b/lan/*",
	     "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.168.0.0/16", "::1"]}}},
	    {"Sid": "LanRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
	     "Resource": "arn:aws:s3:::b/lan/*"}
	  ]
	}`
	p, err := ParsePolicy([]byte(doc), "b")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name              string
		who, action, path string
		query             string
		remote            string
		tls               bool
		at                time.Time
		want              decision
	}{
		{"anonymous reads pub", "", "s3:GetObject", "/b/pub/a.txt", "", "", false, now, decisionAllow},
		{"anonymous cannot read elsewhere", "", "s3:GetObject", "/b/priv/a.txt", "", "", false, now, decisionNone},
		{"anonymous cannot write pub", "", "s3:PutObject", "/b/pub/a.txt", "", "", false, now, decisionNone},
		{"deny beats allow", "", "s3:GetObject", "/b/pub/secret.txt", "", "", false, now, decisionDeny},
		{"deny beats allow for keys", "ALICE", "s3:GetObject", "/b/pub/secret.txt", "", "", false, now, decisionDeny},
		{"listing under pub", "", "s3:ListBucket", "/b", "prefix=pub/", "", false, now, decisionAllow},
		{"listing elsewhere", "", "s3:ListBucket", "/b", "prefix=priv/", "", false, now, decisionNone},
		{"listing without prefix", "", "s3:ListBucket", "/b", "", "", false, now, decisionNone},
		{"bob by ARN cannot put", "BOB", "s3:PutObject", "/b/x", "", "", false, now, decisionDeny},
		{"eve by key ID cannot delete", "EVE", "s3:DeleteObject", "/b/x", "", "", false, now, decisionDeny},
		{"bob can get", "BOB", "s3:GetObject", "/b/x", "", "", false, now, decisionNone},
		{"alice is not bob", "ALICE", "s3:PutObject", "/b/x", "", "", false, now, decisionNone},
		{"drop from LAN over TLS", "", "s3:PutObject", "/b/drop/f", "", "10.1.2.3:5000", true, now, decisionAllow},
		{"drop from LAN in clear", "", "s3:PutObject", "/b/drop/f", "", "10.1.2.3:5000", false, now, decisionNone},
		{"drop from elsewhere", "", "s3:PutObject", "/b/drop/f", "", "11.1.2.3:5000", true, now, decisionNone},
		{"before the window", "", "s3:GetObject", "/b/timed/f", "", "", false, now, decisionNone},
		{"in the window", "", "s3:GetObject", "/b/timed/f", "", "", false, time.Date(2030, 1, 15, 0, 0, 0, 0, time.UTC), decisionAllow},
		{"after the window", "", "s3:GetObject", "/b/timed/f", "", "", false, time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), decisionNone},
		{"lan from lan", "", "s3:GetObject", "/b/lan/f", "", "192.168.1.1:80", false, now, decisionAllow},
		{"lan from v6 loopback", "", "s3:GetObject", "/b/lan/f", "", "[::1]:80", false, now, decisionAllow},
		{"lan from outside", "", "s3:GetObject", "/b/lan/f", "", "8.8.8.8:80", false, now, decisionDeny},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := c.path
			if c.query != "" {
				target += "?" + c.query
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			if c.remote != "" {
				r.RemoteAddr = c.remote
			}
			r.TLS = nil
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			o := &op{query: r.URL.Query()}
			o.bucket, o.key, _ = strings.Cut(strings.TrimPrefix(c.path, "/"), "/")
			rc := newReqContext(r, c.who, c.action, resourceARN(o), c.at)
			opConditionKeys(rc, o)
			if got := evaluate(rc, p); got != c.want {
				t.Errorf("evaluate = %v, want %v (keys %v)", got, c.want, rc.keys)
			}
		})
	}
}

// TestIAMActions checks the action of every operation parseOp knows
// that AWS names differently from the operation.
func TestIAMActions(t *testing.T) {
	for _, c := range []struct{ method, target, hdr, want string }{
		{"GET", "/", "", "s3:ListAllMyBuckets"},
		{"GET", "/b", "", "s3:ListBucket"},
		{"GET", "/b?list-type=2", "", "s3:ListBucket"},
		{"HEAD", "/b", "", "s3:ListBucket"},
		{"GET", "/b?versions", "", "s3:ListBucketVersions"},
		{"GET", "/b?uploads", "", "s3:ListBucketMultipartUploads"},
		{"PUT", "/b", "", "s3:CreateBucket"},
		{"DELETE", "/b", "", "s3:DeleteBucket"},
		{"GET", "/b?location", "", "s3:GetBucketLocation"},
		{"GET", "/b?policy", "", "s3:GetBucketPolicy"},
		{"PUT", "/b?policy", "", "s3:PutBucketPolicy"},
		{"DELETE", "/b?policy", "", "s3:DeleteBucketPolicy"},
		{"GET", "/b?policyStatus", "", "s3:GetBucketPolicyStatus"},
		{"GET", "/b?lifecycle", "", "s3:GetLifecycleConfiguration"},
		{"DELETE", "/b?lifecycle", "", "s3:PutLifecycleConfiguration"},
		{"GET", "/b?object-lock", "", "s3:GetBucketObjectLockConfiguration"},
		{"DELETE", "/b?tagging", "", "s3:PutBucketTagging"},
		{"POST", "/b?delete", "", "s3:DeleteObject"},
		{"GET", "/b/k", "", "s3:GetObject"},
		{"GET", "/b/k?versionId=3", "", "s3:GetObjectVersion"},
		{"HEAD", "/b/k", "", "s3:GetObject"},
		{"PUT", "/b/k", "", "s3:PutObject"},
		{"PUT", "/b/k", "X-Amz-Copy-Source", "s3:PutObject"},
		{"DELETE", "/b/k", "", "s3:DeleteObject"},
		{"DELETE", "/b/k?versionId=3", "", "s3:DeleteObjectVersion"},
		{"POST", "/b/k?uploads", "", "s3:PutObject"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", "s3:PutObject"},
		{"POST", "/b/k?uploadId=u", "", "s3:PutObject"},
		{"DELETE", "/b/k?uploadId=u", "", "s3:AbortMultipartUpload"},
		{"GET", "/b/k?uploadId=u", "", "s3:ListMultipartUploadParts"},
		{"GET", "/b/k?retention", "", "s3:GetObjectRetention"},
		{"PUT", "/b/k?legal-hold", "", "s3:PutObjectLegalHold"},
		{"PUT", "/b/k?tagging&versionId=3", "", "s3:PutObjectVersionTagging"},
		{"GET", "/b/k?tagging&versionId=3", "", "s3:GetObjectVersionTagging"},
		{"GET", "/b/k?attributes", "", "s3:GetObjectAttributes"},
		{"GET", "/b/k?attributes&versionId=3", "", "s3:GetObjectVersionAttributes"},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.hdr != "" {
			r.Header.Set(c.hdr, "/b/src")
		}
		o, err := parseOp(r, nil)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.target, err)
			continue
		}
		if got := iamAction(o); got != c.want {
			t.Errorf("%s %s (%s) = %s, want %s", c.method, c.target, o.name(), got, c.want)
		}
	}
}
