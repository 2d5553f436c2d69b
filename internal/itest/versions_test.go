//go:build integration

package itest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// wantStatus checks a response's status and S3 error code ("" for a
// success) and returns the response.
func wantStatus(t *testing.T, req *http.Request, status int, code string) (*http.Response, []byte) {
	t.Helper()
	resp, body := send(t, req)
	var e s3Error
	xml.Unmarshal(body, &e)
	if resp.StatusCode != status || (req.Method != http.MethodHead && e.Code != code) {
		t.Fatalf("%s %s?%s: got %d %q, want %d %q\n%s", req.Method, req.URL.Path, req.URL.RawQuery, resp.StatusCode, e.Code, status, code, body)
	}
	return resp, body
}

type listVersions struct {
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIdMarker string
	Entries             []struct {
		XMLName   xml.Name
		Key       string
		VersionId string
		IsLatest  bool
		ETag      string
		Size      int64
	} `xml:",any"`
}

func (l listVersions) String() string {
	var out []string
	for _, e := range l.Entries {
		if e.XMLName.Local != "Version" && e.XMLName.Local != "DeleteMarker" {
			continue
		}
		s := e.Key + "@" + e.VersionId
		if e.XMLName.Local == "DeleteMarker" {
			s += "(dm)"
		}
		if e.IsLatest {
			s += "*"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestVersioning (issue 14, versioning): versions, delete markers, the
// null version, ListObjectVersions and reads, copies and deletes by
// version ID, through minio-go and hand-signed requests against storaged
// --dev, with S3's exact answers; old versions stay readable after the
// garbage collector has had its grace period.
func TestVersioning(t *testing.T) {
	p := startGCDev(t)
	c := p.client()
	ctx := ctxT(t)
	now := time.Now()
	req := func(method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, q, body, hdr, time.Now(), p.secret)
	}
	_ = now
	mkBucket(t, c, "ver")

	// Unversioned: one null version, listed as such.
	do(t, req("PUT", "/ver/k", nil, []byte("null-0"), nil))
	do(t, req("PUT", "/ver/k", nil, []byte("null-1"), nil))
	_, body := wantStatus(t, req("GET", "/ver", url.Values{"versions": {""}}, nil, nil), 200, "")
	var lv listVersions
	if err := xml.Unmarshal(body, &lv); err != nil {
		t.Fatal(err)
	}
	if lv.String() != "k@null*" {
		t.Fatalf("versions of an unversioned bucket: %s\n%s", lv, body)
	}
	resp, got := wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {"null"}}, nil, nil), 200, "")
	if string(got) != "null-1" || resp.Header.Get("x-amz-version-id") != "" {
		t.Fatalf("GET versionId=null: %q, x-amz-version-id %q (S3 names no version in a bucket never versioned)", got, resp.Header.Get("x-amz-version-id"))
	}
	wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {"not-a-version"}}, nil, nil), 400, "InvalidArgument")
	wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {"00000000000a0001"}}, nil, nil), 404, "NoSuchVersion")

	// Enabled.
	_, body = wantStatus(t, req("GET", "/ver", url.Values{"versioning": {""}}, nil, nil), 200, "")
	if strings.Contains(string(body), "<Status>") {
		t.Fatalf("versioning of a new bucket: %s", body)
	}
	enable := []byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`)
	wantStatus(t, req("PUT", "/ver", url.Values{"versioning": {""}}, enable, nil), 400, "InvalidRequest") // no Content-MD5
	if err := c.EnableVersioning(ctx, "ver"); err != nil {
		t.Fatal(err)
	}
	vc, err := c.GetBucketVersioning(ctx, "ver")
	if err != nil || vc.Status != "Enabled" {
		t.Fatalf("GetBucketVersioning: %+v %v", vc, err)
	}
	var ids []string
	var datas [][]byte
	for i := 0; i < 3; i++ {
		data := payloadBytes(uint64(100+i), int64(300<<10+i)) // not inline: chunks on the storage nodes
		info, err := c.PutObject(ctx, "ver", "k", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.VersionID == "" || (len(ids) > 0 && info.VersionID == ids[len(ids)-1]) {
			t.Fatalf("PUT %d answered version %q", i, info.VersionID)
		}
		ids = append(ids, info.VersionID)
		datas = append(datas, data)
	}
	// Overwritten versions are not garbage: wait past the grace period
	// and read every one.
	time.Sleep(gcGrace + 3*time.Second)
	for i, id := range ids {
		o, err := c.GetObject(ctx, "ver", "k", minio.GetObjectOptions{VersionID: id})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(b, datas[i]) {
			t.Fatalf("version %d (%s) read back %d bytes, err %v", i, id, len(b), err)
		}
		st, _ := o.Stat()
		if st.VersionID != id {
			t.Fatalf("version %s answered x-amz-version-id %q", id, st.VersionID)
		}
	}
	_, body = wantStatus(t, req("GET", "/ver", url.Values{"versions": {""}}, nil, nil), 200, "")
	lv = listVersions{}
	xml.Unmarshal(body, &lv)
	if want := fmt.Sprintf("k@%s* k@%s k@%s k@null", ids[2], ids[1], ids[0]); lv.String() != want {
		t.Fatalf("versions %s, want %s", lv, want)
	}
	// The null version written before versioning, now in a versioned
	// bucket: S3 names it, x-amz-version-id: null.
	resp, got = wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {"null"}}, nil, nil), 200, "")
	if string(got) != "null-1" || resp.Header.Get("x-amz-version-id") != "null" {
		t.Fatalf("GET versionId=null in an Enabled bucket: %q, x-amz-version-id %q", got, resp.Header.Get("x-amz-version-id"))
	}

	// A DELETE makes a delete marker: GET answers 404 NoSuchKey with
	// x-amz-delete-marker; GET of the marker by ID 405.
	resp, _ = wantStatus(t, req("DELETE", "/ver/k", nil, nil, nil), 204, "")
	dm := resp.Header.Get("x-amz-version-id")
	if resp.Header.Get("x-amz-delete-marker") != "true" || dm == "" {
		t.Fatalf("DELETE headers %v", resp.Header)
	}
	resp, _ = wantStatus(t, req("GET", "/ver/k", nil, nil, nil), 404, "NoSuchKey")
	if resp.Header.Get("x-amz-delete-marker") != "true" || resp.Header.Get("x-amz-version-id") != dm {
		t.Fatalf("GET under a delete marker: headers %v", resp.Header)
	}
	resp, _ = wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {dm}}, nil, nil), 405, "MethodNotAllowed")
	if resp.Header.Get("x-amz-delete-marker") != "true" {
		t.Fatalf("GET of a delete marker: headers %v", resp.Header)
	}
	wantStatus(t, req("HEAD", "/ver/k", nil, nil, nil), 404, "")
	n := 0
	for o := range c.ListObjects(ctx, "ver", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	if n != 0 {
		t.Fatalf("ListObjects shows %d objects under a delete marker", n)
	}
	var listed []string
	for o := range c.ListObjects(ctx, "ver", minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		listed = append(listed, fmt.Sprintf("%s@%s:%v", o.Key, o.VersionID, o.IsDeleteMarker))
	}
	if want := fmt.Sprintf("[k@%s:true k@%s:false k@%s:false k@%s:false k@null:false]", dm, ids[2], ids[1], ids[0]); fmt.Sprint(listed) != want {
		t.Fatalf("minio-go version listing %v, want %s", listed, want)
	}
	wantStatus(t, req("DELETE", "/ver", nil, nil, nil), 409, "BucketNotEmpty")

	// Copy an old version: a new current version with its bytes.
	cp, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "ver", Object: "k"},
		minio.CopySrcOptions{Bucket: "ver", Object: "k", VersionID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if cp.VersionID == "" || cp.VersionID == ids[0] {
		t.Fatalf("copy answered version %q", cp.VersionID)
	}
	_, got = wantStatus(t, req("GET", "/ver/k", nil, nil, nil), 200, "")
	if !bytes.Equal(got, datas[0]) {
		t.Fatal("the copy of version 0 reads other bytes")
	}
	wantStatus(t, req("PUT", "/ver/k2", nil, nil, map[string]string{"X-Amz-Copy-Source": "/ver/k?versionId=" + dm}), 400, "InvalidRequest")

	// Delete one version by ID; the others stay.
	resp, _ = wantStatus(t, req("DELETE", "/ver/k", url.Values{"versionId": {ids[1]}}, nil, nil), 204, "")
	if resp.Header.Get("x-amz-version-id") != ids[1] || resp.Header.Get("x-amz-delete-marker") != "" {
		t.Fatalf("DELETE by version headers %v", resp.Header)
	}
	wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {ids[1]}}, nil, nil), 404, "NoSuchVersion")
	wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {ids[2]}}, nil, nil), 200, "")

	// DeleteObjects with version IDs and without.
	errs := c.RemoveObjects(ctx, "ver", func() <-chan minio.ObjectInfo {
		ch := make(chan minio.ObjectInfo, 2)
		ch <- minio.ObjectInfo{Key: "k", VersionID: ids[2]}
		ch <- minio.ObjectInfo{Key: "k", VersionID: dm}
		close(ch)
		return ch
	}(), minio.RemoveObjectsOptions{})
	for e := range errs {
		t.Fatalf("RemoveObjects: %v", e.Err)
	}
	multi := []byte(`<Delete><Object><Key>k</Key><VersionId>zz</VersionId></Object><Object><Key>k</Key></Object></Delete>`)
	sum := md5.Sum(multi)
	_, body = wantStatus(t, req("POST", "/ver", url.Values{"delete": {""}}, multi, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}), 200, "")
	if !strings.Contains(string(body), "<Code>InvalidArgument</Code>") || !strings.Contains(string(body), "<DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>") {
		t.Fatalf("DeleteObjects answer %s", body)
	}

	// Pages of versions with the markers S3 answers.
	for i := 0; i < 5; i++ {
		do(t, req("PUT", fmt.Sprintf("/ver/p/%d", i%2), nil, []byte{byte(i)}, nil))
	}
	var pages []string
	q := url.Values{"versions": {""}, "prefix": {"p/"}, "max-keys": {"2"}}
	for i := 0; ; i++ {
		_, body = wantStatus(t, req("GET", "/ver", q, nil, nil), 200, "")
		lv = listVersions{}
		xml.Unmarshal(body, &lv)
		pages = append(pages, lv.String())
		if !lv.IsTruncated {
			break
		}
		if i > 5 || lv.NextKeyMarker == "" || lv.NextVersionIdMarker == "" {
			t.Fatalf("page %d: %s", i, body)
		}
		q.Set("key-marker", lv.NextKeyMarker)
		q.Set("version-id-marker", lv.NextVersionIdMarker)
	}
	if len(pages) != 3 || strings.Count(strings.Join(pages, " "), "p/0@") != 3 || strings.Count(strings.Join(pages, " "), "*") != 2 {
		t.Fatalf("pages %q", pages)
	}

	// Multipart completion makes a version.
	mp := payloadBytes(7, 6<<20)
	info, err := c.PutObject(ctx, "ver", "mp", bytes.NewReader(mp), int64(len(mp)), minio.PutObjectOptions{PartSize: 5 << 20})
	if err != nil || info.VersionID == "" {
		t.Fatalf("multipart PUT: version %q, %v", info.VersionID, err)
	}

	// Suspended: a PUT writes the null version, replacing the old one.
	if err := c.SuspendVersioning(ctx, "ver"); err != nil {
		t.Fatal(err)
	}
	resp, _ = wantStatus(t, req("PUT", "/ver/k", nil, []byte("suspended"), nil), 200, "")
	if v := resp.Header.Get("x-amz-version-id"); v != "null" {
		t.Fatalf("PUT in a suspended bucket answered version %q", v)
	}
	resp, _ = wantStatus(t, req("HEAD", "/ver/k", nil, nil, nil), 200, "")
	if v := resp.Header.Get("x-amz-version-id"); v != "null" {
		t.Fatalf("HEAD of a null version in a suspended bucket answered version %q", v)
	}
	resp, got = wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {"null"}}, nil, nil), 200, "")
	if string(got) != "suspended" || resp.Header.Get("x-amz-version-id") != "null" {
		t.Fatalf("null version %q, x-amz-version-id %q", got, resp.Header.Get("x-amz-version-id"))
	}
	wantStatus(t, req("GET", "/ver/k", url.Values{"versionId": {cp.VersionID}}, nil, nil), 200, "")
	resp, _ = wantStatus(t, req("DELETE", "/ver/k", nil, nil, nil), 204, "")
	if resp.Header.Get("x-amz-version-id") != "null" || resp.Header.Get("x-amz-delete-marker") != "true" {
		t.Fatalf("DELETE in a suspended bucket: %v", resp.Header)
	}
}

// TestConditionalWrites (issue 14, conditional writes): 100 rounds of two
// concurrent If-None-Match: * PUTs of a new key have exactly one winner
// each (the loser 412 PreconditionFailed), the winner's bytes are what a
// GET reads, and If-Match replaces only the ETag named, on PUT and on
// CompleteMultipartUpload.
func TestConditionalWrites(t *testing.T) {
	p := startDev(t, "")
	req := func(method, path string, q url.Values, body []byte, hdr map[string]string) *http.Request {
		return signed(t, p, method, path, q, body, hdr, time.Now(), p.secret)
	}
	do(t, req("PUT", "/cond", nil, nil, nil))
	for round := 0; round < 100; round++ {
		key := fmt.Sprintf("/cond/race-%d", round)
		var wg sync.WaitGroup
		status := make([]int, 2)
		codes := make([]string, 2)
		bodies := [][]byte{[]byte(fmt.Sprintf("writer A, round %d", round)), []byte(fmt.Sprintf("writer B, round %d", round))}
		reqs := []*http.Request{
			req("PUT", key, nil, bodies[0], map[string]string{"If-None-Match": "*"}),
			req("PUT", key, nil, bodies[1], map[string]string{"If-None-Match": "*"}),
		}
		for i := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := rawClient.Do(reqs[i])
				if err != nil {
					status[i] = -1
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				var e s3Error
				xml.Unmarshal(b, &e)
				status[i], codes[i] = resp.StatusCode, e.Code
			}()
		}
		wg.Wait()
		winner := -1
		for i := range status {
			switch {
			case status[i] == 200 && winner == -1:
				winner = i
			case status[i] == 412 && codes[i] == "PreconditionFailed":
			default:
				t.Fatalf("round %d: answers %v %v", round, status, codes)
			}
		}
		if winner == -1 {
			t.Fatalf("round %d: no winner: %v %v", round, status, codes)
		}
		_, got := wantStatus(t, req("GET", key, nil, nil, nil), 200, "")
		if !bytes.Equal(got, bodies[winner]) {
			t.Fatalf("round %d: GET reads %q, the winner wrote %q", round, got, bodies[winner])
		}
	}

	// If-Match.
	resp, _ := wantStatus(t, req("PUT", "/cond/m", nil, []byte("one"), nil), 200, "")
	etag := resp.Header.Get("ETag")
	wantStatus(t, req("PUT", "/cond/m", nil, []byte("two"), map[string]string{"If-Match": `"0123456789abcdef0123456789abcdef"`}), 412, "PreconditionFailed")
	wantStatus(t, req("PUT", "/cond/nokey", nil, []byte("two"), map[string]string{"If-Match": etag}), 404, "NoSuchKey")
	wantStatus(t, req("PUT", "/cond/m", nil, []byte("two"), map[string]string{"If-Match": etag}), 200, "")
	wantStatus(t, req("PUT", "/cond/m", nil, []byte("three"), map[string]string{"If-None-Match": "*"}), 412, "PreconditionFailed")
	_, got := wantStatus(t, req("GET", "/cond/m", nil, nil, nil), 200, "")
	if string(got) != "two" {
		t.Fatalf("after conditional writes: %q", got)
	}

	// CompleteMultipartUpload with If-None-Match on a key that exists.
	_, body := wantStatus(t, req("POST", "/cond/m", url.Values{"uploads": {""}}, nil, nil), 200, "")
	var init struct{ UploadId string }
	xml.Unmarshal(body, &init)
	resp, _ = wantStatus(t, req("PUT", "/cond/m", url.Values{"partNumber": {"1"}, "uploadId": {init.UploadId}}, []byte("part"), nil), 200, "")
	complete := []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + resp.Header.Get("ETag") + `</ETag></Part></CompleteMultipartUpload>`)
	wantStatus(t, req("POST", "/cond/m", url.Values{"uploadId": {init.UploadId}}, complete, map[string]string{"If-None-Match": "*"}), 412, "PreconditionFailed")
	wantStatus(t, req("POST", "/cond/m", url.Values{"uploadId": {init.UploadId}}, complete, map[string]string{"If-Match": etag}), 412, "PreconditionFailed")
	_, got = wantStatus(t, req("GET", "/cond/m", nil, nil, nil), 200, "")
	if string(got) != "two" {
		t.Fatalf("after refused completions: %q", got)
	}
	wantStatus(t, req("POST", "/cond/m", url.Values{"uploadId": {init.UploadId}}, complete, nil), 200, "")
	_, got = wantStatus(t, req("GET", "/cond/m", nil, nil, nil), 200, "")
	if string(got) != "part" {
		t.Fatalf("after the completion: %q", got)
	}
}

// storectl runs storectl against a dev process's admin API.
func storectl(t *testing.T, p *proc, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctxT(t), storectlBin, append(append([]string{}, p.admin...), args...)...)
	cmd.Env = withoutCairnEnv(os.Environ())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestObjectLock (issue 14, object lock): through the AWS CLI's s3api
// commands, a COMPLIANCE-locked version survives DELETE by version (with
// and without the governance bypass), a shortened retention, and
// storectl's bucket delete; GOVERNANCE gives way to the bypass only;
// legal holds; S3's error codes for each refusal.
func TestObjectLock(t *testing.T) {
	p := startDev(t, "")
	env := awsEnv(t, p)
	ep := "--endpoint-url=" + p.url()
	dir := t.TempDir()
	api := func(args ...string) (string, error) {
		return toolErr(t, env, "aws", append([]string{ep, "--output", "json", "s3api"}, args...)...)
	}
	must := func(args ...string) map[string]any {
		t.Helper()
		out, err := api(args...)
		if err != nil {
			t.Fatalf("aws s3api %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var m map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("aws s3api %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return m
	}
	refused := func(code string, args ...string) {
		t.Helper()
		out, err := api(args...)
		if err == nil || !strings.Contains(out, "("+code+")") {
			t.Fatalf("aws s3api %s: want %s, got %v\n%s", strings.Join(args, " "), code, err, out)
		}
	}
	file := filepath.Join(dir, "data")
	os.WriteFile(file, []byte("ransomware-proof backup"), 0o600)

	must("create-bucket", "--bucket", "plain")
	refused("InvalidRequest", "put-object-lock-configuration", "--bucket", "plain",
		"--object-lock-configuration", `{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}`)
	refused("ObjectLockConfigurationNotFoundError", "get-object-lock-configuration", "--bucket", "plain")

	must("create-bucket", "--bucket", "vault", "--object-lock-enabled-for-bucket")
	v := must("get-bucket-versioning", "--bucket", "vault")
	if v["Status"] != "Enabled" {
		t.Fatalf("versioning of a lock bucket: %v", v)
	}
	refused("InvalidBucketState", "put-bucket-versioning", "--bucket", "vault", "--versioning-configuration", "Status=Suspended")
	cfg := must("get-object-lock-configuration", "--bucket", "vault")
	if fmt.Sprint(cfg) != "map[ObjectLockConfiguration:map[ObjectLockEnabled:Enabled]]" {
		t.Fatalf("lock configuration %v", cfg)
	}

	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	put := must("put-object", "--bucket", "vault", "--key", "backup", "--body", file,
		"--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date", until.Format(time.RFC3339))
	vid, _ := put["VersionId"].(string)
	if vid == "" {
		t.Fatalf("put-object answered %v", put)
	}
	ret := must("get-object-retention", "--bucket", "vault", "--key", "backup", "--version-id", vid)
	if r, _ := ret["Retention"].(map[string]any); r["Mode"] != "COMPLIANCE" {
		t.Fatalf("retention %v", ret)
	}
	head := must("head-object", "--bucket", "vault", "--key", "backup")
	if head["ObjectLockMode"] != "COMPLIANCE" || head["VersionId"] != vid {
		t.Fatalf("head-object %v", head)
	}

	// Nobody deletes it or shortens it.
	refused("AccessDenied", "delete-object", "--bucket", "vault", "--key", "backup", "--version-id", vid)
	refused("AccessDenied", "delete-object", "--bucket", "vault", "--key", "backup", "--version-id", vid, "--bypass-governance-retention")
	refused("AccessDenied", "put-object-retention", "--bucket", "vault", "--key", "backup", "--version-id", vid, "--bypass-governance-retention",
		"--retention", fmt.Sprintf(`{"Mode":"COMPLIANCE","RetainUntilDate":"%s"}`, until.Add(-time.Hour).Format(time.RFC3339)))
	refused("AccessDenied", "put-object-retention", "--bucket", "vault", "--key", "backup", "--version-id", vid, "--bypass-governance-retention",
		"--retention", fmt.Sprintf(`{"Mode":"GOVERNANCE","RetainUntilDate":"%s"}`, until.Add(time.Hour).Format(time.RFC3339)))
	del := must("delete-objects", "--bucket", "vault", "--delete", fmt.Sprintf(`{"Objects":[{"Key":"backup","VersionId":"%s"}]}`, vid))
	if errs, _ := del["Errors"].([]any); len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), "AccessDenied") {
		t.Fatalf("delete-objects of a locked version: %v", del)
	}
	// A plain DELETE only hides it behind a marker.
	dm := must("delete-object", "--bucket", "vault", "--key", "backup")
	if dm["DeleteMarker"] != true {
		t.Fatalf("delete-object without version: %v", dm)
	}
	// Nor does any other key: a second key created with storectl.
	out, err := storectl(t, p, "key", "create")
	if err != nil {
		t.Fatalf("storectl key create: %v\n%s", err, out)
	}
	var id2, secret2 string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Access key ID:"); ok {
			id2 = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "Secret access key:"); ok {
			secret2 = strings.TrimSpace(v)
		}
	}
	other := *p
	other.access = id2
	for _, bypass := range []string{"false", "true"} {
		del := signed(t, &other, "DELETE", "/vault/backup", url.Values{"versionId": {vid}}, nil,
			map[string]string{"X-Amz-Bypass-Governance-Retention": bypass}, time.Now(), secret2)
		wantStatus(t, del, 403, "AccessDenied")
	}
	if out, err := storectl(t, p, "bucket", "delete", "vault"); err == nil {
		t.Fatalf("storectl bucket delete of a bucket holding a locked version succeeded:\n%s", out)
	}
	must("get-object", "--bucket", "vault", "--key", "backup", "--version-id", vid, filepath.Join(dir, "back"))
	if b, _ := os.ReadFile(filepath.Join(dir, "back")); string(b) != "ransomware-proof backup" {
		t.Fatalf("locked version reads %q", b)
	}
	// Extending is allowed.
	must("put-object-retention", "--bucket", "vault", "--key", "backup", "--version-id", vid,
		"--retention", fmt.Sprintf(`{"Mode":"COMPLIANCE","RetainUntilDate":"%s"}`, until.Add(time.Hour).Format(time.RFC3339)))

	// GOVERNANCE: refused without the bypass, allowed with it.
	g := must("put-object", "--bucket", "vault", "--key", "gov", "--body", file,
		"--object-lock-mode", "GOVERNANCE", "--object-lock-retain-until-date", until.Format(time.RFC3339))
	gid := g["VersionId"].(string)
	refused("AccessDenied", "delete-object", "--bucket", "vault", "--key", "gov", "--version-id", gid)
	refused("NoSuchObjectLockConfiguration", "get-object-legal-hold", "--bucket", "vault", "--key", "gov", "--version-id", gid)
	// Legal hold: refused even with the bypass, until lifted.
	must("put-object-legal-hold", "--bucket", "vault", "--key", "gov", "--version-id", gid, "--legal-hold", "Status=ON")
	lh := must("get-object-legal-hold", "--bucket", "vault", "--key", "gov", "--version-id", gid)
	if fmt.Sprint(lh) != "map[LegalHold:map[Status:ON]]" {
		t.Fatalf("legal hold %v", lh)
	}
	refused("AccessDenied", "delete-object", "--bucket", "vault", "--key", "gov", "--version-id", gid, "--bypass-governance-retention")
	must("put-object-legal-hold", "--bucket", "vault", "--key", "gov", "--version-id", gid, "--legal-hold", "Status=OFF")
	if lh := must("get-object-legal-hold", "--bucket", "vault", "--key", "gov", "--version-id", gid); fmt.Sprint(lh) != "map[LegalHold:map[Status:OFF]]" {
		t.Fatalf("legal hold lifted: %v", lh)
	}
	must("delete-object", "--bucket", "vault", "--key", "gov", "--version-id", gid, "--bypass-governance-retention")

	// Default retention applies to a PUT that names none.
	must("put-object-lock-configuration", "--bucket", "vault",
		"--object-lock-configuration", `{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":1}}}`)
	d := must("put-object", "--bucket", "vault", "--key", "dflt", "--body", file)
	ret = must("get-object-retention", "--bucket", "vault", "--key", "dflt", "--version-id", d["VersionId"].(string))
	if r, _ := ret["Retention"].(map[string]any); r["Mode"] != "COMPLIANCE" {
		t.Fatalf("default retention %v", ret)
	}
	refused("AccessDenied", "delete-object", "--bucket", "vault", "--key", "dflt", "--version-id", d["VersionId"].(string))
	// A lock header without a checksum is refused, as S3 does.
	req := signed(t, p, "PUT", "/vault/nosum", nil, []byte("x"), map[string]string{
		"X-Amz-Object-Lock-Mode": "GOVERNANCE", "X-Amz-Object-Lock-Retain-Until-Date": until.Format(time.RFC3339),
	}, time.Now(), p.secret)
	wantStatus(t, req, 400, "InvalidRequest")
	// So is a PUT without lock headers into a bucket with a default
	// retention, and accepted with Content-MD5.
	req = signed(t, p, "PUT", "/vault/nosum", nil, []byte("x"), nil, time.Now(), p.secret)
	wantStatus(t, req, 400, "InvalidRequest")
	sum := md5.Sum([]byte("x"))
	req = signed(t, p, "PUT", "/vault/nosum", nil, []byte("x"), map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}, time.Now(), p.secret)
	if resp, _ := wantStatus(t, req, 200, ""); resp.Header.Get("x-amz-object-lock-mode") != "" {
		t.Fatalf("PutObject answered lock headers: %v", resp.Header)
	}
	refused("InvalidRequest", "put-object-retention", "--bucket", "plain", "--key", "x",
		"--retention", fmt.Sprintf(`{"Mode":"COMPLIANCE","RetainUntilDate":"%s"}`, until.Format(time.RFC3339)))
}

// TestVersionClients (issue 14, item 3): the AWS CLI's versioning and
// bucket tagging commands, and rclone's --s3-versions, which lists old
// versions under time-stamped names and restores them byte for byte.
func TestVersionClients(t *testing.T) {
	p := startDev(t, "")
	env := awsEnv(t, p)
	ep := "--endpoint-url=" + p.url()
	dir := t.TempDir()
	api := func(args ...string) map[string]any {
		t.Helper()
		out := tool(t, env, "aws", append([]string{ep, "--output", "json", "s3api"}, args...)...)
		var m map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("aws s3api %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return m
	}
	api("create-bucket", "--bucket", "clients")
	api("put-bucket-versioning", "--bucket", "clients", "--versioning-configuration", "Status=Enabled")
	if v := api("get-bucket-versioning", "--bucket", "clients"); v["Status"] != "Enabled" {
		t.Fatalf("get-bucket-versioning: %v", v)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		f := filepath.Join(dir, fmt.Sprint("v", i))
		os.WriteFile(f, payloadBytes(uint64(40+i), int64(1000+i)), 0o600)
		r := api("put-object", "--bucket", "clients", "--key", "doc.txt", "--body", f)
		ids = append(ids, r["VersionId"].(string))
		time.Sleep(1100 * time.Millisecond) // rclone names versions by their second
	}
	lv := api("list-object-versions", "--bucket", "clients")
	vs, _ := lv["Versions"].([]any)
	if len(vs) != 3 {
		t.Fatalf("list-object-versions: %v", lv)
	}
	for i, v := range vs {
		m := v.(map[string]any)
		if m["VersionId"] != ids[2-i] || m["IsLatest"] != (i == 0) || m["Key"] != "doc.txt" {
			t.Fatalf("version %d: %v", i, m)
		}
	}
	api("get-object", "--bucket", "clients", "--key", "doc.txt", "--version-id", ids[0], filepath.Join(dir, "old"))
	if a, b := fileDigest(t, filepath.Join(dir, "old")), fileDigest(t, filepath.Join(dir, "v0")); a != b {
		t.Fatal("get-object --version-id read other bytes")
	}

	api("put-bucket-tagging", "--bucket", "clients", "--tagging", `{"TagSet":[{"Key":"team","Value":"storage"},{"Key":"env","Value":"test"}]}`)
	if tg := api("get-bucket-tagging", "--bucket", "clients"); fmt.Sprint(tg) != "map[TagSet:[map[Key:team Value:storage] map[Key:env Value:test]]]" {
		t.Fatalf("get-bucket-tagging: %v", tg)
	}
	api("delete-bucket-tagging", "--bucket", "clients")
	if out, err := toolErr(t, env, "aws", ep, "s3api", "get-bucket-tagging", "--bucket", "clients"); err == nil || !strings.Contains(out, "NoSuchTagSet") {
		t.Fatalf("get-bucket-tagging after delete: %v\n%s", err, out)
	}

	renv := []string{
		"RCLONE_CONFIG=/dev/null",
		"RCLONE_CONFIG_CAIRN_TYPE=s3",
		"RCLONE_CONFIG_CAIRN_PROVIDER=Other",
		"RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID=" + p.access,
		"RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY=" + p.secret,
		"RCLONE_CONFIG_CAIRN_ENDPOINT=" + p.url(),
		"RCLONE_CONFIG_CAIRN_REGION=" + region,
	}
	ls := tool(t, renv, "rclone", "lsf", "--s3-versions", "cairn:clients")
	var old []string
	for _, name := range strings.Fields(ls) {
		if name != "doc.txt" {
			old = append(old, name)
		}
	}
	if len(old) != 2 || !strings.Contains(ls, "doc.txt\n") {
		t.Fatalf("rclone lsf --s3-versions:\n%s", ls)
	}
	restored := filepath.Join(dir, "restored")
	for _, name := range old {
		tool(t, renv, "rclone", "copy", "--s3-versions", "cairn:clients/"+name, restored)
	}
	// The older of the two noncurrent versions sorts first by name.
	for i, name := range old {
		if fileDigest(t, filepath.Join(restored, name)) != fileDigest(t, filepath.Join(dir, fmt.Sprint("v", i))) {
			t.Fatalf("rclone restored %s with other bytes than version %d", name, i)
		}
	}
}
