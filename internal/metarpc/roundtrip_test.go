package metarpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cairn/internal/meta"
	"cairn/internal/nodeauth"
)

// step is one call of a scenario and what it returned.
type step struct {
	name string
	res  any
	err  error
}

// scenario makes the same calls on any API and records every result:
// buckets, objects with chunks and stripes, a multipart upload from
// create to complete and abort, listings, keys, layouts and garbage, and
// a call that meets each meta sentinel error.
func scenario(api API) []step {
	var steps []step
	rec := func(name string, res any, err error) { steps = append(steps, step{name, res, err}) }
	do := func(name string, err error) { rec(name, nil, err) }
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)

	// Buckets.
	do("CreateBucket b", api.CreateBucket(bg, "b", t0))
	do("CreateBucket b again", api.CreateBucket(bg, "b", t0))
	do("CreateBucket other (+02:00)", api.CreateBucket(bg, "other", t0.In(time.FixedZone("X", 7200))))
	do("CreateBucket empty name", api.CreateBucket(bg, "", t0))
	r, err := api.GetBucket(bg, "b")
	rec("GetBucket b", r, err)
	r, err = api.GetBucket(bg, "nope")
	rec("GetBucket nope", r, err)
	bs, err := api.ListBuckets(bg)
	rec("ListBuckets", bs, err)

	// Objects.
	a := object("b", "dir/a", "c1", "c2")
	a.Headers = map[string]string{"Cache-Control": "no-cache"}
	a.PartSizes = []int64{5 << 20, 1}
	a.Modified = a.Modified.In(time.FixedZone("Y", -3600))
	do("PutObject dir/a", api.PutObject(bg, a))
	do("PutObject dir/b", api.PutObject(bg, object("b", "dir/b", "c2")))
	do("PutObject top", api.PutObject(bg, object("b", "top", "c3", "c3")))
	do("PutObject dir/a again", api.PutObject(bg, a))
	empty := object("b", "empty")
	empty.Chunks = []meta.Chunk{}
	do("PutObject empty", api.PutObject(bg, empty))
	do("PutObject in nope", api.PutObject(bg, object("nope", "k")))
	do("PutObject nil", api.PutObject(bg, nil))
	do("PutObject empty key", api.PutObject(bg, object("b", "")))
	for _, k := range [][2]string{{"b", "dir/a"}, {"b", "top"}, {"b", "empty"}, {"b", "missing"}, {"nope", "k"}} {
		o, err := api.GetObject(bg, k[0], k[1])
		rec("GetObject "+k[0]+"/"+k[1], o, err)
	}
	for _, q := range []meta.ListQuery{{}, {Delimiter: "/"}, {Prefix: "dir/", Max: 1}, {Marker: "dir/a"}, {Prefix: "zzz"}} {
		l, err := api.ListObjects(bg, "b", q)
		rec(fmt.Sprintf("ListObjects b %+v", q), l, err)
	}
	l, err := api.ListObjects(bg, "other", meta.ListQuery{})
	rec("ListObjects other", l, err)
	l, err = api.ListObjects(bg, "nope", meta.ListQuery{})
	rec("ListObjects nope", l, err)
	do("DeleteBucket b (not empty)", api.DeleteBucket(bg, "b"))

	// Multipart uploads.
	u1 := &meta.Upload{ID: "u1", Bucket: "b", Key: "big", Initiated: t0, ContentType: "video/mp4",
		Headers: map[string]string{"Content-Language": "fr"}, UserMeta: map[string]string{"a": "b"}}
	do("CreateUpload u1", api.CreateUpload(bg, u1))
	do("CreateUpload u2", api.CreateUpload(bg, &meta.Upload{ID: "u2", Bucket: "b", Key: "dir/x", Initiated: t0}))
	do("CreateUpload u3", api.CreateUpload(bg, &meta.Upload{ID: "u3", Bucket: "b", Key: "dir/y", Initiated: t0}))
	do("CreateUpload in nope", api.CreateUpload(bg, &meta.Upload{ID: "u9", Bucket: "nope", Key: "k"}))
	do("CreateUpload nil", api.CreateUpload(bg, nil))
	u, err := api.GetUpload(bg, "b", "big", "u1")
	rec("GetUpload u1", u, err)
	u, err = api.GetUpload(bg, "b", "other", "u1")
	rec("GetUpload u1 wrong key", u, err)
	part := func(n int, cs ...string) *meta.Part {
		return &meta.Part{Number: n, ETag: fmt.Sprintf("etag%d", n), Size: int64(len(cs)) << 20,
			Modified: t0.Add(time.Duration(n) * time.Second), Chunks: chunks(cs...)}
	}
	do("PutPart 1", api.PutPart(bg, "b", "big", "u1", part(1, "p1a", "p1b")))
	do("PutPart 2", api.PutPart(bg, "b", "big", "u1", part(2, "p2")))
	do("PutPart 3", api.PutPart(bg, "b", "big", "u1", part(3, "p3")))
	do("PutPart 3 again", api.PutPart(bg, "b", "big", "u1", part(3, "p3b")))
	do("PutPart to u2", api.PutPart(bg, "b", "dir/x", "u2", part(1, "x1")))
	do("PutPart 0", api.PutPart(bg, "b", "big", "u1", part(0)))
	do("PutPart nil", api.PutPart(bg, "b", "big", "u1", nil))
	do("PutPart no upload", api.PutPart(bg, "b", "big", "nope", part(1)))
	for _, ml := range [][2]int{{0, 0}, {1, 1}, {3, 0}} {
		ps, trunc, err := api.ListParts(bg, "b", "big", "u1", ml[0], ml[1])
		rec(fmt.Sprintf("ListParts marker %d limit %d", ml[0], ml[1]), []any{ps, trunc}, err)
	}
	ps, trunc, err := api.ListParts(bg, "b", "big", "nope", 0, 0)
	rec("ListParts nope", []any{ps, trunc}, err)
	for _, q := range []meta.UploadQuery{{}, {Delimiter: "/"}, {Max: 1}, {KeyMarker: "dir/x", UploadIDMarker: "u2"}, {Prefix: "zzz"}} {
		ul, err := api.ListUploads(bg, "b", q)
		rec(fmt.Sprintf("ListUploads b %+v", q), ul, err)
	}
	ul, err := api.ListUploads(bg, "nope", meta.UploadQuery{})
	rec("ListUploads nope", ul, err)
	big := object("b", "big", "p1a", "p1b", "p2")
	big.ETag, big.PartSizes = "abc-2", []int64{2 << 20, 1 << 20}
	do("CompleteUpload bad etag", api.CompleteUpload(bg, "u1", []meta.PartRef{{Number: 1, ETag: "nope"}}, big))
	do("CompleteUpload missing part", api.CompleteUpload(bg, "u1", []meta.PartRef{{Number: 7, ETag: "etag7"}}, big))
	do("CompleteUpload nil", api.CompleteUpload(bg, "u1", nil, nil))
	do("CompleteUpload u1", api.CompleteUpload(bg, "u1", []meta.PartRef{{Number: 1, ETag: `"etag1"`}, {Number: 2, ETag: "etag2"}}, big))
	do("CompleteUpload u1 again", api.CompleteUpload(bg, "u1", []meta.PartRef{{Number: 1, ETag: "etag1"}}, big))
	o, err := api.GetObject(bg, "b", "big")
	rec("GetObject big", o, err)
	do("AbortUpload u2", api.AbortUpload(bg, "b", "dir/x", "u2"))
	do("AbortUpload u2 again", api.AbortUpload(bg, "b", "dir/x", "u2"))
	ul, err = api.ListUploads(bg, "b", meta.UploadQuery{})
	rec("ListUploads b after", ul, err)

	// Access keys.
	do("PutKey k1", api.PutKey(bg, &meta.Key{ID: "AK1", Secret: "s1", Created: t0}))
	do("PutKey k2", api.PutKey(bg, &meta.Key{ID: "AK2", Secret: "s2", Created: t0}))
	do("PutKey nil", api.PutKey(bg, nil))
	k, err := api.GetKey(bg, "AK1")
	rec("GetKey AK1", k, err)
	k, err = api.GetKey(bg, "AK9")
	rec("GetKey AK9", k, err)
	ks, err := api.ListKeys(bg)
	rec("ListKeys", ks, err)
	do("DeleteKey AK2", api.DeleteKey(bg, "AK2"))
	do("DeleteKey AK2 again", api.DeleteKey(bg, "AK2"))
	ks, err = api.ListKeys(bg)
	rec("ListKeys after", ks, err)

	// Layouts.
	ly, err := api.Layout(bg)
	rec("Layout none", ly, err)
	lay := func(v uint64) *meta.Layout {
		return &meta.Layout{Version: v, PlacementKey: []byte("placement key"), Nodes: []meta.LayoutNode{
			{ID: "s1", Zone: "z1", Weight: 1, Addr: "10.0.0.1:7000"}, {ID: "s2", Zone: "z2", Weight: 2.5}}}
	}
	do("SetLayout 1", api.SetLayout(bg, lay(1)))
	do("SetLayout 1 again", api.SetLayout(bg, lay(1)))
	do("SetLayout 0", api.SetLayout(bg, lay(0)))
	do("SetLayout nil", api.SetLayout(bg, nil))
	do("SetLayout 2", api.SetLayout(bg, lay(2)))
	ly, err = api.Layout(bg)
	rec("Layout", ly, err)
	ly, err = api.LayoutVersion(bg, 1)
	rec("LayoutVersion 1", ly, err)
	ly, err = api.LayoutVersion(bg, 9)
	rec("LayoutVersion 9", ly, err)

	// Deletes, references and garbage.
	do("DeleteObjects", api.DeleteObjects(bg, "b", []string{"dir/a", "dir/b", "missing", "dir/a"}))
	do("DeleteObjects nil keys", api.DeleteObjects(bg, "b", nil))
	do("DeleteObjects in nope", api.DeleteObjects(bg, "nope", []string{"k"}))
	do("DeleteObjects empty key", api.DeleteObjects(bg, "b", []string{""}))
	for _, c := range []string{"c1", "c2", "c3", "p1a", "p3", "p3b", "unknown"} {
		n, err := api.ChunkRefs(bg, cid(c))
		rec("ChunkRefs "+c, n, err)
	}
	g, err := api.Garbage(bg, clockTime.Add(time.Hour), 0)
	rec("Garbage", g, err)
	g, err = api.Garbage(bg, clockTime.Add(time.Hour), 1)
	rec("Garbage limit 1", g, err)
	g, err = api.Garbage(bg, clockTime, 0)
	rec("Garbage none old enough", g, err)
	g, _ = api.Garbage(bg, clockTime.Add(time.Hour), 0)
	var forget [][]byte
	for _, c := range g {
		forget = append(forget, c.CID)
	}
	do("ForgetGarbage before Collect", api.ForgetGarbage(bg, forget))
	do("Collect bad CID", api.Collect(bg, [][]byte{{}}, clockTime.Add(time.Hour)))
	do("Collect", api.Collect(bg, forget, clockTime.Add(time.Hour)))
	ci, err := api.Chunk(bg, forget[0])
	rec("Chunk collecting", ci, err)
	again := object("b", "again", "x")
	again.Chunks[0].CID = forget[0]
	do("PutObject of a chunk being collected", api.PutObject(bg, again))
	do("ForgetGarbage", api.ForgetGarbage(bg, forget))
	do("ForgetGarbage bad CID", api.ForgetGarbage(bg, [][]byte{{}}))
	ci, err = api.Chunk(bg, forget[0])
	rec("Chunk forgotten", ci, err)
	page, next, err := api.Chunks(bg, nil, 2)
	rec("Chunks page 1", page, err)
	if len(page) > 0 {
		c := page[0]
		nodes := make([]string, len(c.Stripe.Shards))
		for i := range nodes {
			nodes[i] = fmt.Sprint("node", i)
		}
		do("SetStripeNodes", api.SetStripeNodes(bg, c.CID, c.Stripe.Nodes, nodes, 5))
		do("SetStripeNodes stale", api.SetStripeNodes(bg, c.CID, c.Stripe.Nodes, nodes, 5))
		ci, err = api.Chunk(bg, c.CID)
		rec("Chunk moved", ci, err)
	}
	page, next, err = api.Chunks(bg, next, 0)
	rec("Chunks page 2", []any{page, next}, err)

	// Sealing: a sealed stripe's keyed name finds its record; a stripe is
	// replaced by compare-and-set; the migration flag.
	sealed := object("b", "sealed", "s1")
	st := &sealed.Chunks[0].Stripe
	st.Seal, st.Name, st.Nodes = 1, cid("name of s1"), []string{"n1", "n2", "n3", "n4", "n5", ""}
	for i := range st.Shards {
		st.Sums = append(st.Sums, []byte(fmt.Sprintf("sum of shard %d", i)))
	}
	do("PutObject sealed", api.PutObject(bg, sealed))
	o, err = api.GetObject(bg, "b", "sealed")
	rec("GetObject sealed", o, err)
	ci, err = api.ChunkByName(bg, cid("name of s1"))
	rec("ChunkByName", ci, err)
	ci, err = api.ChunkByName(bg, cid("no such name"))
	rec("ChunkByName unknown", ci, err)
	next2 := *st
	next2.Name, next2.Layout = cid("another name of s1"), 9
	do("ReplaceStripe stale", api.ReplaceStripe(bg, cid("s1"), [][]byte{cid("x")}, next2))
	do("ReplaceStripe bad", api.ReplaceStripe(bg, cid("s1"), st.Shards, meta.Stripe{K: 4, M: 2}))
	do("ReplaceStripe", api.ReplaceStripe(bg, cid("s1"), st.Shards, next2))
	ci, err = api.Chunk(bg, cid("s1"))
	rec("Chunk replaced", ci, err)
	on, err := api.SealMigration(bg)
	rec("SealMigration", on, err)
	do("SetSealMigration", api.SetSealMigration(bg, true))
	on, err = api.SealMigration(bg)
	rec("SealMigration set", on, err)
	do("SetObjectTags", api.SetObjectTags(bg, "b", "sealed", map[string]string{"k": "v", "empty": ""}))
	o, err = api.GetObject(bg, "b", "sealed")
	rec("GetObject tagged", o, err)
	do("SetObjectTags missing", api.SetObjectTags(bg, "b", "missing", map[string]string{"k": "v"}))
	do("SetObjectTags none", api.SetObjectTags(bg, "b", "sealed", nil))
	vid, err := api.SetVersionTags(bg, "b", "sealed", "null", map[string]string{"v": "t"})
	rec("SetVersionTags", vid, err)
	o, err = api.GetObject(bg, "b", "sealed")
	rec("GetObject version tagged", o, err)
	vid, err = api.SetVersionTags(bg, "b", "sealed", "00000000000000ff", nil)
	rec("SetVersionTags missing", vid, err)
	vid, err = api.SetVersionTags(bg, "b", "sealed", "", nil)
	rec("SetVersionTags current", vid, err)
	o, err = api.GetObject(bg, "b", "sealed")
	rec("GetObject untagged", o, err)
	do("DeleteObjects sealed", api.DeleteObjects(bg, "b", []string{"sealed"}))
	g, err = api.Garbage(bg, clockTime.Add(time.Hour), 0)
	rec("Garbage after forget", g, err)
	t1 := time.Date(2025, 3, 4, 6, 0, 0, 0, time.FixedZone("Z", 3600))
	do("AddReputation", api.AddReputation(bg, []meta.ReputationDelta{
		{Node: "n2", Passed: 7, Missing: 1, Corrupt: 2, Lies: 3, LastAudit: t1, LastFailure: t1},
		{Node: "n1", Passed: 1, LastAudit: t1},
	}))
	do("AddReputation eject", api.AddReputation(bg, []meta.ReputationDelta{{Node: "n2", Eject: true, Reason: "caught"}}))
	do("AddReputation bad", api.AddReputation(bg, []meta.ReputationDelta{{Node: "n3", Eject: true, Pardon: true}}))
	reps, err := api.Reputations(bg)
	rec("Reputations", reps, err)
	do("DeleteObjects rest", api.DeleteObjects(bg, "b", []string{"top", "empty", "big"}))
	do("DeleteBucket other", api.DeleteBucket(bg, "other"))
	do("DeleteBucket nope", api.DeleteBucket(bg, "nope"))
	bs, err = api.ListBuckets(bg)
	rec("ListBuckets after", bs, err)
	return steps
}

// sentinels are the meta errors a call can return, which must come back
// errors.Is-comparable through the client.
var sentinels = []error{
	meta.ErrNoSuchBucket, meta.ErrBucketExists, meta.ErrBucketNotEmpty, meta.ErrNoSuchKey,
	meta.ErrNoSuchUpload, meta.ErrInvalidPart, meta.ErrNoSuchAccess, meta.ErrNotLeader,
	meta.ErrInvalidArgument, meta.ErrStaleLayout, meta.ErrNoSuchLayout,
	meta.ErrChunkCollecting, meta.ErrStripeChanged,
}

// TestRoundTrip runs the scenario on a store directly and on another
// store through Client and Server: every result and every error must be
// the same, and the errors errors.Is-comparable with the sentinels.
func TestRoundTrip(t *testing.T) {
	direct := newDev(t, nil)
	served := newDev(t, nil)
	c := newClient(t, testSecret, fixed(served.http.URL), nil)

	want := scenario(direct.s)
	got := scenario(c)
	if len(got) != len(want) {
		t.Fatalf("%d steps through the client, %d direct", len(got), len(want))
	}
	seen := map[error]bool{}
	for i, w := range want {
		g := got[i]
		if !reflect.DeepEqual(g.res, w.res) {
			t.Errorf("%s: through the client\n%s\ndirect\n%s", w.name, dump(g.res), dump(w.res))
		}
		switch {
		case (g.err == nil) != (w.err == nil):
			t.Errorf("%s: error %v through the client, %v direct", w.name, g.err, w.err)
			continue
		case w.err == nil:
			continue
		case g.err.Error() != w.err.Error():
			t.Errorf("%s: error %q through the client, %q direct", w.name, g.err, w.err)
		}
		for _, s := range sentinels {
			if errors.Is(g.err, s) != errors.Is(w.err, s) {
				t.Errorf("%s: errors.Is(%v, %v) = %v through the client, %v direct", w.name, g.err, s, errors.Is(g.err, s), errors.Is(w.err, s))
			}
			if errors.Is(g.err, s) {
				seen[s] = true
			}
		}
	}
	for _, s := range sentinels {
		if !seen[s] && s != meta.ErrNotLeader { // NotLeader: TestCluster
			t.Errorf("the scenario never met %v", s)
		}
	}
	// The two stores hold the same state.
	for _, n := range []*node{direct, served} {
		for _, c := range []string{"p3b", "x1"} {
			if r, err := n.s.ChunkRefs(bg, cid(c)); err != nil || r != 0 {
				t.Errorf("%s: refs of %s = %d, %v", n.id, c, r, err)
			}
		}
	}
}

func dump(v any) string {
	switch v := v.(type) {
	case []any:
		s := ""
		for _, e := range v {
			s += dump(e) + " "
		}
		return s
	case *meta.ListResult:
		if v == nil {
			return "(*meta.ListResult)(nil)"
		}
		s := fmt.Sprintf("%+v", *v)
		for _, o := range v.Objects {
			s += fmt.Sprintf("\n  %+v", *o)
		}
		return s
	}
	return fmt.Sprintf("%#v", v)
}

// TestErrorTable checks that every row of the table round-trips, with
// context around the error, and that an unknown error keeps its message.
func TestErrorTable(t *testing.T) {
	codes := map[string]bool{}
	for _, row := range errCodes {
		if codes[row.code] {
			t.Errorf("code %s twice in the table", row.code)
		}
		codes[row.code] = true
		for _, e := range append([]error{row.err}, row.also...) {
			we, status := toWire(fmt.Errorf("context: %w", e), nil)
			if we.Code != row.code || status != row.status {
				t.Errorf("%v answered %s %d, want %s %d", e, we.Code, status, row.code, row.status)
			}
			got := fromWire(mGetObject, status, we)
			if !errors.Is(got, row.err) {
				t.Errorf("%s came back as %v, which is not %v", row.code, got, row.err)
			}
			if !strings.HasSuffix(got.Error(), "context: "+e.Error()) || (row.code != codeUnauthorized) != (got.Error() == "context: "+e.Error()) {
				t.Errorf("%s came back with message %q", row.code, got.Error())
			}
		}
	}
	for _, s := range sentinels {
		if code, _ := codeOf(s); code == codeInternal {
			t.Errorf("sentinel %v has no code", s)
		}
	}

	// NotLeader carries the leader.
	we, status := toWire(fmt.Errorf("put: %w", &meta.NotLeaderError{LeaderID: "n2", LeaderAddr: "10.0.0.2:7001"}),
		func(addr string) string { return "http://api-of-" + addr })
	if status != http.StatusMisdirectedRequest || we.LeaderAPI != "http://api-of-10.0.0.2:7001" {
		t.Errorf("NotLeader answered %d %+v", status, we)
	}
	got := fromWire(mPutObject, status, we)
	var nle *meta.NotLeaderError
	if !errors.As(got, &nle) || nle.LeaderID != "n2" || nle.LeaderAddr != "10.0.0.2:7001" || got.leaderAPI != "http://api-of-10.0.0.2:7001" {
		t.Errorf("NotLeader came back as %#v", got)
	}

	// A write that timed out on the leader may still be applied.
	we, status = toWire(fmt.Errorf("meta: raft entry not applied yet, it may still be: %w", context.DeadlineExceeded), nil)
	if !errors.Is(fromWire(mPutObject, status, we), ErrOutcomeUnknown) || errors.Is(fromWire(mGetObject, status, we), ErrOutcomeUnknown) {
		t.Errorf("DeadlineExceeded: write %v, read %v", fromWire(mPutObject, status, we), fromWire(mGetObject, status, we))
	}

	// Unknown errors keep their message and wrap nothing.
	we, status = toWire(errors.New("meta: raft: disk on fire"), nil)
	got = fromWire(mGetObject, status, we)
	if status != http.StatusInternalServerError || got.Code != codeInternal || len(got.Unwrap()) != 0 ||
		got.Error() != "metarpc: GetObject: InternalError (500 Internal Server Error): meta: raft: disk on fire" {
		t.Errorf("unknown error came back as %d %q %v", status, got.Code, got)
	}
	for _, s := range append(sentinels, nodeauth.ErrUnauthorized, ErrOutcomeUnknown) {
		if errors.Is(got, s) {
			t.Errorf("unknown error is %v", s)
		}
	}
}
