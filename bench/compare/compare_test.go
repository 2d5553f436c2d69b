package compare

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestPlan(t *testing.T) {
	var names []string
	for _, w := range Plan(16) {
		names = append(names, w.Name)
		if w.Concurrency != 16 {
			t.Errorf("%s: concurrency %d", w.Name, w.Concurrency)
		}
	}
	want := "put-64MiB get-64MiB put-1MiB get-1MiB put-4KiB get-4KiB mixed-1MiB list"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("plan %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := QuickConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"one round":   func(c *Config) { c.Rounds = 1 },
		"no duration": func(c *Config) { c.Duration = 0 },
		"unknown":     func(c *Config) { c.Only = []string{"put-2MiB"} },
		"no go":       func(c *Config) { c.Go = "" },
	} {
		c := DefaultConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBestAndRatio(t *testing.T) {
	w := newWorkloadResult(Plan(16)[0],
		[]RunSummary{{Round: 1, OpsPerSec: 2}, {Round: 2, OpsPerSec: 3}},
		[]RunSummary{{Round: 1, OpsPerSec: 6}, {Round: 2, OpsPerSec: 4}})
	if w.Cairn.Best.Round != 2 || w.MinIO.Best.Round != 1 || w.Ratio != 0.5 {
		t.Fatalf("best %d/%d, ratio %v", w.Cairn.Best.Round, w.MinIO.Best.Round, w.Ratio)
	}
}

func TestReportWrite(t *testing.T) {
	r := &Report{
		Mode:       ModeDev,
		Machine:    Machine{CPUs: 2, LoopbackMiBps: 3000, TLSMiBps: 650, TLSConnsMiBps: 1200, TLSConns: 2, TLSSuite: "TLS_AES_128_GCM_SHA256", AEADMiBps: 3900},
		Cairn:      Binary{Version: "abc1234"},
		MinIO:      Binary{Version: MinIOVersion},
		CairnSetup: "storaged --dev at abc1234",
		Duration:   10, Rounds: 2, Selection: "best of 2", Concurrency: 16,
		Workloads: []WorkloadResult{newWorkloadResult(Plan(16)[0],
			[]RunSummary{{Round: 1, MiBPerSec: 100, OpsPerSec: 1.56, P50: 9000, P99: 9500, CPU: 1.2}},
			[]RunSummary{{Round: 1, MiBPerSec: 200, OpsPerSec: 3.12, P50: 4000, P99: 4500, CPU: 0.9, Retried: 3}})},
		Memory: []MemoryResult{{Server: "cairn", Processes: 1, Load: "x", PeakRSS: 900 << 20, HWM: 950 << 20, IdleRSS: 150 << 20, Idle: 30}},
	}
	var text, md strings.Builder
	r.Write(&text, false)
	r.Write(&md, true)
	for _, want := range []string{"put-64MiB", "0.50×", "900 MiB", "150 MiB", "MinIO put-64MiB round 1: 3 responses 429/5xx",
		"abc1234", "Mode dev.", "3900 MiB/s", "TLS_AES_128_GCM_SHA256", "2 connections at once"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	for _, absent := range []string{"namespace", "summed"} {
		if strings.Contains(text.String(), absent) {
			t.Errorf("dev report mentions %q:\n%s", absent, text.String())
		}
	}
	for _, want := range []string{"| put-64MiB | 100 | 1.56 |", "|---|---:|", "| AES-256-GCM seal | 3900 MiB/s |", "| TLS 1.3 over loopback | 650 MiB/s |", "|---|---:|---|\n"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown report lacks %q:\n%s", want, md.String())
		}
	}

	// Cluster mode: the namespace's TCP rate, memory summed.
	r.Mode, r.Machine.VethMiBps, r.Memory[0].Processes = ModeCluster, 2500, 6
	text.Reset()
	r.Write(&text, false)
	for _, want := range []string{"Mode cluster.", "TCP into MinIO's namespace  2500 MiB/s", "processes summed"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("cluster report lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "secure") {
		t.Errorf("a plain report says secure:\n%s", text.String())
	}

	// The secure variant says so, and what each side runs.
	r.Secure, r.Security = true, securityNote(true)
	text.Reset()
	r.Write(&text, false)
	for _, want := range []string{"Mode cluster, secure variant: both serve S3 over HTTPS", "mutual TLS 1.3 between its nodes",
		"AES-256-GCM sealing", "TLS between its nodes (--certs-dir, https:// endpoints)", "SSE-S3", "Cairn: storaged --dev"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("secure cluster report lacks %q:\n%s", want, text.String())
		}
	}
	if dev := securityNote(false); !strings.Contains(dev, "HTTPS") || !strings.Contains(dev, "SSE-S3") || strings.Contains(dev, "TLS between") {
		t.Errorf("dev mode's note %q", dev)
	}
}

// A target of several endpoints spreads the load over them; of one, it
// names just that one.
func TestLoadConfig(t *testing.T) {
	w := Plan(16)[1]
	one := loadConfig(DefaultConfig(), &target{endpoints: []string{"a:1"}, accessKey: "k", secretKey: "s"}, w, time.Second)
	if one.Endpoint != "a:1" || one.Endpoints != nil || one.AccessKey != "k" || one.Bucket != benchBucket || one.Workload != w.Kind {
		t.Errorf("one endpoint: %+v", one)
	}
	three := loadConfig(DefaultConfig(), &target{endpoints: []string{"a:1", "b:2", "c:3"}}, w, time.Second)
	if three.Endpoint != "a:1" || len(three.Endpoints) != 3 || three.Duration != time.Second {
		t.Errorf("three endpoints: %+v", three)
	}
	if err := three.Validate(); err == nil {
		t.Error("a config without keys validated") // the premise of the next check
	}
	three.AccessKey, three.SecretKey = "k", "s"
	if err := three.Validate(); err != nil {
		t.Error(err)
	}
	if three.RootCAs != nil {
		t.Error("root CAs for a plain target")
	}
	pool := x509.NewCertPool()
	secure := loadConfig(DefaultConfig(), &target{endpoints: []string{"https://a:1"}, rootCAs: pool}, w, time.Second)
	if secure.RootCAs != pool || secure.Endpoint != "https://a:1" {
		t.Errorf("secure target: root CAs %p, endpoint %q", secure.RootCAs, secure.Endpoint)
	}
}

// TestCheckSSE: the check passes only when the object the run wrote
// reports SSE-S3 (AES256), and fails with the key and what it found
// otherwise, or when the run wrote nothing. The server is an S3 fake with
// one object, read through minio-go as the real check reads MinIO.
func TestCheckSSE(t *testing.T) {
	var header string // x-amz-server-side-encryption of the object
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/"+benchBucket && r.URL.Query().Get("list-type") == "2":
			prefix := r.URL.Query().Get("prefix")
			contents := ""
			if prefix == "run/" {
				contents = `<Contents><Key>run/put/000/00000001</Key><Size>4</Size><ETag>"x"</ETag><LastModified>2026-12-07T21:00:00.000Z</LastModified></Contents>`
			}
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated>%s</ListBucketResult>`,
				benchBucket, prefix, contents)
		case r.Method == http.MethodHead && r.URL.Path == "/"+benchBucket+"/run/put/000/00000001":
			w.Header().Set("Content-Length", "4")
			w.Header().Set("ETag", `"x"`)
			w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
			if header != "" {
				w.Header().Set("X-Amz-Server-Side-Encryption", header)
			}
		default:
			w.WriteHeader(http.StatusNotImplemented)
		}
	}))
	defer srv.Close()
	c, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4("k", "s", ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	header = "AES256"
	if err := checkSSE(ctx, c, "run/"); err != nil {
		t.Errorf("SSE-S3 object: %v", err)
	}
	for _, h := range []string{"", "aws:kms"} {
		header = h
		err := checkSSE(ctx, c, "run/")
		if err == nil || !strings.Contains(err.Error(), "run/put/000/00000001 is not encrypted at rest with SSE-S3") ||
			!strings.Contains(err.Error(), fmt.Sprintf("x-amz-server-side-encryption %q", h)) {
			t.Errorf("header %q: %v", h, err)
		}
	}
	if err := checkSSE(ctx, c, "other/"); err == nil || !strings.Contains(err.Error(), "wrote no object under other/") {
		t.Errorf("no object: %v", err)
	}
}

// BuildMinIO takes a binary already in the cache without building.
func TestBuildMinIOCached(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("moves the cache with XDG_CACHE_HOME, which only Linux's os.UserCacheDir reads")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	path, err := MinIOCachePath()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := BuildMinIO(context.Background(), "no-such-go-command", nil)
	if err != nil || !b.Cached || b.Path != path || b.Version != MinIOVersion {
		t.Fatalf("%+v, %v", b, err)
	}
}
