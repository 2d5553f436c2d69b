//go:build integration

package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/admin/adminapi"
)

// TestConsole drives the web console of a six-node cluster in headless
// Chromium, as an operator would: it logs in with the admin token, sees
// every node with its zone and state, uploads a file and downloads it
// byte-identically, opens the object's shard map and checks it against
// the admin API, then SIGKILLs a storage node and sees it turn DOWN, and
// logs out and in again with the cluster's S3 key (no access keys view).
// Screenshots of each step go to $CAIRN_TEST_ARTIFACTS, or a directory
// under the system's temp dir; the log says where.
func TestConsole(t *testing.T) {
	chromium := findChromium(t)
	shots := screenshotDir(t)
	c := newTestCluster(t, nil)
	gw := c.nodes[0] // meta and gateway, zone-a
	consoleAddr := gw.hostPort(freePort(t))
	gw.extra = append(gw.extra, "--console", consoleAddr)
	ctx := ctxT(t)
	c.bringUp(ctx)

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(1400, 1000),
	)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// The browser lives as long as the context of the first call: bctx,
	// not a step's.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// step runs actions with a deadline of their own (the browser lives as
	// long as bctx).
	step := func(what string, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, limit)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			shot(t, bctx, shots, "failed-"+strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	base := "http://" + consoleAddr

	// Log in with the admin token.
	step("open the login page", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	)
	shot(t, bctx, shots, "01-login")
	step("log in", 30*time.Second,
		chromedp.SendKeys(chromedp.CSS("#login-token"), c.token),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#zones .node")),
	)

	// Every node, in its zone, UP.
	want := map[string]string{} // node ID → zone
	for _, n := range c.nodes {
		want[n.id] = n.zone
	}
	waitNodes := func(what string, state func(n *clusterNode) string) {
		t.Helper()
		waitFor(t, 60*time.Second, what, func() error {
			got, err := chromedp.Run(bctx, chromedp.Evaluate[[]consoleNode](`[...document.querySelectorAll("#zones .node")].map(e => ({
				id: e.dataset.nodeId, zone: e.dataset.zone, zoneCard: e.closest(".zone").dataset.zone,
				state: e.querySelector(".badge.state").textContent}))`))
			if err != nil {
				return err
			}
			if len(got) != len(c.nodes) {
				return fmt.Errorf("the page shows %d nodes, want %d: %+v", len(got), len(c.nodes), got)
			}
			for _, n := range c.nodes {
				i := slices.IndexFunc(got, func(g consoleNode) bool { return g.ID == n.id })
				if i < 0 {
					return fmt.Errorf("the page does not show %s (%s): %+v", n.name, n.id, got)
				}
				g := got[i]
				if g.Zone != n.zone || g.ZoneCard != n.zone || g.State != state(n) {
					return fmt.Errorf("the page shows %s as %+v, want zone %s, state %s", n.name, g, n.zone, state(n))
				}
			}
			return nil
		})
	}
	waitNodes("every node UP in its zone", func(*clusterNode) string { return "UP" })
	leader, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#cluster-summary"), "data-leader"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the page names the metadata leader %q", leader.Value)
	if !leader.Exists || !slices.ContainsFunc(c.metaNodes(), func(n *clusterNode) bool { return n.id == leader.Value }) {
		t.Errorf("the page names %q as the metadata leader, not one of the meta nodes", leader.Value)
	}
	shot(t, bctx, shots, "02-cluster")

	// Upload a file into the bucket through the page.
	const size = 5*MiB + 3
	name := "console-upload.bin"
	file := filepath.Join(t.TempDir(), name)
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, sum), newPayload(uint64(time.Now().UnixNano()), size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`tr.object[data-key=%q]`, name)
	step("upload", 60*time.Second,
		chromedp.Click(chromedp.CSS(`button[data-view=objects]`)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#bucket-list button[data-bucket=%q]`, clusterBucket))),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{file}),
		chromedp.WaitEnabled(chromedp.CSS("#upload-button")),
		chromedp.Click(chromedp.CSS("#upload-button")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#upload-status[data-done=%q]`, name))),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	shot(t, bctx, shots, "03-objects")
	// What the page stored is what S3 reads back.
	obj, err := c.s3(gw).GetObject(ctx, clusterBucket, name, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	viaS3 := sha256.New()
	if _, err := io.Copy(viaS3, obj); err != nil {
		t.Fatalf("read the uploaded object over S3: %v", err)
	}
	obj.Close()
	if !bytes.Equal(viaS3.Sum(nil), sum.Sum(nil)) {
		t.Fatal("the object S3 reads differs from the file uploaded through the console")
	}

	// Download it through the page: the browser saves it under its GUID.
	downloads := t.TempDir()
	dctx, cancelDownload := context.WithTimeout(bctx, 60*time.Second)
	defer cancelDownload()
	progress := chromedp.Events(dctx, browser.DownloadProgress)
	step("download", 30*time.Second,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			events := true
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &events,
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(row+" a.download")),
	)
	var saved string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download (within 60s): %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the browser canceled the download")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			saved = filepath.Join(downloads, ev.GUID)
			break
		}
	}
	if saved == "" {
		t.Fatal("the download did not complete within 60s")
	}
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if d := sha256.Sum256(got); len(got) != size || !bytes.Equal(d[:], sum.Sum(nil)) {
		t.Fatalf("downloaded %d bytes, want the %d uploaded, byte-identical", len(got), size)
	}
	t.Logf("downloaded %d bytes through the console, identical to the upload", len(got))

	// The shard map: the object's CID, and for each shard of each stripe
	// the node and zone the admin API gives.
	stat, err := c.admin(gw).ObjectStat(ctx, clusterBucket, name)
	if err != nil {
		t.Fatal(err)
	}
	step("open the shard map", 30*time.Second,
		chromedp.Click(chromedp.CSS(row+" button.shards")),
		chromedp.WaitVisible(chromedp.CSS("#shard-map-cid")),
	)
	cidText, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#shard-map-cid")))
	if err != nil {
		t.Fatal(err)
	}
	if cidText != stat.CID {
		t.Errorf("the shard map shows CID %q, the admin API %q", cidText, stat.CID)
	}
	shards, err := chromedp.Run(bctx, chromedp.Evaluate[[]consoleShard](`[...document.querySelectorAll("#shard-map .stripes .stripe")].map((s, i) =>
		[...s.querySelectorAll(".shard")].map(e => ({chunk: i, index: +e.dataset.index, node: e.dataset.node, zone: e.dataset.zone}))).flat()`))
	if err != nil {
		t.Fatal(err)
	}
	var wantShards []consoleShard
	for i, ch := range stat.Chunks {
		for _, s := range ch.Shards {
			wantShards = append(wantShards, consoleShard{Chunk: i, Index: s.Index, Node: s.Node, Zone: s.Zone})
		}
	}
	if len(wantShards) == 0 || len(stat.Chunks) < 2 {
		t.Fatalf("the admin API gives %d chunks, %d shards for a %d-byte object: want a striped object", len(stat.Chunks), len(wantShards), size)
	}
	if !slices.Equal(shards, wantShards) {
		t.Errorf("the shard map shows %d shards %+v, the admin API %d %+v", len(shards), shards, len(wantShards), wantShards)
	}
	for _, s := range shards {
		if want[s.Node] != s.Zone {
			t.Errorf("shard %+v: node %s is in zone %q", s, s.Node, want[s.Node])
		}
	}
	t.Logf("the shard map shows CID %s and %d shards in %d stripes", cidText, len(shards), len(stat.Chunks))
	shot(t, bctx, shots, "04-shard-map")

	// A storage node SIGKILLed turns DOWN on the page.
	victim := c.nodes[5]
	if victim.meta || victim.s3 {
		t.Fatalf("%s is not a storage-only node", victim.name)
	}
	step("back to the cluster", 10*time.Second, chromedp.Click(chromedp.CSS(`button[data-view=cluster]`)))
	victim.kill()
	t.Logf("killed %s (%s)", victim.name, victim.id)
	waitNodes(victim.name+" DOWN, the others UP", func(n *clusterNode) string {
		if n == victim {
			return "DOWN"
		}
		return "UP"
	})
	shot(t, bctx, shots, "05-node-down")

	step("charts", 10*time.Second,
		chromedp.Click(chromedp.CSS(`button[data-view=charts]`)),
		chromedp.WaitVisible(chromedp.CSS("#charts .chart svg")),
	)
	shot(t, bctx, shots, "06-charts")

	// Log out, and in again with the cluster's S3 key: the same views,
	// without the access keys.
	step("log out", 10*time.Second,
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	)
	step("log in with an S3 key", 30*time.Second,
		chromedp.Click(chromedp.CSS(`input[name=login-mode][value=key]`)),
		chromedp.SendKeys(chromedp.CSS("#login-access"), c.access),
		chromedp.SendKeys(chromedp.CSS("#login-secret"), c.secret),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#zones .node")),
		chromedp.WaitNotVisible(chromedp.CSS("#nav-keys")),
	)
	who, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#who")))
	if err != nil {
		t.Fatal(err)
	}
	if who != "key "+c.access {
		t.Errorf("logged in with the S3 key, the page says %q", who)
	}
	shot(t, bctx, shots, "07-key-session")
}

// consoleNode is a node as the console's cluster view draws it.
type consoleNode struct {
	ID       string `json:"id"`
	Zone     string `json:"zone"`
	ZoneCard string `json:"zoneCard"` // the zone of the card it is drawn in
	State    string `json:"state"`
}

// consoleShard is a shard as the console's shard map draws it.
type consoleShard struct {
	Chunk int    `json:"chunk"`
	Index int    `json:"index"`
	Node  string `json:"node"`
	Zone  string `json:"zone"`
}

// findChromium returns the Chromium binary. Without one the test fails in
// CI (CI=true; .ci/run installs Debian's chromium) and is skipped
// elsewhere.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on the PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on the PATH (apt-get install chromium)")
	return ""
}

// screenshotDir returns where screenshots go: $CAIRN_TEST_ARTIFACTS/TestName,
// or a new directory under the system's temp dir. It is kept after the
// test, and logged.
func screenshotDir(t *testing.T) string {
	t.Helper()
	var dir string
	if root := os.Getenv("CAIRN_TEST_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "cairn-console-shots-"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// shot saves a full-page PNG screenshot as dir/name.png.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleDev is the dev cluster's console over plain HTTP, as the page
// calls it: an S3 key logs in (the one the banner prints), sees the
// cluster, makes a bucket, uploads and downloads 9 MiB byte-identically,
// and is refused the access keys, which the admin token's session lists.
func TestConsoleDev(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	p := startDevArgs(t, "", []string{"--console", addr}, "CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	base := "http://" + addr
	ctx := ctxT(t)
	session := func() *http.Client {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Client{Jar: jar, Timeout: 60 * time.Second}
	}
	call := func(hc *http.Client, method, path string, body io.Reader, want int) []byte {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Cairn-Console", "1")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		return b
	}

	key := session()
	if page := call(key, "GET", "/", nil, 200); !bytes.Contains(page, []byte("<title>Cairn console</title>")) {
		t.Fatalf("the page: %s", page)
	}
	call(key, "GET", "/api/cluster", nil, 401)
	call(key, "POST", "/api/login", strings.NewReader(`{"access_key":"`+accessKey+`","secret_key":"wrong"}`), 401)
	call(key, "POST", "/api/login", strings.NewReader(`{"access_key":"`+accessKey+`","secret_key":"`+secretKey+`"}`), 200)
	var st adminapi.Status
	if err := json.Unmarshal(call(key, "GET", "/api/cluster", nil, 200), &st); err != nil {
		t.Fatal(err)
	}
	up := 0
	for _, n := range st.Nodes {
		if n.InLayout && !n.Down {
			up++
		}
	}
	if up != 6 || len(st.Zones) != 3 || st.Leader == "" && (st.Heal == nil || st.Heal.Node == "") {
		t.Errorf("the dev cluster's status: %d storage nodes up in %d zones, leader %q: %+v", up, len(st.Zones), st.Leader, st)
	}

	call(key, "POST", "/api/buckets?bucket=consoledev", nil, 201)
	const size = 9*MiB + 7
	sum := sha256.New()
	call(key, "PUT", "/api/object?bucket=consoledev&key="+url.QueryEscape("a dir/f.bin"), io.TeeReader(newPayload(7, size), sum), 200)
	got := call(key, "GET", "/api/object?bucket=consoledev&key="+url.QueryEscape("a dir/f.bin"), nil, 200)
	if d := sha256.Sum256(got); len(got) != size || !bytes.Equal(d[:], sum.Sum(nil)) {
		t.Fatalf("downloaded %d bytes, want the %d uploaded, identical", len(got), size)
	}
	// And S3 reads what the console stored.
	obj, err := minio.New(p.endpoint, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Region: region})
	if err != nil {
		t.Fatal(err)
	}
	info, err := obj.StatObject(ctx, "consoledev", "a dir/f.bin", minio.StatObjectOptions{})
	if err != nil || info.Size != size {
		t.Fatalf("S3 stat of the console's upload: %v, %d bytes", err, info.Size)
	}
	call(key, "GET", "/api/keys", nil, 403)

	tok, err := os.ReadFile(filepath.Join(p.data, "dev-1", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := session()
	call(admin, "POST", "/api/login", strings.NewReader(`{"token":"`+strings.TrimSpace(string(tok))+`"}`), 200)
	if keys := call(admin, "GET", "/api/keys", nil, 200); !bytes.Contains(keys, []byte(accessKey)) {
		t.Errorf("the admin session's keys do not list %s: %s", accessKey, keys)
	}
}

// TestConsoleHTTPS: with --s3-cert and --s3-key the console is served over
// HTTPS with the same certificate, and its session cookie is Secure.
func TestConsoleHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	addr := "127.0.0.1:" + freePort(t)
	startDevArgs(t, "", []string{"--s3-cert", certFile, "--s3-key", keyFile, "--console", addr},
		"CAIRN_ACCESS_KEY="+accessKey, "CAIRN_SECRET_KEY="+secretKey)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctxT(t), "POST", "https://"+addr+"/api/login",
		strings.NewReader(`{"access_key":"`+accessKey+`","secret_key":"`+secretKey+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Cairn-Console", "1")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("login over HTTPS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login over HTTPS: %s", resp.Status)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie over HTTPS: %+v, want Secure, HttpOnly, SameSite=Strict", cookies)
	}
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the console answered plain HTTP beside HTTPS")
		}
	}
}
