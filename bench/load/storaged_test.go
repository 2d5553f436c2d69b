package load_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn/bench/load"
	"cairn/bench/server"
)

// TestAgainstStoraged runs every workload against a real `storaged --dev`,
// built from this tree, and checks that nothing fails and that Run removes
// what it wrote, bucket included.
func TestAgainstStoraged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts storaged --dev; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "storaged")
	if out, err := exec.Command("go", "build", "-o", bin, "cairn/cmd/storaged").CombinedOutput(); err != nil {
		t.Fatalf("build storaged: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := server.StartCairn(ctx, server.CairnOptions{
		Bin: bin, Data: filepath.Join(dir, "data"), LogPath: filepath.Join(dir, "storaged.log"),
		AccessKey: "LOADTESTACCESSKEY", SecretKey: "load-test-secret-key-0123456789",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		p.Stop(15 * time.Second)
		if t.Failed() {
			t.Logf("storaged log tail:\n%s", p.LogTail(4000))
		}
	}()

	for _, c := range []struct {
		workload string
		size     int64
		objects  int
		partSize int64
		count    int64
	}{
		{workload: load.WorkloadPut, size: 4 << 10, count: 24},
		{workload: load.WorkloadPut, size: 11<<20 + 3, partSize: 5 << 20, count: 4}, // multipart, odd size
		{workload: load.WorkloadGet, size: 2<<20 + 1, count: 24},
		{workload: load.WorkloadMixed, size: 64 << 10, count: 24},
		{workload: load.WorkloadList, size: 0, objects: 160, count: 24},
	} {
		cfg := load.DefaultConfig()
		cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = p.Endpoint, p.AccessKey, p.SecretKey
		cfg.Bucket = "loadtest"
		cfg.Workload, cfg.Size, cfg.Objects, cfg.PartSize = c.workload, c.size, c.objects, c.partSize
		cfg.Concurrency, cfg.Count, cfg.Duration = 4, c.count, 0
		cfg.PageSize = 40 // list: four full pages a pass
		start := time.Now()
		res, err := load.Run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s %s: %v", c.workload, load.FormatSize(c.size), err)
		}
		t.Logf("%s %s: %.1fs, timed phase %.1fs", c.workload, load.FormatSize(c.size), time.Since(start).Seconds(), res.Seconds)
		if res.Errors() != 0 || res.Total.Count != c.count {
			t.Fatalf("%s %s: %d ok, %d errors: %q", c.workload, load.FormatSize(c.size),
				res.Total.Count, res.Errors(), res.FirstErrors)
		}
		if c.workload != load.WorkloadList && res.Total.Bytes != c.count*c.size {
			t.Errorf("%s: %d bytes moved, want %d", c.workload, res.Total.Bytes, c.count*c.size)
		}
		if c.workload == load.WorkloadList && res.Total.Keys != 24*40 {
			t.Errorf("list: %d keys, want %d", res.Total.Keys, 24*40)
		}
		var sb strings.Builder
		if err := load.WriteTable(&sb, res); err != nil || !strings.Contains(sb.String(), "p99.9 ms") {
			t.Errorf("table: %v\n%s", err, sb.String())
		}
	}
	// Each Run created the bucket and removed it with its objects.
	c, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, "loadtest"); err != nil || ok {
		t.Fatalf("bucket still there after the runs (%v, %v)", ok, err)
	}
}
