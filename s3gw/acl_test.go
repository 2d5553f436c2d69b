package s3gw

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

func TestParseCannedACL(t *testing.T) {
	for _, c := range []struct{ in, want, code string }{
		{"", "", ""},
		{"private", "", ""},
		{"bucket-owner-full-control", "", ""},
		{"bucket-owner-read", "", ""},
		{"public-read", "public-read", ""},
		{"public-read-write", "public-read-write", ""},
		{"authenticated-read", "authenticated-read", ""},
		{"log-delivery-write", "", "NotImplemented"},
		{"aws-exec-read", "", "NotImplemented"},
		{"Public-Read", "", "InvalidArgument"},
	} {
		got, err := parseCannedACL(c.in)
		var api *APIError
		code := ""
		if errors.As(err, &api) {
			code = api.Code
		}
		if got != c.want || code != c.code {
			t.Errorf("parseCannedACL(%q) = %q, %v; want %q, %s", c.in, got, err, c.want, c.code)
		}
	}
}

// TestACLRoundTrip writes each canned ACL's AccessControlPolicy and reads
// it back as a PUT ?acl document: the same canned ACL.
func TestACLRoundTrip(t *testing.T) {
	o := &op{auth: &authInfo{accessKey: "AK"}}
	for canned := range groupGrants {
		out, err := xml.Marshal(aclXML(o, canned))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>AK</ID>`) {
			t.Errorf("%q: %s", canned, out)
		}
		var doc putACLXML
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		got, err := cannedOf(&doc)
		if err != nil || got != canned {
			t.Errorf("%q read back as %q, %v:\n%s", canned, got, err, out)
		}
	}
	for _, bad := range []string{
		`<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail"><EmailAddress>a@b</EmailAddress></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`,
		`<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>other</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`,
		`<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>` + groupAllUsers + `</URI></Grantee><Permission>WRITE</Permission></Grant></AccessControlList></AccessControlPolicy>`,
	} {
		var doc putACLXML
		if err := xml.Unmarshal([]byte(bad), &doc); err != nil {
			t.Fatal(err)
		}
		if _, err := cannedOf(&doc); !errors.Is(err, errNotImplemented) {
			t.Errorf("cannedOf(%s) = %v, want NotImplemented", bad, err)
		}
	}
}

func TestACLAllowsAnonymous(t *testing.T) {
	for _, c := range []struct {
		acl, action string
		onObject    bool
		want        bool
	}{
		{"", "s3:listbucket", false, false},
		{"public-read", "s3:listbucket", false, true},
		{"public-read", "s3:getobject", false, false}, // a bucket's READ lists, it does not read objects
		{"public-read", "s3:getobject", true, true},
		{"public-read", "s3:putobject", true, false},
		{"authenticated-read", "s3:getobject", true, false},
		{"public-read-write", "s3:getobjectversion", true, true},
	} {
		if got := aclAllowsAnonymous(c.acl, c.action, c.onObject); got != c.want {
			t.Errorf("aclAllowsAnonymous(%q, %s, %v) = %v", c.acl, c.action, c.onObject, got)
		}
	}
	if !bucketACLAllowsWrite("public-read-write", "s3:putobject") || bucketACLAllowsWrite("public-read", "s3:putobject") {
		t.Error("bucketACLAllowsWrite")
	}
}
