//go:build integration

package itest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cliVersion is one entry of list-object-versions as the AWS CLI prints it.
type cliVersion struct {
	Key          string
	VersionId    string
	IsLatest     bool
	ETag         string
	Size         int64
	StorageClass string
	LastModified string
}

type cliVersions struct {
	Versions       []cliVersion
	DeleteMarkers  []cliVersion
	CommonPrefixes []struct{ Prefix string }
}

// TestAWSCLIVersioningCommands (issue 14, real clients) runs the AWS CLI's
// versioning and object-lock commands as AWS documents them and checks the
// JSON the CLI prints: put/get-bucket-versioning (Enabled, Suspended),
// list-object-versions (versions, delete markers, prefix and delimiter),
// get-object and delete-object by --version-id (a delete marker removed
// brings the object back), the null version of a suspended bucket, and the
// lock configuration's default rule and a version's retention date as
// get-object-lock-configuration, get-object-retention and head-object print
// them. TestObjectLock covers the lock's refusals.
func TestAWSCLIVersioningCommands(t *testing.T) {
	p := startDev(t, "")
	env := awsEnv(t, p)
	ep := "--endpoint-url=" + p.url()
	dir := t.TempDir()
	api := func(args ...string) (string, error) {
		return toolErr(t, env, "aws", append([]string{ep, "--output", "json", "s3api"}, args...)...)
	}
	must := func(out any, args ...string) {
		t.Helper()
		if out != nil { // fields the CLI leaves out must read as zero
			v := reflect.ValueOf(out).Elem()
			v.Set(reflect.Zero(v.Type()))
		}
		s, err := api(args...)
		if err != nil {
			t.Fatalf("aws s3api %s: %v\n%s", strings.Join(args, " "), err, s)
		}
		if out != nil {
			if err := json.Unmarshal([]byte(s), out); err != nil {
				t.Fatalf("aws s3api %s: %v\n%s", strings.Join(args, " "), err, s)
			}
		}
	}
	refused := func(code string, args ...string) {
		t.Helper()
		out, err := api(args...)
		if err == nil || !strings.Contains(out, "("+code+")") {
			t.Fatalf("aws s3api %s: want %s, got %v\n%s", strings.Join(args, " "), code, err, out)
		}
	}
	body := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	type putOut struct{ ETag, VersionId string }

	must(nil, "create-bucket", "--bucket", "docs")
	// A bucket that never had versioning: no Status.
	if out, err := api("get-bucket-versioning", "--bucket", "docs"); err != nil || strings.Contains(out, "Status") {
		t.Fatalf("get-bucket-versioning of a new bucket: %v\n%s", err, out)
	}
	must(nil, "put-bucket-versioning", "--bucket", "docs", "--versioning-configuration", "Status=Enabled")
	var vs struct{ Status, MFADelete string }
	must(&vs, "get-bucket-versioning", "--bucket", "docs")
	if vs.Status != "Enabled" || vs.MFADelete != "" {
		t.Fatalf("get-bucket-versioning after Enabled: %+v", vs)
	}

	var v1, v2 putOut
	must(&v1, "put-object", "--bucket", "docs", "--key", "notes/a.txt", "--body", body("v1", "first draft"))
	must(&v2, "put-object", "--bucket", "docs", "--key", "notes/a.txt", "--body", body("v2", "second draft, longer"))
	if v1.VersionId == "" || v1.VersionId == "null" || v2.VersionId == "" || v1.VersionId == v2.VersionId {
		t.Fatalf("put-object version IDs %q and %q", v1.VersionId, v2.VersionId)
	}
	must(nil, "put-object", "--bucket", "docs", "--key", "top.txt", "--body", body("top", "top"))

	var lv cliVersions
	must(&lv, "list-object-versions", "--bucket", "docs", "--prefix", "notes/")
	if len(lv.Versions) != 2 || len(lv.DeleteMarkers) != 0 {
		t.Fatalf("list-object-versions --prefix notes/: %+v", lv)
	}
	want := []cliVersion{
		{Key: "notes/a.txt", VersionId: v2.VersionId, IsLatest: true, ETag: v2.ETag, Size: 20, StorageClass: "STANDARD"},
		{Key: "notes/a.txt", VersionId: v1.VersionId, IsLatest: false, ETag: v1.ETag, Size: 11, StorageClass: "STANDARD"},
	}
	for i, w := range want {
		g := lv.Versions[i]
		if _, err := time.Parse(time.RFC3339, g.LastModified); err != nil {
			t.Fatalf("version %d LastModified %q: %v", i, g.LastModified, err)
		}
		g.LastModified = ""
		if g != w {
			t.Fatalf("list-object-versions entry %d is %+v, want %+v", i, g, w)
		}
	}
	must(&lv, "list-object-versions", "--bucket", "docs", "--delimiter", "/")
	if len(lv.Versions) != 1 || lv.Versions[0].Key != "top.txt" || len(lv.CommonPrefixes) != 1 || lv.CommonPrefixes[0].Prefix != "notes/" {
		t.Fatalf("list-object-versions --delimiter /: %+v", lv)
	}

	// DELETE without a version ID leaves a delete marker.
	var del struct {
		DeleteMarker bool
		VersionId    string
	}
	must(&del, "delete-object", "--bucket", "docs", "--key", "notes/a.txt")
	marker := del.VersionId
	if !del.DeleteMarker || marker == "" || marker == v1.VersionId || marker == v2.VersionId {
		t.Fatalf("delete-object without --version-id: %+v", del)
	}
	refused("NoSuchKey", "get-object", "--bucket", "docs", "--key", "notes/a.txt", filepath.Join(dir, "gone"))
	must(&lv, "list-object-versions", "--bucket", "docs", "--prefix", "notes/")
	if len(lv.DeleteMarkers) != 1 || lv.DeleteMarkers[0].VersionId != marker || !lv.DeleteMarkers[0].IsLatest ||
		len(lv.Versions) != 2 || lv.Versions[0].IsLatest || lv.Versions[1].IsLatest {
		t.Fatalf("list-object-versions after the delete: %+v", lv)
	}

	// An old version by ID, under the marker.
	var got struct {
		VersionId     string
		ContentLength int64
		ETag          string
	}
	out := filepath.Join(dir, "out")
	must(&got, "get-object", "--bucket", "docs", "--key", "notes/a.txt", "--version-id", v1.VersionId, out)
	if b, _ := os.ReadFile(out); string(b) != "first draft" || got.VersionId != v1.VersionId || got.ContentLength != 11 || got.ETag != v1.ETag {
		t.Fatalf("get-object --version-id %s: %+v, %q", v1.VersionId, got, b)
	}

	// Deleting the marker by its ID brings the latest version back.
	must(&del, "delete-object", "--bucket", "docs", "--key", "notes/a.txt", "--version-id", marker)
	if !del.DeleteMarker || del.VersionId != marker {
		t.Fatalf("delete-object of the marker: %+v", del)
	}
	must(&got, "get-object", "--bucket", "docs", "--key", "notes/a.txt", out)
	if b, _ := os.ReadFile(out); string(b) != "second draft, longer" || got.VersionId != v2.VersionId {
		t.Fatalf("get-object after the marker's removal: %+v, %q", got, b)
	}
	// Deleting a version by ID removes it for good.
	must(&del, "delete-object", "--bucket", "docs", "--key", "notes/a.txt", "--version-id", v1.VersionId)
	if del.DeleteMarker || del.VersionId != v1.VersionId {
		t.Fatalf("delete-object --version-id %s: %+v", v1.VersionId, del)
	}
	refused("NoSuchVersion", "get-object", "--bucket", "docs", "--key", "notes/a.txt", "--version-id", v1.VersionId, out)
	must(&lv, "list-object-versions", "--bucket", "docs", "--prefix", "notes/")
	if len(lv.Versions) != 1 || lv.Versions[0].VersionId != v2.VersionId || !lv.Versions[0].IsLatest || len(lv.DeleteMarkers) != 0 {
		t.Fatalf("list-object-versions after deleting %s: %+v", v1.VersionId, lv)
	}

	// Suspended: a PUT writes the null version, the older ones stay.
	must(nil, "put-bucket-versioning", "--bucket", "docs", "--versioning-configuration", "Status=Suspended")
	must(&vs, "get-bucket-versioning", "--bucket", "docs")
	if vs.Status != "Suspended" {
		t.Fatalf("get-bucket-versioning after Suspended: %+v", vs)
	}
	var v3 putOut
	must(&v3, "put-object", "--bucket", "docs", "--key", "notes/a.txt", "--body", body("v3", "third"))
	must(&lv, "list-object-versions", "--bucket", "docs", "--prefix", "notes/")
	if len(lv.Versions) != 2 || lv.Versions[0].VersionId != "null" || !lv.Versions[0].IsLatest || lv.Versions[0].Size != 5 ||
		lv.Versions[1].VersionId != v2.VersionId || lv.Versions[1].IsLatest {
		t.Fatalf("list-object-versions after a PUT to the suspended bucket (put answered %+v): %+v", v3, lv)
	}
	must(&got, "get-object", "--bucket", "docs", "--key", "notes/a.txt", "--version-id", "null", out)
	// S3 names the null version of a bucket whose versioning was ever
	// set: x-amz-version-id: null on the PUT and the GET.
	if b, _ := os.ReadFile(out); string(b) != "third" || got.VersionId != "null" || v3.VersionId != "null" {
		t.Fatalf("get-object --version-id null: %+v, %q (put-object answered %+v)", got, b, v3)
	}

	// Object lock: the default rule and a version's retention as printed.
	must(nil, "create-bucket", "--bucket", "locked", "--object-lock-enabled-for-bucket")
	must(nil, "put-object-lock-configuration", "--bucket", "locked",
		"--object-lock-configuration", `{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":2}}}`)
	var lc struct {
		ObjectLockConfiguration struct {
			ObjectLockEnabled string
			Rule              struct {
				DefaultRetention struct {
					Mode  string
					Days  int
					Years int
				}
			}
		}
	}
	must(&lc, "get-object-lock-configuration", "--bucket", "locked")
	if c := lc.ObjectLockConfiguration; c.ObjectLockEnabled != "Enabled" || c.Rule.DefaultRetention.Mode != "GOVERNANCE" ||
		c.Rule.DefaultRetention.Days != 2 || c.Rule.DefaultRetention.Years != 0 {
		t.Fatalf("get-object-lock-configuration: %+v", lc)
	}
	until := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	var lp putOut
	must(&lp, "put-object", "--bucket", "locked", "--key", "k", "--body", body("k", "kept"),
		"--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date", until.Format(time.RFC3339))
	var ret struct {
		Retention struct{ Mode, RetainUntilDate string }
	}
	must(&ret, "get-object-retention", "--bucket", "locked", "--key", "k", "--version-id", lp.VersionId)
	if d, err := time.Parse(time.RFC3339, ret.Retention.RetainUntilDate); err != nil || !d.Equal(until) || ret.Retention.Mode != "COMPLIANCE" {
		t.Fatalf("get-object-retention: %+v, want COMPLIANCE until %s (%v)", ret, until.Format(time.RFC3339), err)
	}
	must(nil, "put-object-legal-hold", "--bucket", "locked", "--key", "k", "--legal-hold", "Status=ON")
	var head struct {
		VersionId                 string
		ObjectLockMode            string
		ObjectLockRetainUntilDate string
		ObjectLockLegalHoldStatus string
	}
	must(&head, "head-object", "--bucket", "locked", "--key", "k")
	if d, err := time.Parse(time.RFC3339, head.ObjectLockRetainUntilDate); err != nil || !d.Equal(until) ||
		head.ObjectLockMode != "COMPLIANCE" || head.ObjectLockLegalHoldStatus != "ON" || head.VersionId != lp.VersionId {
		t.Fatalf("head-object of a locked, held version: %+v (%v)", head, err)
	}
	// Default retention: a PUT without lock headers gets the rule's mode
	// and a date the rule's days ahead.
	var dp putOut
	before := time.Now().UTC()
	must(&dp, "put-object", "--bucket", "locked", "--key", "dflt", "--body", body("d", "default"))
	must(&ret, "get-object-retention", "--bucket", "locked", "--key", "dflt", "--version-id", dp.VersionId)
	d, err := time.Parse(time.RFC3339, ret.Retention.RetainUntilDate)
	if err != nil || ret.Retention.Mode != "GOVERNANCE" || d.Before(before.Add(48*time.Hour).Truncate(time.Second)) ||
		d.After(time.Now().UTC().Add(48*time.Hour+time.Second)) {
		t.Fatalf("retention from the default rule: %+v (%v), want GOVERNANCE 2 days from %s", ret, err, before.Format(time.RFC3339))
	}
}
