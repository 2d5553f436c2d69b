package metarpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"cairn/internal/meta"
	"cairn/internal/nodeauth"
)

// ClientConfig configures NewClient.
type ClientConfig struct {
	// Leader returns the node API base URL (http://host:port) of the
	// current metadata leader, or "" if it is unknown. The client calls
	// it before each attempt, so after a NotLeader answer or a failed
	// connection it asks again. It must be cheap and safe for concurrent
	// use. Required.
	Leader func() string

	// Signer signs each request with the cluster secret. Nil sends
	// requests unsigned, for a transport that authenticates this node
	// itself (mutual TLS).
	Signer *nodeauth.Signer

	// HTTP sends the requests. Its transport should keep as many idle
	// connections per host as there are concurrent calls (net/http's
	// default keeps 2, and opens and closes a connection for each call
	// beyond them), and must have an ExpectContinueTimeout (writes wait
	// for 100 Continue before they send their body; with none the body
	// goes at once, and a write on a connection the server had just
	// closed fails with ErrOutcomeUnknown instead of being sent again).
	// Its own Timeout, if any, bounds each attempt; Timeout below bounds
	// the whole call. Default: a client of its own, on a clone of
	// http.DefaultTransport (ExpectContinueTimeout 1s) that keeps up to 64
	// idle connections per host.
	HTTP *http.Client

	// Timeout bounds each call, every attempt and backoff included, on
	// top of the caller's context. Default 30s.
	Timeout time.Duration

	// MaxBody bounds an answer's body. Default DefaultMaxBody.
	MaxBody int64
}

// Backoff between attempts that reach no leader: it starts at
// minBackoff, doubles up to maxBackoff, and each wait is drawn from
// [wait/2, wait).
const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = 500 * time.Millisecond
)

// errNoLeaderKnown is the last error of a call whose Leader func
// returned "".
var errNoLeaderKnown = errors.New("metarpc: no metadata leader known")

// Client sends metadata calls to the leader of the metadata raft group,
// following leader changes (see the package documentation, "Retries").
// It implements API. Safe for concurrent use.
type Client struct {
	leader  func() string
	signer  *nodeauth.Signer
	http    *http.Client
	timeout time.Duration
	maxBody int64
}

// NewClient returns a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	switch {
	case cfg.Leader == nil:
		return nil, errors.New("metarpc: ClientConfig.Leader is required")
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("metarpc: ClientConfig.Timeout %s is negative", cfg.Timeout)
	case cfg.MaxBody < 0:
		return nil, fmt.Errorf("metarpc: ClientConfig.MaxBody %d is negative", cfg.MaxBody)
	}
	c := &Client{leader: cfg.Leader, signer: cfg.Signer, http: cfg.HTTP, timeout: cfg.Timeout, maxBody: cfg.MaxBody}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		c.http = &http.Client{Transport: tr}
	}
	if c.timeout == 0 {
		c.timeout = 30 * time.Second
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBody
	}
	return c, nil
}

// transportError is a failed attempt that got no answer. sent: the
// request was written, at least in part, so the server may have acted on
// it.
type transportError struct {
	err  error
	sent bool
}

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// call sends req to the leader and decodes the answer into res, trying
// again while it reaches no leader (see "Retries" in doc.go).
func (c *Client) call(ctx context.Context, m method, req, res any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("metarpc: %s: encode arguments: %w", m.name, err)
	}
	hash := nodeauth.BodyHash(body)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var (
		hint     string // the leader's URL, named by the last NotLeader answer
		lastErr  error  // why the last attempt reached no leader
		wait     = minBackoff
		attempts int
	)
	for {
		target, followed := hint, hint != ""
		hint = ""
		if target == "" {
			target = strings.TrimSuffix(c.leader(), "/")
		}
		if target == "" {
			lastErr = errNoLeaderKnown
		} else {
			attempts++
			err := c.do(ctx, target, m, body, hash, res)
			var (
				re *Error
				te *transportError
			)
			switch {
			case err == nil:
				return nil
			case errors.As(err, &re):
				if re.Code != codeNotLeader {
					return err
				}
				// Refused before anything was proposed: safe to send again.
				lastErr = err
				if h := strings.TrimSuffix(re.leaderAPI, "/"); h != target {
					hint = h
				}
			case errors.As(err, &te) && te.sent && m.write:
				return fmt.Errorf("metarpc: %s via %s: %w: %w", m.name, target, ErrOutcomeUnknown, err)
			case ctx.Err() != nil:
				return c.giveUp(ctx, m, attempts, lastErr, err)
			default:
				// Not sent, or a read: safe to send again.
				lastErr = err
			}
		}
		if hint != "" && !followed {
			continue // follow a redirect at once, once in a row
		}
		if followed {
			hint = "" // a redirect led to another refusal: ask Leader again
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return c.giveUp(ctx, m, attempts, lastErr, context.Cause(ctx))
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// giveUp returns the error of a call whose context ended: one that wraps
// meta.ErrNotLeader if no leader was reached, else the context's error.
func (c *Client) giveUp(ctx context.Context, m method, attempts int, lastErr, err error) error {
	if lastErr == nil {
		return fmt.Errorf("metarpc: %s: %w", m.name, err)
	}
	return fmt.Errorf("metarpc: %s: no leader answered (%d attempts, %w): %w; last: %w",
		m.name, attempts, context.Cause(ctx), meta.ErrNotLeader, lastErr)
}

// do makes one attempt at base. It returns nil and res decoded, an
// *Error for an error answer, or a *transportError if no answer came.
func (c *Client) do(ctx context.Context, base string, m method, body []byte, hash string, res any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+PathPrefix+m.name, bytes.NewReader(body))
	if err != nil {
		return &transportError{err: err}
	}
	var sent atomic.Bool
	if m.write {
		// A write's body goes out only once the server asks for it (100
		// Continue), so that a connection found dead before that (a
		// keep-alive connection the server had closed, a node that died)
		// is known to have carried nothing the server could act on: the
		// server acts only on a whole body that matches the signed hash.
		// Any byte of the body read by the transport counts as sent.
		req.Header.Set("Expect", "100-continue")
		req.Body = &sentBody{r: bytes.NewReader(body), sent: &sent}
		req.GetBody = func() (io.ReadCloser, error) {
			return &sentBody{r: bytes.NewReader(body), sent: &sent}, nil
		}
	}
	req.Header.Set("Content-Type", "application/json")
	if c.signer != nil {
		c.signer.Sign(req, hash)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &transportError{err: err, sent: sent.Load()}
	}
	defer func() { _ = resp.Body.Close() }()

	if _, none := res.(*noResult); resp.StatusCode == http.StatusOK && m.write && none {
		// Applied: there is nothing more to know (the result is {}).
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
		return nil
	}
	data, err := readLimited(resp.Body, resp.ContentLength, c.maxBody)
	if err != nil {
		if errors.Is(err, errAnswerTooLarge) {
			return &Error{Method: m.name, Code: codeTooLarge, Status: resp.StatusCode, Message: err.Error()}
		}
		return &transportError{err: fmt.Errorf("read answer: %w", err), sent: true}
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, res); err != nil {
			return &Error{Method: m.name, Code: codeBadAnswer, Status: resp.StatusCode, Message: "decode result: " + err.Error()}
		}
		return nil
	}
	var eb errorBody
	if err := json.Unmarshal(data, &eb); err != nil || eb.Error == nil || eb.Error.Code == "" {
		const snippet = 200
		if len(data) > snippet {
			data = data[:snippet]
		}
		return &Error{Method: m.name, Code: codeBadAnswer, Status: resp.StatusCode, Message: "answer not from a metadata node: " + string(data)}
	}
	return fromWire(m, resp.StatusCode, eb.Error)
}

// sentBody is a write's body; sent records that the transport read from
// it.
type sentBody struct {
	r    *bytes.Reader // not embedded: its WriteTo would bypass Read
	sent *atomic.Bool
}

func (b *sentBody) Read(p []byte) (int, error) {
	b.sent.Store(true)
	return b.r.Read(p)
}

func (b *sentBody) Close() error { return nil }

var errAnswerTooLarge = errors.New("answer too large")

// readLimited reads r to its end, at most limit bytes; n is the length
// announced (-1 if unknown).
func readLimited(r io.Reader, n, limit int64) ([]byte, error) {
	if n > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", errAnswerTooLarge, n, limit)
	}
	b, err := readAll(io.LimitReader(r, limit+1), n)
	if err == nil && int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", errAnswerTooLarge, limit)
	}
	return b, err
}

// CreateBucket implements API. Not idempotent: if a first attempt's
// answer is lost the call fails with ErrOutcomeUnknown, and a retry by
// the caller may then find ErrBucketExists.
func (c *Client) CreateBucket(ctx context.Context, name string, now time.Time) error {
	return c.call(ctx, mCreateBucket, &createBucketReq{Name: name, Now: now}, &noResult{})
}

// DeleteBucket implements API.
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	return c.call(ctx, mDeleteBucket, &bucketReq{Name: name}, &noResult{})
}

// GetBucket implements API.
func (c *Client) GetBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	var res bucketResult
	if err := c.call(ctx, mGetBucket, &bucketReq{Name: name}, &res); err != nil {
		return nil, err
	}
	return res.Bucket, nil
}

// ListBuckets implements API.
func (c *Client) ListBuckets(ctx context.Context) ([]*meta.Bucket, error) {
	var res bucketsResult
	if err := c.call(ctx, mListBuckets, &noArgs{}, &res); err != nil {
		return nil, err
	}
	return res.Buckets, nil
}

// PutObject implements API.
func (c *Client) PutObject(ctx context.Context, obj *meta.Object) error {
	var res versionResult
	err := c.call(ctx, mPutObject, &objectReq{Object: obj}, &res)
	if obj != nil {
		obj.VersionID = res.VersionID
	}
	return err
}

// GetObject implements API.
func (c *Client) GetObject(ctx context.Context, bucket, key string) (*meta.Object, error) {
	var res objectResult
	if err := c.call(ctx, mGetObject, &objectKeyReq{Bucket: bucket, Key: key}, &res); err != nil {
		return nil, err
	}
	return res.Object, nil
}

// DeleteObjects implements API.
func (c *Client) DeleteObjects(ctx context.Context, bucket string, keys []string) error {
	return c.call(ctx, mDeleteObjects, &deleteObjectsReq{Bucket: bucket, Keys: keys}, &noResult{})
}

// ListObjects implements API.
func (c *Client) ListObjects(ctx context.Context, bucket string, q meta.ListQuery) (*meta.ListResult, error) {
	var res listObjectsResult
	if err := c.call(ctx, mListObjects, &listObjectsReq{Bucket: bucket, Query: toListQuery(q)}, &res); err != nil {
		return nil, err
	}
	return res.meta(), nil
}

// CreateUpload implements API.
func (c *Client) CreateUpload(ctx context.Context, u *meta.Upload) error {
	return c.call(ctx, mCreateUpload, &uploadReq{Upload: u}, &noResult{})
}

// GetUpload implements API.
func (c *Client) GetUpload(ctx context.Context, bucket, key, id string) (*meta.Upload, error) {
	var res uploadResult
	if err := c.call(ctx, mGetUpload, &uploadIDReq{Bucket: bucket, Key: key, ID: id}, &res); err != nil {
		return nil, err
	}
	return res.Upload, nil
}

// PutPart implements API.
func (c *Client) PutPart(ctx context.Context, bucket, key, id string, p *meta.Part) error {
	return c.call(ctx, mPutPart, &putPartReq{Bucket: bucket, Key: key, ID: id, Part: p}, &noResult{})
}

// ListParts implements API.
func (c *Client) ListParts(ctx context.Context, bucket, key, id string, marker, limit int) ([]*meta.Part, bool, error) {
	var res listPartsResult
	req := &listPartsReq{Bucket: bucket, Key: key, ID: id, Marker: marker, Limit: limit}
	if err := c.call(ctx, mListParts, req, &res); err != nil {
		return nil, false, err
	}
	return res.Parts, res.Truncated, nil
}

// CompleteUpload implements API. Not idempotent: if a first attempt's
// answer is lost the call fails with ErrOutcomeUnknown, and a retry by
// the caller may then find ErrNoSuchUpload although the object was
// completed.
func (c *Client) CompleteUpload(ctx context.Context, id string, parts []meta.PartRef, obj *meta.Object) error {
	var res versionResult
	err := c.call(ctx, mCompleteUpload, &completeUploadReq{ID: id, Parts: toPartRefs(parts), Object: obj}, &res)
	if obj != nil {
		obj.VersionID = res.VersionID
	}
	return err
}

// AbortUpload implements API.
func (c *Client) AbortUpload(ctx context.Context, bucket, key, id string) error {
	return c.call(ctx, mAbortUpload, &uploadIDReq{Bucket: bucket, Key: key, ID: id}, &noResult{})
}

// ListUploads implements API.
func (c *Client) ListUploads(ctx context.Context, bucket string, q meta.UploadQuery) (*meta.UploadList, error) {
	var res listUploadsResult
	if err := c.call(ctx, mListUploads, &listUploadsReq{Bucket: bucket, Query: toUploadQuery(q)}, &res); err != nil {
		return nil, err
	}
	return res.meta(), nil
}

// PutKey implements API.
func (c *Client) PutKey(ctx context.Context, k *meta.Key) error {
	return c.call(ctx, mPutKey, &keyReq{Key: k}, &noResult{})
}

// GetKey implements API.
func (c *Client) GetKey(ctx context.Context, id string) (*meta.Key, error) {
	var res keyResult
	if err := c.call(ctx, mGetKey, &keyIDReq{ID: id}, &res); err != nil {
		return nil, err
	}
	return res.Key, nil
}

// ListKeys implements API.
func (c *Client) ListKeys(ctx context.Context) ([]*meta.Key, error) {
	var res keysResult
	if err := c.call(ctx, mListKeys, &noArgs{}, &res); err != nil {
		return nil, err
	}
	return res.Keys, nil
}

// DeleteKey implements API.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.call(ctx, mDeleteKey, &keyIDReq{ID: id}, &noResult{})
}

// SetLayout implements API.
func (c *Client) SetLayout(ctx context.Context, l *meta.Layout) error {
	return c.call(ctx, mSetLayout, &layoutReq{Layout: l}, &noResult{})
}

// Layout implements API.
func (c *Client) Layout(ctx context.Context) (*meta.Layout, error) {
	var res layoutResult
	if err := c.call(ctx, mLayout, &noArgs{}, &res); err != nil {
		return nil, err
	}
	return res.Layout, nil
}

// LayoutVersion implements API.
func (c *Client) LayoutVersion(ctx context.Context, version uint64) (*meta.Layout, error) {
	var res layoutResult
	if err := c.call(ctx, mLayoutVersion, &layoutVersionReq{Version: version}, &res); err != nil {
		return nil, err
	}
	return res.Layout, nil
}

// Garbage implements API.
func (c *Client) Garbage(ctx context.Context, olderThan time.Time, limit int) ([]meta.GarbageChunk, error) {
	var res garbageResult
	if err := c.call(ctx, mGarbage, &garbageReq{OlderThan: olderThan, Limit: limit}, &res); err != nil {
		return nil, err
	}
	return metaGarbage(res.Chunks), nil
}

// ForgetGarbage implements API.
func (c *Client) ForgetGarbage(ctx context.Context, cids [][]byte) error {
	return c.call(ctx, mForgetGarbage, &forgetGarbageReq{CIDs: cids}, &noResult{})
}

// ChunkRefs implements API.
func (c *Client) ChunkRefs(ctx context.Context, chunkCID []byte) (int64, error) {
	var res chunkRefsResult
	if err := c.call(ctx, mChunkRefs, &chunkRefsReq{CID: chunkCID}, &res); err != nil {
		return 0, err
	}
	return res.Refs, nil
}

// Collect implements API.
func (c *Client) Collect(ctx context.Context, cids [][]byte, olderThan time.Time) error {
	return c.call(ctx, mCollect, &collectReq{CIDs: cids, OlderThan: olderThan}, &noResult{})
}

// Chunk implements API.
func (c *Client) Chunk(ctx context.Context, chunkCID []byte) (*meta.ChunkInfo, error) {
	var res chunkResult
	if err := c.call(ctx, mChunk, &chunkRefsReq{CID: chunkCID}, &res); err != nil {
		return nil, err
	}
	if res.Chunk == nil {
		return nil, nil
	}
	ci := meta.ChunkInfo(*res.Chunk)
	return &ci, nil
}

// Chunks implements API.
func (c *Client) Chunks(ctx context.Context, after []byte, limit int) ([]meta.ChunkInfo, []byte, error) {
	var res chunksResult
	if err := c.call(ctx, mChunks, &chunksReq{After: after, Limit: limit}, &res); err != nil {
		return nil, nil, err
	}
	return metaChunkInfos(res.Chunks), res.Next, nil
}

// SetStripeNodes implements API.
func (c *Client) SetStripeNodes(ctx context.Context, cid []byte, old, nodes []string, layout uint64) error {
	return c.call(ctx, mSetStripeNodes, &setStripeNodesReq{CID: cid, Old: old, Nodes: nodes, Layout: layout}, &noResult{})
}

// AddReputation implements API.
func (c *Client) AddReputation(ctx context.Context, deltas []meta.ReputationDelta) error {
	return c.call(ctx, mAddReputation, &addReputationReq{Deltas: toReputationDeltas(deltas)}, &noResult{})
}

// Reputations implements API.
func (c *Client) Reputations(ctx context.Context) ([]meta.Reputation, error) {
	var res reputationsResult
	if err := c.call(ctx, mReputations, &noArgs{}, &res); err != nil {
		return nil, err
	}
	return res.Reputations, nil
}

// ChunkByName implements API.
func (c *Client) ChunkByName(ctx context.Context, name []byte) (*meta.ChunkInfo, error) {
	var res chunkResult
	if err := c.call(ctx, mChunkByName, &chunkByNameReq{Name: name}, &res); err != nil {
		return nil, err
	}
	if res.Chunk == nil {
		return nil, nil
	}
	ci := meta.ChunkInfo(*res.Chunk)
	return &ci, nil
}

// ReplaceStripe implements API.
func (c *Client) ReplaceStripe(ctx context.Context, cid []byte, old [][]byte, next meta.Stripe) error {
	return c.call(ctx, mReplaceStripe, &replaceStripeReq{CID: cid, Old: old, Stripe: next}, &noResult{})
}

// SealMigration implements API.
func (c *Client) SealMigration(ctx context.Context) (bool, error) {
	var res sealMigrationResult
	if err := c.call(ctx, mSealMigration, &noArgs{}, &res); err != nil {
		return false, err
	}
	return res.On, nil
}

// SetSealMigration implements API.
func (c *Client) SetSealMigration(ctx context.Context, on bool) error {
	return c.call(ctx, mSetSealMigration, &setSealMigrationReq{On: on}, &noResult{})
}

// SetObjectTags implements API. Idempotent: the same tags replace
// themselves.
func (c *Client) SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	return c.call(ctx, mSetObjectTags, &setObjectTagsReq{Bucket: bucket, Key: key, Tags: tags}, &noResult{})
}
