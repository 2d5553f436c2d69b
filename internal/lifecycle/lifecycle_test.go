package lifecycle

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/meta"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

func open(t *testing.T, c *clock) *meta.Store {
	t.Helper()
	_, tr := raft.NewInmemTransport("")
	mc := meta.Default()
	mc.Dir, mc.NodeID, mc.Transport, mc.Bootstrap = filepath.Join(t.TempDir(), "meta"), "n1", tr, true
	mc.Now = c.now
	ms, err := meta.Open(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	if err := ms.WaitLeader(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ms
}

func put(t *testing.T, ms *meta.Store, c *clock, bucket, key, chunk string) *meta.Object {
	t.Helper()
	h := sha256.Sum256([]byte(chunk))
	id := append([]byte{0x01, 0x55, 0x12, 0x20}, h[:]...)
	o := &meta.Object{Bucket: bucket, Key: key, Size: int64(len(chunk)), ETag: fmt.Sprintf("%x", h[:16]), CID: "bafk" + key, Modified: c.now(),
		Chunks: []meta.Chunk{{CID: id, Size: int64(len(chunk)), Data: []byte(chunk)}}}
	if err := ms.PutObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func versions(t *testing.T, ms *meta.Store, bucket string) []string {
	t.Helper()
	l, err := ms.ListObjectVersions(context.Background(), bucket, meta.VersionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range l.Versions {
		s := v.Key
		if v.DeleteMarker {
			s += "(dm)"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func want(t *testing.T, got []string, w ...string) {
	t.Helper()
	sort.Strings(w)
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Fatalf("versions %v, want %v", got, w)
	}
}

// TestRules walks each kind of rule through the days it takes, with a
// lifecycle day of a minute on a test clock.
func TestRules(t *testing.T) {
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	ms := open(t, c)
	ctx := context.Background()
	r, err := New(Config{Meta: ms, Leader: func() bool { return true }, Day: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ms.CreateBucket(ctx, "b", c.now()))
	must(ms.SetBucketConfig(ctx, "b", meta.ConfigVersioning, &meta.BucketConfig{Versioning: meta.VersioningEnabled}))
	must(ms.SetBucketConfig(ctx, "b", meta.ConfigLifecycle, &meta.BucketConfig{Lifecycle: []meta.LifecycleRule{
		{ID: "logs", Enabled: true, Prefix: "logs/", ExpirationDays: 2, NoncurrentDays: 1},
		{ID: "old", Enabled: true, NoncurrentDays: 1, NewerNoncurrent: 1},
		{ID: "dm", Enabled: true, ExpiredObjectDeleteMarker: true},
		{ID: "mpu", Enabled: true, AbortMultipartDays: 3},
		{ID: "tagged", Enabled: true, Prefix: "keep/", ExpirationDays: 1, Tags: []meta.Tag{{Key: "t", Value: "v"}}},
		{ID: "off", Enabled: false, ExpirationDays: 1},
	}}))
	put(t, ms, c, "b", "logs/a", "a1")
	put(t, ms, c, "b", "keep/x", "x1")
	must(ms.CreateUpload(ctx, &meta.Upload{Bucket: "b", Key: "big", ID: "u1", Initiated: c.now()}))
	c.add(30 * time.Second)
	put(t, ms, c, "b", "k", "k1")
	put(t, ms, c, "b", "k", "k2")
	put(t, ms, c, "b", "k", "k3")
	must(r.Pass(ctx))
	want(t, versions(t, ms, "b"), "keep/x", "k", "k", "k", "logs/a")

	// A day on: k's oldest noncurrent version goes (one newer kept).
	c.add(time.Minute)
	must(r.Pass(ctx))
	want(t, versions(t, ms, "b"), "keep/x", "k", "k", "logs/a")

	// Two days after it was written logs/a expires: a delete marker over
	// it; a day later, as a noncurrent version, it goes, and the marker
	// left alone goes too.
	c.add(31 * time.Second)
	must(r.Pass(ctx))
	want(t, versions(t, ms, "b"), "keep/x", "k", "k", "logs/a", "logs/a(dm)")
	c.add(time.Minute)
	must(r.Pass(ctx))
	want(t, versions(t, ms, "b"), "keep/x", "k", "k", "logs/a(dm)")
	must(r.Pass(ctx))
	want(t, versions(t, ms, "b"), "keep/x", "k", "k")

	// The upload, three days old, is aborted.
	ul, err := ms.ListUploads(ctx, "b", meta.UploadQuery{})
	must(err)
	if len(ul.Uploads) != 0 {
		t.Fatalf("%d uploads left", len(ul.Uploads))
	}
	if st := r.Stats(); st.Aborted != 1 || st.Expired != 4 || st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTagFilters: a rule with a tag filter (Filter/Tag, or And with a
// prefix and tags) expires only the objects that carry every one of its
// tags with the same value, read from the objects' own tags: a tagged
// object under the prefix goes, an untagged one or one tagged otherwise
// beside it stays, and tags set after the write count.
func TestTagFilters(t *testing.T) {
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	ms := open(t, c)
	ctx := context.Background()
	r, err := New(Config{Meta: ms, Leader: func() bool { return true }, Day: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ms.CreateBucket(ctx, "b", c.now()))
	must(ms.SetBucketConfig(ctx, "b", meta.ConfigLifecycle, &meta.BucketConfig{Lifecycle: []meta.LifecycleRule{
		{ID: "and", Enabled: true, Prefix: "tmp/", ExpirationDays: 1, Tags: []meta.Tag{{Key: "class", Value: "scratch"}, {Key: "team", Value: "a"}}},
		{ID: "tag", Enabled: true, ExpirationDays: 1, Tags: []meta.Tag{{Key: "expire", Value: "yes"}}},
	}}))
	tagged := func(key string, tags map[string]string) {
		t.Helper()
		h := sha256.Sum256([]byte(key))
		id := append([]byte{0x01, 0x55, 0x12, 0x20}, h[:]...)
		must(ms.PutObject(ctx, &meta.Object{Bucket: "b", Key: key, Size: int64(len(key)), ETag: fmt.Sprintf("%x", h[:16]), CID: "bafk" + key, Modified: c.now(),
			Tags: tags, Chunks: []meta.Chunk{{CID: id, Size: int64(len(key)), Data: []byte(key)}}}))
	}
	tagged("tmp/both", map[string]string{"class": "scratch", "team": "a", "other": "x"})
	tagged("tmp/one", map[string]string{"class": "scratch"})                // And needs both
	tagged("tmp/wrong", map[string]string{"class": "scratch", "team": "b"}) // another value
	tagged("tmp/plain", nil)
	tagged("keep/both", map[string]string{"class": "scratch", "team": "a"}) // outside the prefix
	tagged("any/flagged", map[string]string{"expire": "yes"})
	tagged("any/later", nil)
	must(ms.SetObjectTags(ctx, "b", "any/later", map[string]string{"expire": "yes"}))
	tagged("any/unflagged", map[string]string{"expire": "no"})

	must(r.Pass(ctx))
	all := []string{"any/flagged", "any/later", "any/unflagged", "keep/both", "tmp/both", "tmp/one", "tmp/plain", "tmp/wrong"}
	want(t, versions(t, ms, "b"), all...)
	c.add(time.Minute)
	must(r.Pass(ctx))
	want(t, versions(t, ms, "b"), "any/unflagged", "keep/both", "tmp/one", "tmp/plain", "tmp/wrong")
	if st := r.Stats(); st.Expired != 3 {
		t.Fatalf("stats %+v, want 3 expired", st)
	}
}

// TestLockedVersionsStay: a rule never deletes a version under object
// lock; the state machine refuses, and the runner counts the refusal.
func TestLockedVersionsStay(t *testing.T) {
	c := &clock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	ms := open(t, c)
	ctx := context.Background()
	r, err := New(Config{Meta: ms, Leader: func() bool { return true }, Day: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := ms.CreateBucketConfigured(ctx, "lk", c.now(), &meta.BucketConfig{ObjectLock: &meta.ObjectLockConfig{DefaultMode: meta.LockCompliance, DefaultDays: 10}}); err != nil {
		t.Fatal(err)
	}
	if err := ms.SetBucketConfig(ctx, "lk", meta.ConfigLifecycle, &meta.BucketConfig{Lifecycle: []meta.LifecycleRule{
		{Enabled: true, ExpirationDays: 1, NoncurrentDays: 1},
	}}); err != nil {
		t.Fatal(err)
	}
	put(t, ms, c, "lk", "k", "v1")
	put(t, ms, c, "lk", "k", "v2")
	for i := 0; i < 3; i++ {
		c.add(time.Hour)
		if err := r.Pass(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The current version expired into a delete marker; no locked
	// version went.
	want(t, versions(t, ms, "lk"), "k", "k", "k(dm)")
	if r.Stats().Refused == 0 {
		t.Fatal("no refusal counted")
	}
}

// TestMetricsDocumented: every metric a Runner registers is in
// docs/metrics.md, which lists every metric.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c := &clock{}
	if _, err := New(Config{Meta: open(t, c), Leader: func() bool { return false }, Metrics: reg}); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 4 {
		t.Fatalf("%d metric families registered", len(fams))
	}
	for _, f := range fams {
		if !strings.Contains(string(doc), "`"+f.GetName()+"`") {
			t.Errorf("%s is not in docs/metrics.md", f.GetName())
		}
	}
}
