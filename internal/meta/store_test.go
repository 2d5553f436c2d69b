package meta

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := Default().Validate(); err == nil {
		t.Fatal("Default() without Dir and NodeID validated")
	}
	good := Default()
	good.Dir, good.NodeID, good.BindAddr = "/tmp/x", "n1", "127.0.0.1:0"
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"no dir":       {func(c *Config) { c.Dir = "" }, "Dir"},
		"no node":      {func(c *Config) { c.NodeID = "" }, "NodeID"},
		"no transport": {func(c *Config) { c.BindAddr = "" }, "BindAddr"},
		"bad bind":     {func(c *Config) { c.BindAddr = "nope" }, "BindAddr"},
		"bad adv":      {func(c *Config) { c.Advertise = "nope" }, "Advertise"},
		"timeout":      {func(c *Config) { c.ApplyTimeout = -1 }, "ApplyTimeout"},
		"election":     {func(c *Config) { c.ElectionTimeout = c.HeartbeatTimeout / 2 }, "ElectionTimeout"},
		"lease":        {func(c *Config) { c.LeaderLeaseTimeout = 2 * c.HeartbeatTimeout }, "LeaderLeaseTimeout"},
		"append":       {func(c *Config) { c.MaxAppendEntries = 5000 }, "MaxAppendEntries"},
		"solo":         {func(c *Config) { c.SoloTimeout = time.Millisecond }, "SoloTimeout"},
	} {
		c := good
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %s", name, err, tc.want)
		}
	}
	// Open fills zero fields from Default.
	var c Config
	c = c.withDefaults()
	c.Dir, c.NodeID, c.BindAddr = "/tmp/x", "n1", "127.0.0.1:0"
	if err := c.Validate(); err != nil {
		t.Fatalf("zero config with defaults: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(Config{})
	if err == nil {
		t.Fatal("Open(Config{}) succeeded")
	}
	// A second Open of a directory in use fails rather than hangs.
	n := newDev(t, nil)
	cfg := n.cfg
	cfg.Transport = nil
	cfg.BindAddr = "127.0.0.1:0"
	if s, err := Open(cfg); err == nil {
		_ = s.Close()
		t.Fatal("second Open of the same directory succeeded")
	}
}

func TestTCPTransport(t *testing.T) {
	cfg := testConfig(t.TempDir(), "tcp1", nil)
	cfg.BindAddr = "127.0.0.1:0"
	cfg.Bootstrap = true
	s, err := Open(cfg)
	must(t, err)
	defer func() { must(t, s.Close()) }()
	waitLeader(t, s)
	must(t, s.CreateBucket(bg, "b", time.Now()))
	if _, err := s.GetBucket(bg, "b"); err != nil {
		t.Fatal(err)
	}
}

func TestSoloElectsQuickly(t *testing.T) {
	start := time.Now()
	n := newDev(t, func(c *Config) { c.SoloTimeout = 0 }) // the default, 100ms
	if d := time.Since(start); d > time.Second {
		t.Errorf("single voter took %s to lead", d)
	} else {
		t.Logf("single voter leads %s after Open", d)
	}
	if !n.s.solo() {
		t.Error("solo() false for a single voter")
	}
}

func TestBuckets(t *testing.T) {
	s := newDev(t, nil).s
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	must(t, s.CreateBucket(bg, "zeta", now))
	must(t, s.CreateBucket(bg, "alpha", now.Add(time.Second)))
	wantErr(t, s.CreateBucket(bg, "zeta", now), ErrBucketExists)

	b, err := s.GetBucket(bg, "zeta")
	must(t, err)
	applied, err := s.fsm.applied()
	must(t, err)
	if b.ReadIndex != applied {
		t.Errorf("GetBucket's read index %d, applied %d", b.ReadIndex, applied)
	}
	b.ReadIndex = 0
	if want := (&Bucket{V: FormatVersion, Name: "zeta", Created: now, Config: &BucketConfig{V: FormatVersion}}); !reflect.DeepEqual(b, want) {
		t.Errorf("GetBucket = %+v, want %+v", b, want)
	}
	_, err = s.GetBucket(bg, "nope")
	wantErr(t, err, ErrNoSuchBucket)

	list, err := s.ListBuckets(bg)
	must(t, err)
	if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "zeta" {
		t.Errorf("ListBuckets = %+v", list)
	}

	wantErr(t, s.DeleteBucket(bg, "nope"), ErrNoSuchBucket)
	must(t, s.PutObject(bg, object("zeta", "k", "c1")))
	wantErr(t, s.DeleteBucket(bg, "zeta"), ErrBucketNotEmpty)
	must(t, s.DeleteObjects(bg, "zeta", []string{"k"}))
	must(t, s.DeleteBucket(bg, "zeta"))
	_, err = s.GetBucket(bg, "zeta")
	wantErr(t, err, ErrNoSuchBucket)

	// A bucket whose name is a prefix of another's is not "not empty"
	// because of the other's objects.
	must(t, s.CreateBucket(bg, "alpha2", now))
	must(t, s.PutObject(bg, object("alpha2", "x")))
	must(t, s.DeleteBucket(bg, "alpha"))
}

func TestObjects(t *testing.T) {
	s := newDev(t, nil).s
	wantErr(t, s.PutObject(bg, object("b", "k")), ErrNoSuchBucket)
	must(t, s.CreateBucket(bg, "b", time.Now()))

	o := object("b", "dir/k", "c1", "c2")
	o.Headers = map[string]string{"Cache-Control": "no-cache"}
	o.PartSizes = []int64{5 << 20, 1}
	must(t, s.PutObject(bg, o))
	if o.V != 0 {
		t.Error("PutObject modified its argument")
	}
	got, err := s.GetObject(bg, "b", "dir/k")
	must(t, err)
	want := *o
	want.V = FormatVersion
	want.Seq = got.Seq // the state machine's, which orders versions
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("GetObject =\n%+v, want\n%+v", got, &want)
	}

	// Replace.
	must(t, s.PutObject(bg, object("b", "dir/k", "c3")))
	got, err = s.GetObject(bg, "b", "dir/k")
	must(t, err)
	if len(got.Chunks) != 1 || string(got.Chunks[0].CID) != string(cid("c3")) {
		t.Errorf("replaced object has chunks %v", got.Chunks)
	}

	_, err = s.GetObject(bg, "b", "nope")
	wantErr(t, err, ErrNoSuchKey)
	_, err = s.GetObject(bg, "nope", "k")
	wantErr(t, err, ErrNoSuchBucket)

	// DeleteObjects: one entry, missing keys are fine.
	must(t, s.PutObject(bg, object("b", "a")))
	must(t, s.DeleteObjects(bg, "b", []string{"a", "missing", "dir/k", "a"}))
	for _, k := range []string{"a", "dir/k"} {
		_, err = s.GetObject(bg, "b", k)
		wantErr(t, err, ErrNoSuchKey)
	}
	wantErr(t, s.DeleteObjects(bg, "nope", []string{"a"}), ErrNoSuchBucket)
	must(t, s.DeleteObjects(bg, "b", nil))

	// Objects in a listing carry no chunks.
	must(t, s.PutObject(bg, object("b", "l", "c1")))
	res, err := s.ListObjects(bg, "b", ListQuery{})
	must(t, err)
	if len(res.Objects) != 1 || res.Objects[0].Key != "l" || res.Objects[0].Chunks != nil || res.Objects[0].ETag == "" {
		t.Errorf("ListObjects = %+v", res.Objects)
	}
	_, err = s.ListObjects(bg, "nope", ListQuery{})
	wantErr(t, err, ErrNoSuchBucket)
}

func TestUploads(t *testing.T) {
	s := newDev(t, nil).s
	u := &Upload{ID: "u1", Bucket: "b", Key: "big", Initiated: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		ContentType: "video/mp4", UserMeta: map[string]string{"a": "b"}}
	wantErr(t, s.CreateUpload(bg, u), ErrNoSuchBucket)
	must(t, s.CreateBucket(bg, "b", time.Now()))
	must(t, s.CreateUpload(bg, u))

	got, err := s.GetUpload(bg, "b", "big", "u1")
	must(t, err)
	if got.ReadIndex == 0 {
		t.Error("GetUpload gave no read index")
	}
	got.ReadIndex = 0
	want := *u
	want.V = FormatVersion
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("GetUpload = %+v, want %+v", got, &want)
	}
	for _, k := range [][3]string{{"b", "big", "u2"}, {"b", "other", "u1"}, {"c", "big", "u1"}} {
		_, err = s.GetUpload(bg, k[0], k[1], k[2])
		wantErr(t, err, ErrNoSuchUpload)
	}

	part := func(n int, etag string, cs ...string) *Part {
		return &Part{Number: n, ETag: etag, Size: int64(len(cs)) << 20, Modified: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Chunks: chunks(cs...)}
	}
	wantErr(t, s.PutPart(bg, "b", "big", "nope", part(1, "e1", "p1")), ErrNoSuchUpload)
	wantErr(t, s.PutPart(bg, "b", "big", "u1", part(0, "e1", "p1")), ErrInvalidArgument)
	for n := 1; n <= 5; n++ {
		must(t, s.PutPart(bg, "b", "big", "u1", part(n, "old", "x")))
	}
	must(t, s.PutPart(bg, "b", "big", "u1", part(2, "e2", "p2a", "p2b"))) // replace

	parts, trunc, err := s.ListParts(bg, "b", "big", "u1", 0, 0)
	must(t, err)
	if len(parts) != 5 || trunc || parts[1].ETag != "e2" || len(parts[1].Chunks) != 2 || parts[1].V != FormatVersion {
		t.Fatalf("ListParts = %d parts %+v, truncated %v", len(parts), parts, trunc)
	}
	parts, trunc, err = s.ListParts(bg, "b", "big", "u1", 1, 2)
	must(t, err)
	if len(parts) != 2 || !trunc || parts[0].Number != 2 || parts[1].Number != 3 {
		t.Errorf("ListParts(1, 2) = %+v, truncated %v", parts, trunc)
	}
	parts, trunc, err = s.ListParts(bg, "b", "big", "u1", 3, 2)
	must(t, err)
	if len(parts) != 2 || trunc || parts[0].Number != 4 {
		t.Errorf("ListParts(3, 2) = %+v, truncated %v", parts, trunc)
	}
	_, _, err = s.ListParts(bg, "b", "big", "nope", 0, 0)
	wantErr(t, err, ErrNoSuchUpload)

	list, err := s.ListUploads(bg, "b", UploadQuery{})
	must(t, err)
	if len(list.Uploads) != 1 || list.Uploads[0].ID != "u1" {
		t.Errorf("ListUploads = %+v", list)
	}
	_, err = s.ListUploads(bg, "nope", UploadQuery{})
	wantErr(t, err, ErrNoSuchBucket)

	obj := object("b", "big", "p1", "p2a", "p2b")
	// Part 1 was uploaded with ETag "old"; part 9 never.
	wantErr(t, s.CompleteUpload(bg, "u1", []PartRef{{1, "e1"}}, obj), ErrInvalidPart)
	wantErr(t, s.CompleteUpload(bg, "u1", []PartRef{{2, "e2"}, {9, "e9"}}, obj), ErrInvalidPart)
	wantErr(t, s.CompleteUpload(bg, "nope", []PartRef{{2, "e2"}}, obj), ErrNoSuchUpload)
	// A refused completion changed nothing.
	if _, err := s.GetUpload(bg, "b", "big", "u1"); err != nil {
		t.Fatalf("upload gone after a refused completion: %v", err)
	}
	_, err = s.GetObject(bg, "b", "big")
	wantErr(t, err, ErrNoSuchKey)

	must(t, s.CompleteUpload(bg, "u1", []PartRef{{1, `"old"`}, {2, "e2"}}, obj))
	if _, err := s.GetObject(bg, "b", "big"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetUpload(bg, "b", "big", "u1")
	wantErr(t, err, ErrNoSuchUpload)
	_, _, err = s.ListParts(bg, "b", "big", "u1", 0, 0)
	wantErr(t, err, ErrNoSuchUpload)
	wantErr(t, s.CompleteUpload(bg, "u1", []PartRef{{2, "e2"}}, obj), ErrNoSuchUpload)
	assertNoParts(t, s)

	// Abort.
	must(t, s.CreateUpload(bg, &Upload{ID: "u2", Bucket: "b", Key: "k2"}))
	must(t, s.PutPart(bg, "b", "k2", "u2", part(1, "e", "q1")))
	wantErr(t, s.AbortUpload(bg, "b", "k2", "nope"), ErrNoSuchUpload)
	wantErr(t, s.AbortUpload(bg, "b", "other", "u2"), ErrNoSuchUpload)
	must(t, s.AbortUpload(bg, "b", "k2", "u2"))
	_, err = s.GetUpload(bg, "b", "k2", "u2")
	wantErr(t, err, ErrNoSuchUpload)
	assertNoParts(t, s)
}

func assertNoParts(t *testing.T, s *Store) {
	t.Helper()
	if d := s.fsm.dump(t); len(d[string(bParts)]) != 0 {
		t.Errorf("%d parts left", len(d[string(bParts)]))
	}
}

func TestKeys(t *testing.T) {
	s := newDev(t, nil).s
	k1 := &Key{ID: "AKIB", Secret: "s1", Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	k2 := &Key{ID: "AKIA", Secret: "s2"}
	must(t, s.PutKey(bg, k1))
	must(t, s.PutKey(bg, k2))
	got, err := s.GetKey(bg, "AKIB")
	must(t, err)
	if got.Secret != "s1" || got.V != FormatVersion || !got.Created.Equal(k1.Created) {
		t.Errorf("GetKey = %+v", got)
	}
	_, err = s.GetKey(bg, "nope")
	wantErr(t, err, ErrNoSuchAccess)
	list, err := s.ListKeys(bg)
	must(t, err)
	if len(list) != 2 || list[0].ID != "AKIA" || list[1].ID != "AKIB" {
		t.Errorf("ListKeys = %+v", list)
	}
	k1.Secret = "s3"
	must(t, s.PutKey(bg, k1))
	got, err = s.GetKey(bg, "AKIB")
	must(t, err)
	if got.Secret != "s3" {
		t.Errorf("replaced key has secret %q", got.Secret)
	}
	must(t, s.DeleteKey(bg, "AKIB"))
	wantErr(t, s.DeleteKey(bg, "AKIB"), ErrNoSuchAccess)
	_, err = s.GetKey(bg, "AKIB")
	wantErr(t, err, ErrNoSuchAccess)
}

func TestLayout(t *testing.T) {
	s := newDev(t, nil).s
	l, err := s.Layout(bg)
	if l != nil || err != nil {
		t.Fatalf("Layout before any = %v, %v", l, err)
	}
	l1 := &Layout{Version: 1, Nodes: []LayoutNode{{ID: "a", Zone: "z1", Weight: 1}}}
	l2 := &Layout{Version: 2, Nodes: []LayoutNode{{ID: "a", Zone: "z1", Weight: 1}, {ID: "b", Zone: "z2", Weight: 2.5, Addr: "10.0.0.2:7000"}}}
	wantErr(t, s.SetLayout(bg, &Layout{}), ErrInvalidArgument)
	must(t, s.SetLayout(bg, l1))
	must(t, s.SetLayout(bg, l2))
	wantErr(t, s.SetLayout(bg, l2), ErrStaleLayout)
	wantErr(t, s.SetLayout(bg, l1), ErrStaleLayout)
	cur, err := s.Layout(bg)
	must(t, err)
	want := *l2
	want.V = FormatVersion
	if !reflect.DeepEqual(cur, &want) {
		t.Errorf("Layout = %+v, want %+v", cur, &want)
	}
	old, err := s.LayoutVersion(bg, 1)
	must(t, err)
	if old.Version != 1 || len(old.Nodes) != 1 {
		t.Errorf("LayoutVersion(1) = %+v", old)
	}
	_, err = s.LayoutVersion(bg, 7)
	wantErr(t, err, ErrNoSuchLayout)
}

func TestInvalidArguments(t *testing.T) {
	s := newDev(t, nil).s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	long := strings.Repeat("x", maxKeyLen+1)
	for name, err := range map[string]error{
		"empty bucket":     s.CreateBucket(bg, "", time.Now()),
		"long bucket":      s.CreateBucket(bg, strings.Repeat("b", 300), time.Now()),
		"nil object":       s.PutObject(bg, nil),
		"empty key":        s.PutObject(bg, object("b", "")),
		"long key":         s.PutObject(bg, object("b", long)),
		"bad utf8":         s.PutObject(bg, object("b", "\xff")),
		"negative size":    s.PutObject(bg, &Object{Bucket: "b", Key: "k", Chunks: []Chunk{{CID: cid("x"), Size: -1}}}),
		"chunk without id": s.PutObject(bg, &Object{Bucket: "b", Key: "k", Chunks: []Chunk{{Size: 1}}}),
		"delete empty key": s.DeleteObjects(bg, "b", []string{""}),
		"nil upload":       s.CreateUpload(bg, nil),
		"empty upload id":  s.CreateUpload(bg, &Upload{Bucket: "b", Key: "k"}),
		"nil part":         s.PutPart(bg, "b", "k", "u", nil),
		"part number":      s.PutPart(bg, "b", "k", "u", &Part{Number: MaxPartNumber + 1}),
		"complete nil":     s.CompleteUpload(bg, "u", nil, nil),
		"complete part 0":  s.CompleteUpload(bg, "u", []PartRef{{0, "e"}}, object("b", "k")),
		"nil key":          s.PutKey(bg, nil),
		"empty key id":     s.PutKey(bg, &Key{}),
		"nil layout":       s.SetLayout(bg, nil),
		"forget empty cid": s.ForgetGarbage(bg, [][]byte{nil}),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: error %v, want ErrInvalidArgument", name, err)
		}
	}
}

func TestContext(t *testing.T) {
	s := newDev(t, nil).s
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.CreateBucket(ctx, "b", time.Now()); !errors.Is(err, context.Canceled) {
		// The entry may have been applied before the cancellation was
		// seen; either way the error, if any, is the context's.
		if err != nil {
			t.Errorf("CreateBucket with a cancelled context: %v", err)
		}
	}
	if _, err := s.ListBuckets(ctx); !errors.Is(err, context.Canceled) && err != nil {
		t.Errorf("ListBuckets with a cancelled context: %v", err)
	}
}

func TestNotLeaderError(t *testing.T) {
	err := error(&NotLeaderError{LeaderID: "n2", LeaderAddr: "10.0.0.2:7001"})
	if !errors.Is(err, ErrNotLeader) || !strings.Contains(err.Error(), "10.0.0.2:7001") {
		t.Errorf("NotLeaderError %q does not wrap ErrNotLeader or name the leader", err)
	}
	if !strings.Contains((&NotLeaderError{}).Error(), "unknown") {
		t.Error("NotLeaderError without a leader does not say so")
	}
}
