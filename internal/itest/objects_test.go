//go:build integration

package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/erasure"
)

const MiB = 1 << 20

// expectedCID computes what Cairn (and IPFS) must answer for these bytes.
func expectedCID(t *testing.T, r io.Reader) string {
	t.Helper()
	ch := erasure.NewChunker(r, erasure.DefaultChunkSize)
	b := erasure.NewDAGBuilder()
	buf := make([]byte, erasure.DefaultChunkSize)
	for {
		c, err := ch.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b.Add(erasure.ChunkCID(c), uint64(len(c)))
	}
	root, err := b.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root.String()
}

func TestObjectSizes(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "sizes")
	for i, size := range []int64{0, 1, MiB - 1, MiB, MiB + 1, 5 * MiB} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("obj-%d", size)
			seed := uint64(100 + i)
			info, err := c.PutObject(ctx, "sizes", key, newPayload(seed, size), size,
				minio.PutObjectOptions{ContentType: "application/x-test", UserMetadata: map[string]string{"color": "blue"}})
			if err != nil {
				t.Fatalf("put: %v", err)
			}
			if info.Size != size {
				t.Fatalf("put size %d, want %d", info.Size, size)
			}
			obj, err := c.GetObject(ctx, "sizes", key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, n := digest(t, obj)
			want, _ := digest(t, newPayload(seed, size))
			if n != size || got != want {
				t.Fatalf("read back %d bytes, digest mismatch=%v", n, got != want)
			}
			st, err := obj.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if st.ContentType != "application/x-test" || len(st.UserMetadata) != 1 || st.UserMetadata["Color"] != "blue" {
				t.Errorf("metadata: content-type %q, user meta %v, want exactly {Color: blue}", st.ContentType, st.UserMetadata)
			}
			wantCID := expectedCID(t, newPayload(seed, size))
			if got := head(t, p, "sizes", key, nil).Get("X-Cairn-Cid"); got != wantCID {
				t.Errorf("x-cairn-cid = %q, want %q", got, wantCID)
			}
			wantETag := fmt.Sprintf("%x", md5Of(t, newPayload(seed, size)))
			if st.ETag != wantETag {
				t.Errorf("ETag %q, want MD5 %q", st.ETag, wantETag)
			}
		})
	}
}

// TestLargeStreamBoundedMemory sends 300 MiB in one PUT and reads it back,
// with the server's peak RSS staying under 200 MiB: objects stream.
func TestLargeStreamBoundedMemory(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "big")
	const size = 300 * MiB
	_, err := c.PutObject(ctx, "big", "300m", newPayload(7, size), size,
		minio.PutObjectOptions{DisableMultipart: true})
	if err != nil {
		t.Fatalf("put 300 MiB: %v", err)
	}
	obj, err := c.GetObject(ctx, "big", "300m", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, n := digest(t, obj)
	want, _ := digest(t, newPayload(7, size))
	if n != size || got != want {
		t.Fatalf("read back %d bytes; digest equal: %v", n, got == want)
	}
	if wantCID, got := expectedCID(t, newPayload(7, size)), head(t, p, "big", "300m", nil).Get("X-Cairn-Cid"); got != wantCID {
		t.Errorf("CID %q, want %q", got, wantCID)
	}
	rss := p.peakRSS()
	t.Logf("peak RSS after 300 MiB up and down: %.1f MiB", float64(rss)/MiB)
	if rss >= 200*MiB {
		t.Fatalf("peak RSS %.1f MiB, want < 200 MiB", float64(rss)/MiB)
	}
}

func TestRangeReads(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "ranges")
	const size = 3*MiB + 12345
	data := payloadBytes(9, size)
	if _, err := c.PutObject(ctx, "ranges", "r", bytes.NewReader(data), size, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{
		{0, 0}, {0, size - 1}, {MiB - 1, MiB}, {MiB - 10, 2*MiB + 10}, {MiB, 2*MiB - 1},
		{2*MiB - 1, 3 * MiB}, {size - 1, size - 1}, {12345, 12345 + 100}, {3 * MiB, size - 1},
	} {
		opts := minio.GetObjectOptions{}
		if err := opts.SetRange(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
		obj, err := c.GetObject(ctx, "ranges", "r", opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		if err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
		if !bytes.Equal(got, data[r[0]:r[1]+1]) {
			t.Fatalf("range %d-%d: got %d bytes, not the stored ones", r[0], r[1], len(got))
		}
	}
	// A suffix range: the last 1.5 MiB.
	opts := minio.GetObjectOptions{}
	opts.SetRange(0, -(MiB + MiB/2))
	obj, err := c.GetObject(ctx, "ranges", "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data[size-(MiB+MiB/2):]) {
		t.Fatalf("suffix range: %d bytes, err %v", len(got), err)
	}
}

// TestMultipart uploads parts out of order, retries one with new bytes, and
// checks the assembled object, its ETag and its part count.
func TestMultipart(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	core := minio.Core{Client: c}
	ctx := ctxT(t)
	mkBucket(t, c, "mpart")
	id, err := core.NewMultipartUpload(ctx, "mpart", "assembled", minio.PutObjectOptions{ContentType: "text/x-parts"})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int][]byte{
		1: payloadBytes(11, 5*MiB),
		2: payloadBytes(12, 5*MiB+777),
		3: payloadBytes(13, 1234),
	}
	upload := func(n int, b []byte) minio.ObjectPart {
		t.Helper()
		op, err := core.PutObjectPart(ctx, "mpart", "assembled", id, n, bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		return op
	}
	done := map[int]minio.ObjectPart{}
	for _, n := range []int{3, 1, 2} {
		done[n] = upload(n, parts[n])
	}
	// Retry part 2 with other bytes: the retry wins.
	parts[2] = payloadBytes(22, 5*MiB+999)
	done[2] = upload(2, parts[2])

	lp, err := core.ListObjectParts(ctx, "mpart", "assembled", id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.ObjectParts) != 3 || lp.ObjectParts[1].Size != int64(len(parts[2])) {
		t.Fatalf("list parts: %+v", lp.ObjectParts)
	}
	var complete []minio.CompletePart
	for n := 1; n <= 3; n++ {
		complete = append(complete, minio.CompletePart{PartNumber: n, ETag: done[n].ETag})
	}
	info, err := core.CompleteMultipartUpload(ctx, "mpart", "assembled", id, complete, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("multipart ETag %q, want md5-of-md5s-3", info.ETag)
	}
	want := append(append(append([]byte{}, parts[1]...), parts[2]...), parts[3]...)
	obj, err := c.GetObject(ctx, "mpart", "assembled", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("assembled object: %d bytes (want %d), err %v", len(got), len(want), err)
	}
	st, _ := obj.Stat()
	if st.ContentType != "text/x-parts" {
		t.Errorf("content type %q", st.ContentType)
	}
	// The upload is gone once completed.
	if _, err := core.ListObjectParts(ctx, "mpart", "assembled", id, 0, 1000); minio.ToErrorResponse(err).Code != "NoSuchUpload" {
		t.Errorf("list parts after complete: %v, want NoSuchUpload", err)
	}
}

// TestListing2500 lists 2,500 keys with prefixes, delimiters and pages, in
// both ListObjectsV2 and V1, against the expected sorted key set.
func TestListing2500(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "list")
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("%s/%03d/item-%04d", []string{"alpha", "beta", "gamma", "delta", "eps"}[i%5], i%37, i))
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := c.PutObject(ctx, "list", k, strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Strings(keys)

	for _, v1 := range []bool{false, true} {
		// Everything, in pages of 100 (minio-go follows continuation tokens).
		var got []string
		for o := range c.ListObjects(ctx, "list", minio.ListObjectsOptions{Recursive: true, MaxKeys: 100, UseV1: v1}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			got = append(got, o.Key)
		}
		if strings.Join(got, ",") != strings.Join(keys, ",") {
			t.Fatalf("v1=%v: listed %d keys, want %d in order", v1, len(got), len(keys))
		}
		// Top level with a delimiter: the five prefixes.
		var prefixes []string
		for o := range c.ListObjects(ctx, "list", minio.ListObjectsOptions{UseV1: v1, MaxKeys: 2}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			prefixes = append(prefixes, o.Key)
		}
		if want := "alpha/,beta/,delta/,eps/,gamma/"; strings.Join(prefixes, ",") != want {
			t.Fatalf("v1=%v: prefixes %v, want %s", v1, prefixes, want)
		}
		// One level down, paged: 37 sub-prefixes under beta/.
		prefixes = prefixes[:0]
		for o := range c.ListObjects(ctx, "list", minio.ListObjectsOptions{Prefix: "beta/", UseV1: v1, MaxKeys: 10}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			prefixes = append(prefixes, o.Key)
		}
		if len(prefixes) != 37 || prefixes[0] != "beta/000/" || prefixes[36] != "beta/036/" {
			t.Fatalf("v1=%v: %d prefixes under beta/: %v", v1, len(prefixes), prefixes)
		}
	}
	// StartAfter.
	var got []string
	for o := range c.ListObjects(ctx, "list", minio.ListObjectsOptions{Recursive: true, StartAfter: keys[2399], MaxKeys: 50}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != strings.Join(keys[2400:], ",") {
		t.Fatalf("start-after: %d keys, want %d", len(got), 100)
	}
}

// TestVirtualHostStyle addresses the bucket in the Host header
// (bucket.localhost:port), as SDKs do by default.
func TestVirtualHostStyle(t *testing.T) {
	p := startDev(t, "")
	_, port, _ := net.SplitHostPort(p.endpoint)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, p.endpoint) // every *.localhost is this process
	}}
	c, err := minio.New("localhost:"+port, &minio.Options{
		Creds:        credentials.NewStaticV4(p.access, p.secret, ""),
		Region:       region,
		BucketLookup: minio.BucketLookupDNS,
		Transport:    tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	mkBucket(t, c, "vhost")
	data := payloadBytes(5, 2*MiB+9)
	if _, err := c.PutObject(ctx, "vhost", "dir/k", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := c.GetObject(ctx, "vhost", "dir/k", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("virtual-host GET: %d bytes, err %v", len(got), err)
	}
	var keys []string
	for o := range c.ListObjects(ctx, "vhost", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != "dir/k" {
		t.Fatalf("virtual-host listing: %v", keys)
	}
	// The same object is visible path-style.
	if _, err := p.client().StatObject(ctx, "vhost", "dir/k", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("path-style stat of a virtual-host PUT: %v", err)
	}
}

// TestIdleReleasesMemory: after a burst of small objects, which live inline
// in the metadata's bbolt file and are read through its memory map, the
// idle server hands the map's pages and its heap back: the mapping of
// fsm.db leaves the resident set, and the process is under 200 MiB.
func TestIdleReleasesMemory(t *testing.T) {
	p := startDev(t, "")
	c := p.client()
	ctx := ctxT(t)
	mkBucket(t, c, "small")
	const objects, size = 2000, 48 << 10
	var wg sync.WaitGroup
	errs := make(chan error, objects)
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				key := fmt.Sprintf("o%05d", i)
				if _, err := c.PutObject(ctx, "small", key, newPayload(uint64(i), size), size, minio.PutObjectOptions{}); err != nil {
					errs <- fmt.Errorf("put %s: %w", key, err)
					continue
				}
				obj, err := c.GetObject(ctx, "small", key, minio.GetObjectOptions{})
				if err != nil {
					errs <- fmt.Errorf("get %s: %w", key, err)
					continue
				}
				// Not digest: t.Fatal belongs to the test's goroutine.
				got := sha256.New()
				n, err := io.Copy(got, obj)
				obj.Close()
				want := sha256.New()
				io.Copy(want, newPayload(uint64(i), size))
				if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
					errs <- fmt.Errorf("%s read back %d bytes (%v), digest equal %v", key, n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
				}
			}
		})
	}
	for i := range objects {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	busy := p.mappedRSS("/fsm.db")
	t.Logf("fsm.db resident after %d objects of %d KiB: %.1f MiB", objects, size>>10, float64(busy)/MiB)
	if busy < 40*MiB {
		t.Fatalf("fsm.db resident %.1f MiB after %.0f MiB of inline objects: the test does not load the map", float64(busy)/MiB, float64(objects*size)/MiB)
	}
	const idleWait = 90 * time.Second
	deadline := time.Now().Add(idleWait)
	for {
		mapped, rss := p.mappedRSS("/fsm.db"), p.rss()
		if mapped < 8*MiB && rss < 200*MiB {
			t.Logf("idle: fsm.db resident %.1f MiB, process %.1f MiB", float64(mapped)/MiB, float64(rss)/MiB)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s idle: fsm.db resident %.1f MiB (want < 8), process %.1f MiB (want < 200)", idleWait, float64(mapped)/MiB, float64(rss)/MiB)
		}
		time.Sleep(time.Second)
	}
	// The released pages read back: every object is still whole.
	for _, i := range []int{0, objects / 2, objects - 1} {
		obj, err := c.GetObject(ctx, "small", fmt.Sprintf("o%05d", i), minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := digest(t, obj)
		if want, _ := digest(t, newPayload(uint64(i), size)); got != want {
			t.Fatalf("object %d reads back wrong after the release", i)
		}
	}
}
