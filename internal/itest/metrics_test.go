//go:build integration

package itest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"cairn/internal/metrics/metricstest"
)

// TestMetrics puts and gets an object through `storaged --dev` with
// minio-go, then scrapes the nodes' /metrics over HTTP, as Prometheus
// would: the gateway counts the PutObject and the GetObject with status
// 200 and their bytes, and the storage nodes the shards written and read.
func TestMetrics(t *testing.T) {
	p := startDev(t, "")
	if p.metrics == "" || len(p.nodeMets) != 6 {
		t.Fatalf("the banner gave metrics URLs %q and %q, want the gateway's and six storage nodes'", p.metrics, p.nodeMets)
	}
	ctx := ctxT(t)
	scrape := func(url string) metricstest.Metrics {
		t.Helper()
		m, err := metricstest.Scrape(ctx, rawClient, url) // no credentials
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	val := func(m metricstest.Metrics, name string, labels ...string) float64 {
		v, _ := m.Value(name, labels...)
		return v
	}

	// Before any object: the series are there, at 0.
	m := scrape(p.metrics)
	if v, ok := m.Value("cairn_s3_request_duration_seconds_count", "op", "PutObject"); !ok || v != 0 {
		t.Fatalf("PutObject duration count before any request: %v (present %v), want 0", v, ok)
	}
	if v := val(m, "cairn_s3_requests_total", "op", "PutObject", "code", "200"); v != 0 {
		t.Fatalf("PutObject 200 before any request: %v", v)
	}

	c := p.client()
	mkBucket(t, c, "metrics")
	const size = 3<<20 + 17 // four chunks
	data := payloadBytes(7, size)
	if _, err := c.PutObject(ctx, "metrics", "obj", bytes.NewReader(data), size, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := c.GetObject(ctx, "metrics", "obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum, n := digest(t, obj); n != size || sum != sha256.Sum256(data) {
		t.Fatalf("read back %d bytes, or other bytes, of %d", n, size)
	}
	obj.Close()

	// The gateway counts a request once its handler has returned, which
	// may be after the client has the response.
	var why string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		m = scrape(p.metrics)
		why = ""
		for _, op := range []string{"PutObject", "GetObject"} {
			if v := val(m, "cairn_s3_requests_total", "op", op, "code", "200"); v < 1 {
				why += fmt.Sprintf("%s 200: %v, want >= 1; ", op, v)
			}
		}
		if why == "" || time.Now().After(deadline) {
			break
		}
	}
	if why != "" {
		t.Fatal(why)
	}
	if v := val(m, "cairn_s3_received_bytes_total"); v < size {
		t.Errorf("S3 bytes in: %v, want >= %d", v, size)
	}
	if v := val(m, "cairn_s3_received_bytes_total", "op", "PutObject"); v < size {
		t.Errorf("PutObject bytes in: %v, want >= %d", v, size)
	}
	if v := val(m, "cairn_s3_sent_bytes_total", "op", "GetObject"); v < size {
		t.Errorf("GetObject bytes out: %v, want >= %d", v, size)
	}
	if v := val(m, "cairn_s3_request_duration_seconds_count", "op", "GetObject"); v < 1 {
		t.Errorf("GetObject duration count: %v, want >= 1", v)
	}
	if v := val(m, "cairn_node_info", "node", "dev-gateway", "roles", "gateway"); v != 1 {
		t.Errorf("cairn_node_info of the gateway: %v, want 1", v)
	}
	if m.Series("go_goroutines") != 1 || m.Series("process_resident_memory_bytes") != 1 {
		t.Error("no Go or process metrics")
	}

	// In dev, the gateway writes every shard to its storage node's store
	// directly: at least k+1 = 5 of each chunk's shards, and reads k = 4.
	const chunks = 4
	var puts, gets, putBytes float64
	for _, url := range p.nodeMets {
		m := scrape(url)
		puts += val(m, "cairn_shard_requests_total", "transport", "local", "op", "put", "result", "ok")
		gets += val(m, "cairn_shard_requests_total", "transport", "local", "op", "get", "result", "ok")
		putBytes += val(m, "cairn_shard_received_bytes_total", "transport", "local")
		if v := val(m, "cairn_shard_requests_total", "result", "corrupt"); v != 0 {
			t.Errorf("%s: %v corrupt shards", url, v)
		}
	}
	if puts < chunks*5 || gets < chunks*4 {
		t.Errorf("shard PUTs %v, GETs %v; want >= %d and >= %d", puts, gets, chunks*5, chunks*4)
	}
	if putBytes < size {
		t.Errorf("shard bytes in: %v, want >= the object's %d", putBytes, size)
	}

	// /metrics answers GET only.
	resp, err := rawClient.Post(p.metrics, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}
}
