//go:build integration

package itest

import (
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/cors"
)

// fetchResult is what the test pages leave in window.result after a
// cross-origin fetch() of the object.
type fetchResult struct {
	Status int    `json:"status"`
	ETag   string `json:"etag"`
	Body   string `json:"body"` // base64
	Key    string `json:"key"`  // from the redirect's query
	QETag  string `json:"qetag"`
	Error  string `json:"error"`
}

// fetchScript fetches url cross-origin and leaves a fetchResult in
// window.result; the ETag header is readable only when the CORS rule
// exposes it.
const fetchScript = `window.result = null;
(async () => {
  const q = new URLSearchParams(location.search);
  try {
    const r = await fetch({{.URL}}, {mode: "cors", cache: "no-store"});
    const b = new Uint8Array(await r.arrayBuffer());
    let s = "";
    for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
    window.result = {status: r.status, etag: r.headers.get("ETag") || "", body: btoa(s),
      key: q.get("key") || "", qetag: q.get("etag") || "", error: ""};
  } catch (e) {
    window.result = {status: 0, etag: "", body: "", key: "", qetag: "", error: String(e)};
  }
})();`

var (
	uploadPage = template.Must(template.New("upload").Parse(`<!doctype html>
<html><head><title>upload</title></head><body>
<form id="upload" method="post" action="{{.Action}}" enctype="multipart/form-data">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<input type="file" name="file" id="file">
<button type="submit" id="go">Upload</button>
</form></body></html>`))
	fetchPage = template.Must(template.New("fetch").Parse(`<!doctype html>
<html><head><title>fetch</title></head><body><p id="fetching">reading back</p>
<script>` + fetchScript + `</script></body></html>`))
)

// TestBrowserPostCORS (issue 14, browsers): headless Chromium loads a page
// from one loopback origin, uploads a file through its HTML form straight
// to the S3 endpoint (another origin) with a SigV4 signed POST policy,
// follows the success_action_redirect back to the page's origin, and
// there reads the object back with fetch() under the bucket's CORS rule:
// the bytes equal the file's, the response carried
// Access-Control-Allow-Origin for the page's origin, and the exposed ETag
// is the one the redirect reported. The same fetch from an origin no rule
// allows is blocked by the browser.
func TestBrowserPostCORS(t *testing.T) {
	chromium := findChromium(t)
	p := startDev(t, "")
	ctx := ctxT(t)
	c := p.client()
	mkBucket(t, c, "webapp")

	var mu sync.Mutex
	pages := map[string][]byte{} // host+path → HTML
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		page, ok := pages[r.Host+r.URL.Path]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	app := httptest.NewServer(serve)   // the origin the CORS rule allows
	other := httptest.NewServer(serve) // an origin no rule allows
	t.Cleanup(app.Close)
	t.Cleanup(other.Close)
	render := func(srv *httptest.Server, path string, tmpl *template.Template, data any) {
		t.Helper()
		var b strings.Builder
		if err := tmpl.Execute(&b, data); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		pages[strings.TrimPrefix(srv.URL, "http://")+path] = []byte(b.String())
		mu.Unlock()
	}

	rule := cors.Rule{
		AllowedOrigin: []string{app.URL},
		AllowedMethod: []string{"GET", "HEAD", "POST"},
		AllowedHeader: []string{"*"},
		ExposeHeader:  []string{"ETag"},
		MaxAgeSeconds: 60,
	}
	if err := c.SetBucketCors(ctx, "webapp", cors.NewConfig([]cors.Rule{rule})); err != nil {
		t.Fatalf("put bucket CORS: %v", err)
	}

	const key = "uploads/photo.bin"
	data := payloadBytes(14, 300<<10+7)
	file := filepath.Join(t.TempDir(), "photo.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pp := minio.NewPostPolicy()
	pp.SetBucket("webapp")
	pp.SetKey(key)
	pp.SetExpires(time.Now().UTC().Add(10 * time.Minute))
	pp.SetContentLengthRange(1, 1<<20)
	pp.SetSuccessActionRedirect(app.URL + "/done")
	action, fields, err := c.PresignedPostPolicy(ctx, pp)
	if err != nil {
		t.Fatal(err)
	}
	get, err := c.PresignedGetObject(ctx, "webapp", key, 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	render(app, "/", uploadPage, map[string]any{"Action": action.String(), "Fields": fields})
	render(app, "/done", fetchPage, map[string]any{"URL": get.String()})
	render(other, "/probe", fetchPage, map[string]any{"URL": get.String()})

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
	)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// The browser lives as long as the context of the first call.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	// What the browser saw of the object's GETs: response headers and CORS
	// failures, by request.
	objectURL := p.url() + "/webapp/" + key
	type seen struct {
		url     string
		headers network.Headers
		corsErr *network.CorsErrorStatus
		failed  string
	}
	var smu sync.Mutex
	reqs := map[network.RequestID]*seen{}
	chromedp.Listen(bctx, func(ev any) {
		smu.Lock()
		defer smu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasPrefix(ev.Request.URL, objectURL+"?") {
				reqs[ev.RequestID] = &seen{url: ev.Request.URL}
			}
		case *network.EventResponseReceived:
			if s := reqs[ev.RequestID]; s != nil {
				s.headers = ev.Response.Headers
			}
		case *network.EventLoadingFailed:
			if s := reqs[ev.RequestID]; s != nil {
				s.failed, s.corsErr = ev.ErrorText, ev.CorsErrorStatus
			}
		}
	})
	takeSeen := func() []seen {
		smu.Lock()
		defer smu.Unlock()
		var out []seen
		for id, s := range reqs {
			out = append(out, *s)
			delete(reqs, id)
		}
		return out
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	result := func(what string) fetchResult {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		r, err := chromedp.Run(sctx, chromedp.Poll[fetchResult]("window.result", chromedp.WithPollingTimeout(55*time.Second)))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return r
	}

	// Upload through the form, cross-origin, and follow the redirect home.
	step("open the upload page",
		chromedp.Navigate(app.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#upload")),
	)
	step("choose the file and submit",
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS("#fetching")),
	)
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, app.URL+"/done?") {
		t.Fatalf("after the POST the browser is at %s, want the redirect to %s/done", loc, app.URL)
	}
	got := result("read the object back from the allowed origin")
	if got.Error != "" || got.Status != 200 {
		t.Fatalf("fetch from %s: status %d, error %q", app.URL, got.Status, got.Error)
	}
	body, err := base64.StdEncoding.DecodeString(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != string(data) {
		t.Fatalf("the browser read %d bytes back that differ from the %d it uploaded", len(body), len(data))
	}
	st, err := c.StatObject(ctx, "webapp", key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("the uploaded object: %v", err)
	}
	if got.Key != key || got.QETag != `"`+st.ETag+`"` || got.ETag != got.QETag {
		t.Fatalf("redirect reported key %q etag %q, fetch exposed ETag %q; stored ETag %q", got.Key, got.QETag, got.ETag, st.ETag)
	}
	allowed := takeSeen()
	if len(allowed) != 1 {
		t.Fatalf("the browser made %d GETs of the object, want 1: %+v", len(allowed), allowed)
	}
	t.Logf("the allowed GET's response headers: %v", allowed[0].headers)
	if acao := header(allowed[0].headers, "Access-Control-Allow-Origin"); acao != app.URL {
		t.Fatalf("GET from %s answered Access-Control-Allow-Origin %q (headers %v)", app.URL, acao, allowed[0].headers)
	}

	// The same fetch from an origin no rule allows: the browser blocks it.
	step("open the page of the other origin",
		chromedp.Navigate(other.URL+"/probe"),
		chromedp.WaitVisible(chromedp.CSS("#fetching")),
	)
	blocked := result("fetch from the other origin")
	if blocked.Error == "" || blocked.Body != "" {
		t.Fatalf("fetch from %s, which no CORS rule allows, was not blocked: %+v", other.URL, blocked)
	}
	denied := takeSeen()
	// No Access-Control-Allow-Origin in the answer is what the browser
	// blocked it for (it reports no headers of a blocked response).
	if len(denied) != 1 || denied[0].corsErr == nil || denied[0].corsErr.CorsError != network.CorsErrorMissingAllowOriginHeader {
		t.Fatalf("the browser's view of the blocked GET: %+v", denied)
	}
	t.Logf("blocked as %s (%s): %s", denied[0].corsErr.CorsError, denied[0].failed, blocked.Error)
}

// header looks a response header up in what Chromium reports, whose names
// keep the case they were sent in.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}
