package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"golang.org/x/sync/errgroup"
)

// maxFirstErrors is how many error messages a Result keeps.
const maxFirstErrors = 5

// cleanupTimeout bounds deleting what a run wrote, which happens even when
// the run's context was cancelled.
const cleanupTimeout = 5 * time.Minute

// Run prepares the workload's objects, runs its timed phase, removes what
// it wrote (unless cfg.Keep) and returns what it measured. Operations that
// fail, GETs that read other bytes than were uploaded among them, are
// counted in the Result, not returned as an error; Run returns an error when
// the workload cannot start (bad Config, bucket or preparation failing) or
// when ctx is cancelled, and then with the Result of the part that ran if
// the timed phase had started.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "s3load/" + runID() + "/"
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.ensureBucket(ctx); err != nil {
		return nil, err
	}
	res, err := r.run(ctx)
	if !cfg.Keep && (ctx.Err() == nil || !cfg.CancelSkipsCleanup) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		if cerr := r.cleanup(cctx); cerr != nil && err == nil {
			err = cerr
		}
		cancel()
	}
	return res, err
}

// Prepare uploads the objects get and mixed read, as Run does before its
// timed phase, and leaves them for Runs with Reuse: cfg.Objects objects of
// cfg.Size bytes under cfg.Prefix, which is required, in cfg.Bucket
// (created when missing). cfg.Workload is ignored. It returns how long the
// uploads took. When it fails, what it uploaded stays.
func Prepare(ctx context.Context, cfg Config) (time.Duration, error) {
	cfg.Workload, cfg.Reuse = WorkloadGet, false
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	if cfg.Prefix == "" {
		return 0, errors.New("prepare: a prefix is needed, for the Runs that reuse the objects")
	}
	r, err := newRunner(cfg)
	if err != nil {
		return 0, err
	}
	if err := r.ensureBucket(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	err = r.prepare(ctx)
	return time.Since(start), err
}

// runID names a run: the time and a few random bytes.
func runID() string {
	var b [3]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// opKind is an operation type; its index into runner.stats.
type opKind int

const (
	opPut opKind = iota
	opGet
	opList
	numOps
)

var opNames = [numOps]string{"PUT", "GET", "LIST"}

// opStats accumulates one operation type's outcomes; safe for concurrent
// use.
type opStats struct {
	count, errors, bytes, keys atomic.Int64
	hist                       *latencyHist
}

// prepared is an object uploaded before the timed phase.
type prepared struct {
	key    string
	digest Digest // zero when not verifying
}

// runner is one Run.
type runner struct {
	cfg Config
	// client and core are the first endpoint's, for the bucket and the
	// cleanup; clients and cores every endpoint's, taken in turn by the
	// operations (pick).
	client    *minio.Client
	core      *minio.Core
	clients   []*minio.Client
	cores     []*minio.Core
	turn      atomic.Uint64
	putOpts   minio.PutObjectOptions
	created   bool // the bucket was made by this run
	objects   []prepared
	listed    string // the prefix the list workload lists
	stats     [numOps]opStats
	moved     atomic.Int64 // object bytes sent or received so far, for progress
	retried   atomic.Int64 // responses the client retries (429, 5xx)
	errMu     sync.Mutex
	firstErrs []string
}

func newRunner(cfg Config) (*runner, error) {
	r := &runner{cfg: cfg, listed: cfg.Prefix + "list/"}
	for _, ep := range cfg.endpoints() {
		host, secure, err := parseEndpoint(ep)
		if err != nil {
			return nil, err
		}
		tr, err := minio.DefaultTransport(secure)
		if err != nil {
			return nil, err
		}
		tr.Proxy = nil // a load test talks to the endpoint, never through a proxy
		if secure && cfg.RootCAs != nil {
			tr.TLSClientConfig.RootCAs = cfg.RootCAs
		}
		tr.MaxIdleConns = 2*cfg.Concurrency + 16
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 16
		tr.ResponseHeaderTimeout = 5 * time.Minute // a big PUT is answered after its last byte is stored
		tr.WriteBufferSize, tr.ReadBufferSize = 64<<10, 64<<10
		client, err := minio.New(host, &minio.Options{
			Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure:       secure,
			Region:       cfg.Region,
			Transport:    retryCounter{tr, &r.retried},
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return nil, fmt.Errorf("s3 client for %s: %w", ep, err)
		}
		r.clients = append(r.clients, client)
		r.cores = append(r.cores, &minio.Core{Client: client})
	}
	r.client, r.core = r.clients[0], r.cores[0]
	r.putOpts = minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		DisableContentSha256: !cfg.SignPayload,
		DisableMultipart:     cfg.PartSize == 0,
		PartSize:             uint64(cfg.PartSize),
	}
	for i := range r.stats {
		r.stats[i].hist = newLatencyHist()
	}
	return r, nil
}

// pick returns the client, and its Core, of the endpoint whose turn it
// is: each operation takes the next one.
func (r *runner) pick() (*minio.Client, *minio.Core) {
	if len(r.clients) == 1 {
		return r.client, r.core
	}
	i := int((r.turn.Add(1) - 1) % uint64(len(r.clients)))
	return r.clients[i], r.cores[i]
}

// ensureBucket creates the bucket unless it exists.
func (r *runner) ensureBucket(ctx context.Context) error {
	ok, err := r.client.BucketExists(ctx, r.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", r.cfg.Bucket, err)
	}
	if ok {
		return nil
	}
	if err := r.client.MakeBucket(ctx, r.cfg.Bucket, minio.MakeBucketOptions{Region: r.cfg.Region}); err != nil {
		return fmt.Errorf("create bucket %s: %w", r.cfg.Bucket, err)
	}
	r.created = true
	return nil
}

// run prepares and runs the timed phase.
func (r *runner) run(ctx context.Context) (*Result, error) {
	res := &Result{
		Workload:    r.cfg.Workload,
		Endpoint:    strings.Join(r.cfg.endpoints(), ","),
		Bucket:      r.cfg.Bucket,
		Prefix:      r.cfg.Prefix,
		ObjectSize:  r.cfg.Size,
		Concurrency: r.cfg.Concurrency,
		Verify:      !r.cfg.NoVerify,
	}
	if r.cfg.Workload == WorkloadMixed {
		res.GetRatio = r.cfg.GetRatio
	}
	switch {
	case r.cfg.Reuse:
		if err := r.reuse(ctx); err != nil {
			return nil, err
		}
		res.Objects = len(r.objects)
	case r.cfg.Workload != WorkloadPut:
		start := time.Now()
		if err := r.prepare(ctx); err != nil {
			return nil, err
		}
		res.Objects, res.Prepare = len(r.objects), time.Since(start).Seconds()
	}

	if r.cfg.Prepared != nil {
		r.cfg.Prepared()
	}
	if r.cfg.Start != nil {
		select {
		case <-r.cfg.Start:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.cfg.BeforeTimed != nil {
		r.cfg.BeforeTimed()
	}
	retried0 := r.retried.Load()
	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	stop := r.startProgress(r.cfg.Workload, start, nil)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for id := range r.cfg.Concurrency {
		wg.Go(func() { r.worker(ctx, id, deadline, &claimed) })
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Retried = r.retried.Load() - retried0
	if r.cfg.AfterTimed != nil {
		r.cfg.AfterTimed()
	}
	stop()
	r.summarize(res)
	return res, ctx.Err()
}

// objectKey is the key of the i-th prepared object.
func (r *runner) objectKey(i int) string {
	if r.cfg.Workload == WorkloadList {
		return fmt.Sprintf("%s%06d", r.listed, i)
	}
	return fmt.Sprintf("%sobj/%06d", r.cfg.Prefix, i)
}

// reuse takes the objects an earlier prepare left: their keys, and unless
// NoVerify their digests, computed from the keys.
func (r *runner) reuse(ctx context.Context) error {
	r.objects = make([]prepared, r.cfg.Objects)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Concurrency)
	for i := range r.objects {
		key := r.objectKey(i)
		r.objects[i].key = key
		if r.cfg.NoVerify {
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			r.objects[i].digest = DigestOf(key, r.cfg.Size)
			return nil
		})
	}
	return g.Wait()
}

// prepare uploads the objects the timed phase reads or lists.
func (r *runner) prepare(ctx context.Context) error {
	r.objects = make([]prepared, r.cfg.Objects)
	var done atomic.Int64
	start := time.Now()
	stop := r.startProgress("prepare", start, func() string {
		return fmt.Sprintf("%d/%d objects", done.Load(), len(r.objects))
	})
	defer stop()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Concurrency)
	for i := range r.objects {
		key := r.objectKey(i)
		g.Go(func() error {
			d, err := r.upload(gctx, key, !r.cfg.NoVerify)
			if err != nil {
				return fmt.Errorf("prepare: %w", err)
			}
			r.objects[i] = prepared{key: key, digest: d}
			done.Add(1)
			return nil
		})
	}
	return g.Wait()
}

// upload PUTs the object named key, and returns its digest when asked to.
func (r *runner) upload(ctx context.Context, key string, digest bool) (Digest, error) {
	body := &uploadBody{body: NewBody(key, r.cfg.Size), moved: &r.moved}
	if digest {
		body.hash = xxhash.New()
	}
	client, _ := r.pick()
	info, err := client.PutObject(ctx, r.cfg.Bucket, key, body, r.cfg.Size, r.putOpts)
	if err != nil {
		return Digest{}, fmt.Errorf("PUT %s: %w", key, err)
	}
	if info.Size != r.cfg.Size {
		return Digest{}, fmt.Errorf("PUT %s: stored %d bytes, sent %d", key, info.Size, r.cfg.Size)
	}
	if !digest {
		return Digest{}, nil
	}
	if body.hashed != r.cfg.Size {
		// The client did not read the body once front to back.
		return DigestOf(key, r.cfg.Size), nil
	}
	return Digest{Size: r.cfg.Size, Sum: body.hash.Sum64()}, nil
}

// uploadBody is what a PUT sends: an object's Body, counted for the
// progress line and, when hash is set, hashed for the GETs that will check
// it. It seeks, so that the client can send a request again (after a 503,
// say); the hash then starts over.
type uploadBody struct {
	body   *Body
	moved  *atomic.Int64
	hash   *xxhash.Digest
	hashed int64 // bytes hashed from the start; -1 after a seek elsewhere
}

func (u *uploadBody) Read(p []byte) (int, error) {
	n, err := u.body.Read(p)
	u.moved.Add(int64(n))
	if u.hash != nil && u.hashed >= 0 {
		u.hash.Write(p[:n])
		u.hashed += int64(n)
	}
	return n, err
}

func (u *uploadBody) Seek(offset int64, whence int) (int64, error) {
	before := u.body.size - u.body.remaining
	pos, err := u.body.Seek(offset, whence)
	switch {
	case err != nil || pos == before:
	case pos == 0:
		if u.hash != nil {
			u.hash.Reset()
		}
		u.hashed = 0
	default:
		u.hashed = -1
	}
	return pos, err
}

// worker is one of the timed phase's Concurrency loops.
type worker struct {
	id    int
	rng   *mrand.Rand
	buf   []byte
	hash  *xxhash.Digest
	puts  int
	token string // list: the continuation token of the next page
	seen  int    // list: keys seen so far in the current pass
}

func (r *runner) worker(ctx context.Context, id int, deadline time.Time, claimed *atomic.Int64) {
	w := &worker{
		id:   id,
		rng:  mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(id))),
		buf:  make([]byte, 256<<10),
		hash: xxhash.New(),
	}
	for ctx.Err() == nil {
		select {
		case <-r.cfg.Stop: // never ready when nil
			return
		default:
		}
		if r.cfg.Count > 0 {
			if claimed.Add(1) > r.cfg.Count {
				return
			}
		} else if !time.Now().Before(deadline) {
			return
		}
		r.op(ctx, w)
	}
}

// op does one operation of the workload and records its outcome.
func (r *runner) op(ctx context.Context, w *worker) {
	kind := opPut
	switch r.cfg.Workload {
	case WorkloadGet:
		kind = opGet
	case WorkloadList:
		kind = opList
	case WorkloadMixed:
		if w.rng.Float64() < r.cfg.GetRatio {
			kind = opGet
		}
	}
	start := time.Now()
	var n, keys int64
	var err error
	switch kind {
	case opPut:
		n, err = r.put(ctx, w)
	case opGet:
		n, err = r.get(ctx, w)
	case opList:
		keys, err = r.list(ctx, w)
	}
	d := time.Since(start)
	s := &r.stats[kind]
	if err != nil {
		if ctx.Err() != nil {
			return // cut short by the caller: neither a success nor a failure
		}
		s.errors.Add(1)
		r.errMu.Lock()
		if len(r.firstErrs) < maxFirstErrors {
			r.firstErrs = append(r.firstErrs, err.Error())
		}
		r.errMu.Unlock()
		return
	}
	s.count.Add(1)
	s.bytes.Add(n)
	s.keys.Add(keys)
	s.hist.record(d)
}

func (r *runner) put(ctx context.Context, w *worker) (int64, error) {
	key := fmt.Sprintf("%sput/%03d/%08d", r.cfg.Prefix, w.id, w.puts)
	w.puts++
	if _, err := r.upload(ctx, key, false); err != nil {
		return 0, err
	}
	return r.cfg.Size, nil
}

// get reads one prepared object at random and checks its length and,
// unless NoVerify, its bytes.
func (r *runner) get(ctx context.Context, w *worker) (int64, error) {
	obj := r.objects[w.rng.IntN(len(r.objects))]
	_, core := r.pick()
	rc, _, _, err := core.GetObject(ctx, r.cfg.Bucket, obj.key, minio.GetObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", obj.key, err)
	}
	defer rc.Close()
	w.hash.Reset()
	var n int64
	for {
		m, rerr := rc.Read(w.buf)
		if m > 0 {
			n += int64(m)
			r.moved.Add(int64(m))
			if !r.cfg.NoVerify {
				w.hash.Write(w.buf[:m])
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, fmt.Errorf("GET %s: after %d bytes: %w", obj.key, n, rerr)
		}
	}
	if n != r.cfg.Size {
		return 0, fmt.Errorf("GET %s: read %d bytes, want %d", obj.key, n, r.cfg.Size)
	}
	if !r.cfg.NoVerify && w.hash.Sum64() != obj.digest.Sum {
		return 0, fmt.Errorf("GET %s: content differs from what was uploaded (xxhash64 %016x, want %016x)",
			obj.key, w.hash.Sum64(), obj.digest.Sum)
	}
	return n, nil
}

// list reads the next page of the listed prefix. At the end of each pass
// over the prefix it checks that the pass saw every prepared key.
func (r *runner) list(ctx context.Context, w *worker) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	_, core := r.pick()
	page, err := core.ListObjectsV2(r.cfg.Bucket, r.listed, "", w.token, "", r.cfg.PageSize)
	if err != nil {
		w.token, w.seen = "", 0
		return 0, fmt.Errorf("LIST %s: %w", r.listed, err)
	}
	n := len(page.Contents)
	w.seen += n
	if page.IsTruncated && page.NextContinuationToken != "" {
		w.token = page.NextContinuationToken
		return int64(n), nil
	}
	seen := w.seen
	w.token, w.seen = "", 0
	if seen != len(r.objects) {
		return 0, fmt.Errorf("LIST %s: a pass saw %d keys, want %d", r.listed, seen, len(r.objects))
	}
	return int64(n), nil
}

// summarize fills res from the accumulated stats.
func (r *runner) summarize(res *Result) {
	kinds := map[string][]opKind{
		WorkloadPut:   {opPut},
		WorkloadGet:   {opGet},
		WorkloadMixed: {opPut, opGet},
		WorkloadList:  {opList},
	}[r.cfg.Workload]
	total := newLatencyHist()
	res.Total.Op = "all"
	rate := func(v int64) float64 {
		if res.Seconds <= 0 {
			return 0
		}
		return float64(v) / res.Seconds
	}
	for _, k := range kinds {
		s := &r.stats[k]
		o := OpStats{
			Op:      opNames[k],
			Count:   s.count.Load(),
			Errors:  s.errors.Load(),
			Bytes:   s.bytes.Load(),
			Keys:    s.keys.Load(),
			Latency: s.hist.summary(),
		}
		o.MiBPerSec, o.OpsPerSec = rate(o.Bytes)/(1<<20), rate(o.Count)
		res.Ops = append(res.Ops, o)
		total.merge(s.hist)
		res.Total.Count += o.Count
		res.Total.Errors += o.Errors
		res.Total.Bytes += o.Bytes
		res.Total.Keys += o.Keys
	}
	res.Total.MiBPerSec, res.Total.OpsPerSec = rate(res.Total.Bytes)/(1<<20), rate(res.Total.Count)
	res.Total.Latency = total.summary()
	r.errMu.Lock()
	res.FirstErrors = append([]string(nil), r.firstErrs...)
	r.errMu.Unlock()
}

// cleanup deletes every object under the run's prefix, and the bucket if
// the run created it.
func (r *runner) cleanup(ctx context.Context) error {
	var errs []error
	var listErr error
	objs := make(chan minio.ObjectInfo)
	var lister sync.WaitGroup
	lister.Go(func() {
		defer close(objs)
		for o := range r.client.ListObjects(ctx, r.cfg.Bucket, minio.ListObjectsOptions{Prefix: r.cfg.Prefix, Recursive: true}) {
			if o.Err != nil {
				listErr = o.Err
				continue // the listing ends after an error
			}
			select {
			case objs <- o:
			case <-ctx.Done():
				return // RemoveObjects may stop reading when ctx ends
			}
		}
	})
	for e := range r.client.RemoveObjects(ctx, r.cfg.Bucket, objs, minio.RemoveObjectsOptions{}) {
		if len(errs) < maxFirstErrors {
			errs = append(errs, fmt.Errorf("delete %s: %w", e.ObjectName, e.Err))
		}
	}
	lister.Wait()
	if listErr != nil {
		errs = append(errs, fmt.Errorf("list %s: %w", r.cfg.Prefix, listErr))
	}
	if r.created && len(errs) == 0 {
		if err := r.client.RemoveBucket(ctx, r.cfg.Bucket); err != nil {
			errs = append(errs, fmt.Errorf("remove bucket %s: %w", r.cfg.Bucket, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}

// retryCounter counts the responses an S3 client retries: 429 and 5xx
// (minio-go tries a request up to 10 times, backing off, when it can send
// its body again). A server that sheds load answers 503 SlowDown.
type retryCounter struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (c retryCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		c.n.Add(1)
	}
	return resp, err
}
