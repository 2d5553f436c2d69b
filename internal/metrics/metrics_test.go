package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/blob"
	"cairn/internal/blob/blobtest"
	"cairn/internal/metrics"
	"cairn/internal/metrics/metricstest"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
	"cairn/s3gw"
)

// scraper serves a registry as a node does, and scrapes it over HTTP.
type scraper struct {
	t   *testing.T
	url string
}

func serveMetrics(t *testing.T, reg *prometheus.Registry) *scraper {
	t.Helper()
	ts := httptest.NewServer(metrics.Handler(reg, nil))
	t.Cleanup(ts.Close)
	return &scraper{t, ts.URL + metrics.Path}
}

func (s *scraper) scrape() metricstest.Metrics {
	s.t.Helper()
	m, err := metricstest.Scrape(context.Background(), nil, s.url)
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// eventually scrapes until want holds: a server reports a request once
// its handler returns, which may be after the client has the response.
func (s *scraper) eventually(want func(metricstest.Metrics) string) metricstest.Metrics {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := s.scrape()
		why := want(m)
		if why == "" {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatal(why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// value is m's value of a series, or -1 if there is none.
func value(m metricstest.Metrics, name string, labels ...string) float64 {
	v, ok := m.Value(name, labels...)
	if !ok {
		return -1
	}
	return v
}

func TestRegistry(t *testing.T) {
	reg := metrics.NewRegistry()
	if err := metrics.RegisterNodeInfo(reg, "n-1", "zone-a", []string{"storage", "gateway"}); err != nil {
		t.Fatal(err)
	}
	m := serveMetrics(t, reg).scrape()
	for _, name := range []string{"go_goroutines", "go_build_info", "process_start_time_seconds"} {
		if m.Series(name) == 0 {
			t.Errorf("no %s", name)
		}
	}
	if v := value(m, "cairn_node_info", "node", "n-1", "zone", "zone-a", "roles", "gateway,storage"); v != 1 {
		t.Errorf("cairn_node_info = %v, want 1 with the node's labels", v)
	}

	// Every node of a process has its registry: the same metrics register
	// in two of them, and not twice in one.
	if _, err := metrics.NewS3(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewS3(metrics.NewRegistry()); err != nil {
		t.Fatalf("a second node's registry: %v", err)
	}
	_, err := metrics.NewS3(reg)
	if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); !ok {
		t.Fatalf("registering twice: %v, want an AlreadyRegisteredError", err)
	}
	// A nil Registerer registers nothing, and works.
	if _, err := metrics.NewShards(nil); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterOther is what another package (healing) does: register its
// own metrics with the node's registry, and find them on /metrics.
func TestRegisterOther(t *testing.T) {
	reg := metrics.NewRegistry()
	repaired := prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "heal", Name: "shards_repaired_total", Help: "x"})
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "heal", Name: "stripes_queued", Help: "x"},
		func() float64 { return 7 })
	if err := metrics.Register(reg, repaired, queued); err != nil {
		t.Fatal(err)
	}
	repaired.Add(3)
	m := serveMetrics(t, reg).scrape()
	if v := value(m, "cairn_heal_shards_repaired_total"); v != 3 {
		t.Errorf("cairn_heal_shards_repaired_total = %v, want 3", v)
	}
	if v := value(m, "cairn_heal_stripes_queued"); v != 7 {
		t.Errorf("cairn_heal_stripes_queued = %v, want 7", v)
	}
	if err := metrics.Register(reg, repaired); err == nil {
		t.Error("a second registration succeeded")
	}
	if err := metrics.Register(nil, repaired); err != nil {
		t.Errorf("Register(nil): %v", err)
	}
}

// objects is an s3gw.Backend of objects in memory: PutObject and
// GetObject, nothing else.
type objects struct {
	s3gw.Backend
	mu   sync.Mutex
	data map[string][]byte
}

// HeadBucket: every bucket exists (an anonymous request asks first).
func (o *objects) HeadBucket(ctx context.Context, bucket string) (s3gw.BucketInfo, error) {
	return s3gw.BucketInfo{Name: bucket}, nil
}

func (o *objects) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts s3gw.PutOptions) (s3gw.ObjectInfo, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return s3gw.ObjectInfo{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data[bucket+"/"+key] = b
	return s3gw.ObjectInfo{Key: key, Size: int64(len(b)), ETag: "0123456789abcdef0123456789abcdef", LastModified: time.Now()}, nil
}

func (o *objects) GetObject(ctx context.Context, bucket, key string) (s3gw.Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.data[bucket+"/"+key]
	if !ok {
		return nil, s3gw.ErrNoSuchKey
	}
	return object{key, b}, nil
}

type object struct {
	key  string
	data []byte
}

func (o object) Info() s3gw.ObjectInfo {
	return s3gw.ObjectInfo{Key: o.key, Size: int64(len(o.data)), ETag: "0123456789abcdef0123456789abcdef", LastModified: time.Now()}
}

func (o object) Open(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.data[off : off+n])), nil
}

type creds map[string]string

func (c creds) SecretKey(ctx context.Context, ak string) (string, error) {
	if s, ok := c[ak]; ok {
		return s, nil
	}
	return "", s3gw.ErrInvalidAccessKeyID
}

func TestS3(t *testing.T) {
	reg := metrics.NewRegistry()
	m3, err := metrics.NewS3(reg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s3gw.New(s3gw.Config{Backend: &objects{data: map[string][]byte{}}, Credentials: creds{"AKID": "secret key"}, Observer: m3})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	sc := serveMetrics(t, reg)

	// Every operation's series exist before any request.
	m := sc.scrape()
	for _, op := range append(s3gw.Operations(), metrics.UnknownOp) {
		if v := value(m, "cairn_s3_request_duration_seconds_count", "op", op); v != 0 {
			t.Errorf("%s: duration count %v before any request, want 0", op, v)
		}
	}
	if m.Series("cairn_s3_requests_total") != 0 {
		t.Errorf("request counters before any request: %d", m.Series("cairn_s3_requests_total"))
	}

	ctx := context.Background()
	c, err := minio.New(strings.TrimPrefix(ts.URL, "http://"), &minio.Options{Creds: credentials.NewStaticV4("AKID", "secret key", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 300_000)
	rand.NewChaCha8([32]byte{1}).Read(data)
	if _, err := c.PutObject(ctx, "bkt", "obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{DisableMultipart: true}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		o, err := c.GetObject(ctx, "bkt", "obj", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(o); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GetObject: %d bytes, %v", len(got), err)
		}
	}
	if _, err := c.StatObject(ctx, "bkt", "missing", minio.StatObjectOptions{}); err == nil {
		t.Fatal("StatObject of a missing key succeeded")
	}
	resp, err := http.Get(ts.URL + "/bkt?website")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	m = sc.eventually(func(m metricstest.Metrics) string {
		if v := value(m, "cairn_s3_requests_total", "op", "GetObject", "code", "200"); v != 2 {
			return "GetObject 200: " + ftoa(v) + ", want 2"
		}
		if v := value(m, "cairn_s3_requests_total", "op", metrics.UnknownOp); v != 1 {
			return "Unknown: " + ftoa(v) + ", want 1"
		}
		return ""
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cairn_s3_requests_total", []string{"op", "PutObject", "code", "200"}, 1},
		{"cairn_s3_requests_total", []string{"op", "PutObject"}, 1},
		{"cairn_s3_requests_total", []string{"op", "HeadObject", "code", "404"}, 1},
		{"cairn_s3_requests_total", []string{"op", metrics.UnknownOp, "code", "403"}, 1}, // ?website, unsigned: 403 before 501
		{"cairn_s3_request_duration_seconds_count", []string{"op", "PutObject"}, 1},
		{"cairn_s3_request_duration_seconds_count", []string{"op", "GetObject"}, 2},
		{"cairn_s3_sent_bytes_total", []string{"op", "GetObject"}, 2 * float64(len(data))},
		{"cairn_s3_aborted_responses_total", []string{"op", "GetObject"}, 0},
	} {
		if v := value(m, c.name, c.labels...); v != c.want {
			t.Errorf("%s%q = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	// The body as sent: at least the object, plus aws-chunked framing if
	// the client streamed it.
	if v := value(m, "cairn_s3_received_bytes_total", "op", "PutObject"); v < float64(len(data)) {
		t.Errorf("PutObject received %v bytes, want >= %d", v, len(data))
	}
	if v := value(m, "cairn_s3_request_duration_seconds_sum", "op", "PutObject"); v <= 0 {
		t.Errorf("PutObject took %v s in all", v)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestShards(t *testing.T) {
	reg := metrics.NewRegistry()
	ms, err := metrics.NewShards(reg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := blob.OpenDir(filepath.Join(t.TempDir(), "shards"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := nodeauth.NewSigner([]byte("a cluster secret of enough bytes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := nodeapi.NewServer(nodeapi.ServerConfig{Store: st, Signer: signer, NodeID: "n-1", Observer: ms.HTTP()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	sc := serveMetrics(t, reg)

	// Every series exists from the start.
	m := sc.scrape()
	if n := m.Series("cairn_shard_requests_total"); n != 2*len(nodeapi.ShardOps())*len(nodeapi.ShardResults()) {
		t.Errorf("%d shard request series before any request, want one per transport, op and result", n)
	}
	if v := value(m, "cairn_shard_requests_total", "transport", "http", "op", "get", "result", "corrupt"); v != 0 {
		t.Errorf("corrupt GETs before any request: %v, want 0", v)
	}

	ctx := context.Background()
	c, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: ts.URL, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	id, data := blobtest.NewShard(t, rand.New(rand.NewPCG(1, 2)), 7000)
	missing, _ := blobtest.NewShard(t, rand.New(rand.NewPCG(3, 4)), 10)
	if err := c.Put(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.Get(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := c.Has(ctx, missing); ok || err != nil {
		t.Fatalf("Has of a missing shard: %v %v", ok, err)
	}
	if err := c.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The local path, as a gateway of the same process reports it.
	ms.Local().ObserveShard(nodeapi.ShardGet, nodeapi.ResultOf(blob.ErrCorrupt), 0, time.Millisecond)
	ms.Local().ObserveShard(nodeapi.ShardPut, nodeapi.ResultOK, 123, time.Millisecond)

	m = sc.eventually(func(m metricstest.Metrics) string {
		if v := value(m, "cairn_shard_requests_total", "transport", "http", "op", "delete", "result", "ok"); v != 1 {
			return "delete ok: " + ftoa(v) + ", want 1"
		}
		return ""
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cairn_shard_requests_total", []string{"transport", "http", "op", "put", "result", "ok"}, 1},
		{"cairn_shard_requests_total", []string{"transport", "http", "op", "get", "result", "ok"}, 3},
		{"cairn_shard_requests_total", []string{"transport", "http", "op", "head", "result", "not_found"}, 1},
		{"cairn_shard_requests_total", []string{"transport", "http"}, 6},
		{"cairn_shard_requests_total", []string{"transport", "local", "op", "get", "result", "corrupt"}, 1},
		{"cairn_shard_requests_total", []string{"transport", "local"}, 2},
		{"cairn_shard_request_duration_seconds_count", []string{"transport", "http", "op", "get"}, 3},
		{"cairn_shard_received_bytes_total", []string{"transport", "http"}, float64(len(data))},
		{"cairn_shard_sent_bytes_total", []string{"transport", "http"}, 3 * float64(len(data))},
		{"cairn_shard_received_bytes_total", []string{"transport", "local"}, 123},
	} {
		if v := value(m, c.name, c.labels...); v != c.want {
			t.Errorf("%s%q = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
}

// TestNoAllocs checks that observing a request allocates nothing once an
// operation has seen its status code.
func TestNoAllocs(t *testing.T) {
	m3, err := metrics.NewS3(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	op := m3.Operation("GetObject")
	stats := s3gw.RequestStats{Status: 200, Duration: time.Millisecond, Sent: 1 << 20}
	op.Done(stats)
	if n := testing.AllocsPerRun(100, func() { op.Done(stats) }); n != 0 {
		t.Errorf("S3 Done: %v allocations, want 0", n)
	}
	ms, err := metrics.NewShards(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	obs := ms.HTTP()
	if n := testing.AllocsPerRun(100, func() { obs.ObserveShard(nodeapi.ShardGet, nodeapi.ResultOK, 1<<18, time.Millisecond) }); n != 0 {
		t.Errorf("ObserveShard: %v allocations, want 0", n)
	}
}

func BenchmarkS3Done(b *testing.B) {
	m3, err := metrics.NewS3(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	op := m3.Operation("GetObject")
	stats := s3gw.RequestStats{Status: 200, Duration: time.Millisecond, Sent: 1 << 20}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op.Done(stats)
		}
	})
}
