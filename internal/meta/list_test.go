package meta

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// randKey returns a key of 1 to 4 segments joined by "/", each of 1 to 3
// runes from a small alphabet (with a delimiter-ish "-" and a two-byte
// rune), so that prefixes and delimiters collide a lot.
func randKey(r *rand.Rand) string {
	alphabet := []rune("ab-é")
	var sb strings.Builder
	for i, n := 0, 1+r.IntN(4); i < n; i++ {
		if i > 0 {
			sb.WriteByte('/')
		}
		for j, m := 0, 1+r.IntN(3); j < m; j++ {
			sb.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
	}
	if r.IntN(10) == 0 {
		sb.WriteByte('/') // a "directory" key
	}
	return sb.String()
}

// randPrefixOf returns a prefix of s cut at a rune boundary.
func randPrefixOf(r *rand.Rand, s string) string {
	cuts := []int{0}
	for i := range s {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, len(s))
	return s[:cuts[r.IntN(len(cuts))]]
}

type listEntry struct {
	name   string
	prefix bool
	id     string
}

// refList is the reference listing: a sort and a filter over every key
// (or (key, upload ID) pair), straight from S3's definition.
func refList(entries []listEntry, prefix, delim, marker, idMarker string, limit int) (out []listEntry, truncated bool) {
	if limit <= 0 {
		limit = 1000
	}
	slices.SortFunc(entries, func(a, b listEntry) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	seen := map[string]bool{}
	for _, e := range entries {
		if !strings.HasPrefix(e.name, prefix) {
			continue
		}
		if marker != "" {
			after := e.name > marker || (idMarker != "" && e.name == marker && e.id > idMarker)
			if !after {
				continue
			}
		}
		if delim != "" {
			if i := strings.Index(e.name[len(prefix):], delim); i >= 0 {
				cp := e.name[:len(prefix)+i+len(delim)]
				if cp <= marker || seen[cp] {
					continue
				}
				seen[cp] = true
				if len(out) == limit {
					return out, true
				}
				out = append(out, listEntry{name: cp, prefix: true})
				continue
			}
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, e)
	}
	return out, false
}

func objectEntries(res *ListResult) []listEntry {
	var out []listEntry
	for _, o := range res.Objects {
		out = append(out, listEntry{name: o.Key})
	}
	for _, p := range res.CommonPrefixes {
		out = append(out, listEntry{name: p, prefix: true})
	}
	slices.SortFunc(out, func(a, b listEntry) int { return strings.Compare(a.name, b.name) })
	return out
}

func randQuery(r *rand.Rand, keys []string) (prefix, delim, marker string, limit int) {
	switch r.IntN(4) {
	case 0:
	case 1:
		prefix = randKey(r)[:1]
	default:
		prefix = randPrefixOf(r, keys[r.IntN(len(keys))])
	}
	delim = []string{"", "/", "/", "-", "b/", "é"}[r.IntN(6)]
	switch r.IntN(4) {
	case 0:
	case 1:
		marker = keys[r.IntN(len(keys))]
	case 2:
		marker = randPrefixOf(r, keys[r.IntN(len(keys))])
	default:
		marker = randKey(r)
	}
	switch r.IntN(6) {
	case 0:
		limit = 0 // 1000
	case 1:
		limit = 3000
	default:
		limit = 1 + r.IntN(25)
	}
	return
}

func TestListObjectsReference(t *testing.T) {
	s := newDev(t, nil).s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	// Neighbouring buckets must not leak into the listing.
	must(t, s.CreateBucket(bg, "a", time.Now()))
	must(t, s.CreateBucket(bg, "bb", time.Now()))
	must(t, s.PutObject(bg, object("a", "zzz")))
	must(t, s.PutObject(bg, object("bb", "a")))

	r := rand.New(rand.NewPCG(1, 2))
	set := map[string]bool{}
	for len(set) < 2500 {
		set[randKey(r)] = true
	}
	keys := make([]string, 0, len(set))
	entries := make([]listEntry, 0, len(set))
	for k := range set {
		keys = append(keys, k)
		entries = append(entries, listEntry{name: k})
	}
	slices.Sort(keys)
	must(t, parallel(len(keys), 16, func(i int) error {
		return s.PutObject(bg, object("b", keys[i], "c"+keys[i]))
	}))

	check := func(prefix, delim, marker string, limit int) {
		t.Helper()
		q := ListQuery{Prefix: prefix, Delimiter: delim, Marker: marker, Max: limit}
		res, err := s.ListObjects(bg, "b", q)
		must(t, err)
		want, wantTrunc := refList(slices.Clone(entries), prefix, delim, marker, "", limit)
		got := objectEntries(res)
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%+v: got %d entries %v..., want %d %v...", q, len(got), head(got), len(want), head(want))
		}
		if res.Truncated != wantTrunc {
			t.Fatalf("%+v: truncated %v, want %v", q, res.Truncated, wantTrunc)
		}
		wantNext := ""
		if wantTrunc {
			wantNext = want[len(want)-1].name
		}
		if res.NextMarker != wantNext {
			t.Fatalf("%+v: NextMarker %q, want %q", q, res.NextMarker, wantNext)
		}
	}
	for range 600 {
		check(randQuery(r, keys))
	}

	// Paging through with NextMarker yields the whole listing, once.
	for _, pq := range []struct{ prefix, delim string }{{"", ""}, {"", "/"}, {"a", "/"}, {"a/", "-"}, {"é", "b/"}} {
		whole, _ := refList(slices.Clone(entries), pq.prefix, pq.delim, "", "", 1<<30)
		var paged []listEntry
		marker := ""
		for page := 0; ; page++ {
			res, err := s.ListObjects(bg, "b", ListQuery{Prefix: pq.prefix, Delimiter: pq.delim, Marker: marker, Max: 7})
			must(t, err)
			paged = append(paged, objectEntries(res)...)
			if !res.Truncated {
				break
			}
			if page > len(keys) {
				t.Fatal("paging does not end")
			}
			marker = res.NextMarker
		}
		if !reflect.DeepEqual(paged, whole) {
			t.Errorf("paging %+v: %d entries, want %d", pq, len(paged), len(whole))
		}
	}
}

func head(es []listEntry) []listEntry { return es[:min(len(es), 5)] }

func TestListUploadsReference(t *testing.T) {
	s := newDev(t, nil).s
	must(t, s.CreateBucket(bg, "b", time.Now()))
	must(t, s.CreateBucket(bg, "b\x00", time.Now()))
	r := rand.New(rand.NewPCG(3, 4))
	var keys []string
	for range 100 {
		keys = append(keys, randKey(r))
	}
	// Keys with NUL bytes and a key that is a prefix of another test the
	// escaped (key, upload ID) encoding.
	keys = append(keys, "a", "a\x00", "a\x00b", "a\x00\x00", "ab", "\U0010FFFF")
	var entries []listEntry
	seen := map[[2]string]bool{}
	for range 300 {
		k := keys[r.IntN(len(keys))]
		id := fmt.Sprintf("u%03d", r.IntN(40))
		if r.IntN(8) == 0 {
			id += "\x00x"
		}
		if seen[[2]string{k, id}] {
			continue
		}
		seen[[2]string{k, id}] = true
		entries = append(entries, listEntry{name: k, id: id})
	}
	must(t, parallel(len(entries), 16, func(i int) error {
		return s.CreateUpload(bg, &Upload{Bucket: "b", Key: entries[i].name, ID: entries[i].id})
	}))
	must(t, s.CreateUpload(bg, &Upload{Bucket: "b\x00", Key: "a", ID: "leak"}))

	ids := []string{""}
	for _, e := range entries {
		ids = append(ids, e.id)
	}
	sortedKeys := slices.Sorted(func(yield func(string) bool) {
		for _, e := range entries {
			if !yield(e.name) {
				return
			}
		}
	})
	for i := range 600 {
		prefix, delim, marker, limit := randQuery(r, sortedKeys)
		idMarker := ""
		if marker != "" && r.IntN(2) == 0 {
			idMarker = ids[r.IntN(len(ids))]
		}
		q := UploadQuery{Prefix: prefix, Delimiter: delim, KeyMarker: marker, UploadIDMarker: idMarker, Max: limit}
		res, err := s.ListUploads(bg, "b", q)
		must(t, err)
		want, wantTrunc := refList(slices.Clone(entries), prefix, delim, marker, idMarker, limit)
		var got []listEntry
		for _, u := range res.Uploads {
			got = append(got, listEntry{name: u.Key, id: u.ID})
		}
		for _, p := range res.CommonPrefixes {
			got = append(got, listEntry{name: p, prefix: true})
		}
		slices.SortFunc(got, func(a, b listEntry) int {
			if c := strings.Compare(a.name, b.name); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("query %d %+v: got %d %+v..., want %d %+v...", i, q, len(got), head(got), len(want), head(want))
		}
		if res.Truncated != wantTrunc {
			t.Fatalf("%+v: truncated %v, want %v", q, res.Truncated, wantTrunc)
		}
		var wk, wid string
		if wantTrunc {
			wk, wid = want[len(want)-1].name, want[len(want)-1].id
		}
		if res.NextKeyMarker != wk || res.NextUploadIDMarker != wid {
			t.Fatalf("%+v: next markers %q %q, want %q %q", q, res.NextKeyMarker, res.NextUploadIDMarker, wk, wid)
		}
	}

	// Paging with both markers yields every upload once.
	var paged []listEntry
	var km, im string
	for {
		res, err := s.ListUploads(bg, "b", UploadQuery{KeyMarker: km, UploadIDMarker: im, Max: 9})
		must(t, err)
		for _, u := range res.Uploads {
			paged = append(paged, listEntry{name: u.Key, id: u.ID})
		}
		if !res.Truncated {
			break
		}
		km, im = res.NextKeyMarker, res.NextUploadIDMarker
	}
	whole, _ := refList(slices.Clone(entries), "", "", "", "", 1<<30)
	if !reflect.DeepEqual(paged, whole) {
		t.Errorf("paging uploads: %d, want %d", len(paged), len(whole))
	}
}

func TestEscapedKeys(t *testing.T) {
	for _, s := range []string{"", "a", "\x00", "a\x00", "\x00\x00b", "\xff\x00\x01"} {
		b := appendEscT(nil, s)
		got, rest, ok := readEscT(append(b, 'z'))
		if !ok || got != s || string(rest) != "z" {
			t.Errorf("readEscT(appendEscT(%q)) = %q, %q, %v", s, got, rest, ok)
		}
	}
	// Order is kept, and a string sorts before its extensions.
	strs := []string{"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "a\x00\x00", "a\x01", "aa", "b"}
	for i := 1; i < len(strs); i++ {
		a, b := appendEscT(nil, strs[i-1]), appendEscT(nil, strs[i])
		if string(a) >= string(b) {
			t.Errorf("esc(%q) >= esc(%q)", strs[i-1], strs[i])
		}
	}
	for _, bad := range [][]byte{{0}, {'a', 0, 2}, {'a'}} {
		if _, _, ok := readEscT(bad); ok {
			t.Errorf("readEscT(%q) ok", bad)
		}
	}
	if prefixEnd([]byte{0xFF, 0xFF}) != nil || string(prefixEnd([]byte("a\xff"))) != "b" {
		t.Error("prefixEnd")
	}
}
