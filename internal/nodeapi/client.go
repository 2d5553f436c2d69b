package nodeapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/internal/blob"
	"cairn/internal/nodeauth"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the node's internal API, "http://host:port" (or https),
	// with no path: the routes of doc.go are appended to it. Required.
	BaseURL string
	// Signer signs every request with the cluster secret. Nil sends
	// requests unsigned, for a transport that authenticates this node
	// itself (mutual TLS).
	Signer *nodeauth.Signer
	// HTTP sends the requests. Share one among the clients of all nodes,
	// over NewTransport, so connection pools are bounded. The client never
	// follows redirects and keeps no cookies, whatever HTTP says. Nil: a
	// client of its own over NewTransport.
	HTTP *http.Client
	// Timeout bounds every call that ctx does not bound more tightly:
	// connecting, sending, waiting and reading the response. Walk applies
	// it to each inventory page. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxShardSize bounds what Get reads from the node: a larger response
	// is cut off (ErrTooLarge), so a hostile node cannot make the client
	// allocate without limit; Put refuses larger shards before sending.
	// Zero means DefaultMaxShardSize.
	MaxShardSize int64
	// PageSize is how many shards Walk asks for per inventory page, at
	// most MaxPageSize. Zero means DefaultPageSize.
	PageSize int
}

// DefaultTimeout is ClientConfig.Timeout's default.
const DefaultTimeout = 30 * time.Second

// Client is a remote node's shards over its node API: it implements
// blob.Store, and so the gateway's ShardStore. It does not trust the node:
// Get verifies the bytes against the CID, and every response is read
// within bounds. Errors name the node's URL and the shard; they wrap
// blob.ErrNotFound, blob.ErrCorrupt, ErrTooLarge, nodeauth.ErrUnauthorized
// or the context's error where those apply, and a *RemoteError for any
// other refusal. No call is retried. Safe for concurrent use.
type Client struct {
	base     string // scheme://host:port
	signer   *nodeauth.Signer
	http     *http.Client
	timeout  time.Duration
	maxShard int64
	pageSize int
}

var _ blob.Store = (*Client)(nil)

// NewClient returns a client for cfg, or an error for a bad config.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("nodeapi: ClientConfig.BaseURL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("nodeapi: ClientConfig.BaseURL %q: want http://host:port or https://host:port", cfg.BaseURL)
	case u.Host == "":
		return nil, fmt.Errorf("nodeapi: ClientConfig.BaseURL %q has no host", cfg.BaseURL)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("nodeapi: ClientConfig.BaseURL %q: want only scheme, host and port", cfg.BaseURL)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("nodeapi: ClientConfig.Timeout %v is negative", cfg.Timeout)
	case cfg.MaxShardSize < 0:
		return nil, fmt.Errorf("nodeapi: ClientConfig.MaxShardSize %d is negative", cfg.MaxShardSize)
	case cfg.PageSize < 0 || cfg.PageSize > MaxPageSize:
		return nil, fmt.Errorf("nodeapi: ClientConfig.PageSize %d: want 0 to %d", cfg.PageSize, MaxPageSize)
	}
	c := &Client{
		base:     u.Scheme + "://" + u.Host,
		signer:   cfg.Signer,
		timeout:  cfg.Timeout,
		maxShard: cfg.MaxShardSize,
		pageSize: cfg.PageSize,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxShard == 0 {
		c.maxShard = DefaultMaxShardSize
	}
	if c.pageSize == 0 {
		c.pageSize = DefaultPageSize
	}
	// A shallow copy shares the transport (and its pools) but not the
	// redirect policy: a signed request is never re-sent elsewhere.
	hc := http.Client{Transport: NewTransport()}
	if cfg.HTTP != nil {
		hc = *cfg.HTTP
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Jar = nil
	c.http = &hc
	return c, nil
}

// URL returns the node's base URL.
func (c *Client) URL() string { return c.base }

// RemoteError is a refusal from the node that maps to no sentinel: a 5xx,
// an unexpected status or code. Match it with errors.As.
type RemoteError struct {
	Status  int    // HTTP status
	Code    string // X-Cairn-Error, "" if the answer had none (not a Cairn node?)
	Message string // from the error body, if any
}

func (e *RemoteError) Error() string {
	code := e.Code
	if code == "" {
		code = "no Cairn error code"
	}
	if e.Message == "" {
		return fmt.Sprintf("node answered %d (%s)", e.Status, code)
	}
	return fmt.Sprintf("node answered %d (%s): %s", e.Status, code, e.Message)
}

// Put implements blob.Store.Put: the shard is durable on the node when
// Put returns nil. The body goes unsigned (the node checks it against id)
// when id's hash is strong enough to authenticate it, and signed
// otherwise. Without a Signer (mutual TLS) nothing is signed, and the
// body is not hashed: the record layer authenticates every byte.
func (c *Client) Put(ctx context.Context, id cid.Cid, data []byte) error {
	if err := checkID(id); err != nil {
		return c.errorf("put shard", id, err)
	}
	if int64(len(data)) > c.maxShard {
		return c.errorf("put shard", id, fmt.Errorf("%w: %d bytes, maximum %d", ErrTooLarge, len(data), c.maxShard))
	}
	bodyHash := nodeauth.UnsignedPayload
	if c.signer != nil && !bodyAuthenticatedByCID(id) {
		// A shard name (or a weak hash) does not pin the body down: sign
		// it, with the faster of the two body hashes.
		bodyHash = nodeauth.BodyHashBLAKE3(data)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPut, pathShard+id.String(), "", data, bodyHash)
	if err != nil {
		return c.errorf("put shard", id, ctxErr(ctx, err))
	}
	defer drain(resp)
	if resp.StatusCode/100 != 2 {
		return c.errorf("put shard", id, refusal(resp))
	}
	return nil
}

// VerifiesReads reports whether Get(id) returns only bytes that hash to
// id (a gateway need not hash them again): true for content addresses,
// and false for shard names (erasure.ShardName), which the node's word
// alone vouches for.
func (c *Client) VerifiesReads(id cid.Cid) bool { return !erasure.IsShardName(id) }

// Get implements blob.Store.Get. It reads at most MaxShardSize bytes and
// verifies them against id: bytes that do not match are ErrCorrupt,
// whatever the node says. (A corrupt copy the node itself detects is
// quarantined there, as the blob.Store contract says.)
func (c *Client) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	dst = dst[:0]
	if err := checkID(id); err != nil {
		return dst, c.errorf("get shard", id, fmt.Errorf("%w: %w", blob.ErrNotFound, err))
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, pathShard+id.String(), "", nil, emptyBodyHash)
	if err != nil {
		return dst, c.errorf("get shard", id, ctxErr(ctx, err))
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return dst, c.errorf("get shard", id, refusal(resp))
	}
	data, err := readLimited(resp.Body, dst, resp.ContentLength, c.maxShard)
	if err != nil {
		return dst, c.errorf("get shard", id, ctxErr(ctx, err))
	}
	if err := verify(id, data); err != nil {
		return dst, c.errorf("get shard", id, fmt.Errorf("%w: the node's bytes do not hash to the CID", err))
	}
	return data, nil
}

// Has implements blob.Store.Has.
func (c *Client) Has(ctx context.Context, id cid.Cid) (bool, error) {
	if checkID(id) != nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodHead, pathShard+id.String(), "", nil, emptyBodyHash)
	if err != nil {
		return false, c.errorf("has shard", id, ctxErr(ctx, err))
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusOK {
		return true, nil
	}
	if err := refusal(resp); !errors.Is(err, blob.ErrNotFound) {
		return false, c.errorf("has shard", id, err)
	}
	return false, nil
}

// Delete implements blob.Store.Delete.
func (c *Client) Delete(ctx context.Context, id cid.Cid) error {
	if checkID(id) != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodDelete, pathShard+id.String(), "", nil, emptyBodyHash)
	if err != nil {
		return c.errorf("delete shard", id, ctxErr(ctx, err))
	}
	defer drain(resp)
	if resp.StatusCode/100 != 2 {
		return c.errorf("delete shard", id, refusal(resp))
	}
	return nil
}

// Walk implements blob.Store.Walk by paging through the node's inventory,
// PageSize shards at a time, each page under its own Timeout. fn runs
// after a page has been read, never while a request is open. A shard
// present for the whole walk is seen exactly once.
func (c *Client) Walk(ctx context.Context, fn func(id cid.Cid, size int64) error) error {
	after := cid.Undef
	for {
		page, next, err := c.Inventory(ctx, after, c.pageSize)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e.ID, e.Size); err != nil {
				return err
			}
		}
		if !next.Defined() {
			return nil
		}
		after = next
	}
}

// Inventory returns one page of the node's inventory: at most limit shards
// (1 to MaxPageSize) whose binary CIDs sort after after (cid.Undef: from
// the start), in that order, and the marker to pass as after for the next
// page, or cid.Undef when this page is the last. It checks that the page
// is well formed, complete and in order.
func (c *Client) Inventory(ctx context.Context, after cid.Cid, limit int) (page []ShardInfo, next cid.Cid, err error) {
	fail := func(err error) ([]ShardInfo, cid.Cid, error) {
		return nil, cid.Undef, fmt.Errorf("nodeapi: list shards on %s after %s: %w", c.base, markerString(after), err)
	}
	if limit < 1 || limit > MaxPageSize {
		return fail(fmt.Errorf("limit %d: want 1 to %d", limit, MaxPageSize))
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after.Defined() {
		q.Set("after", after.String())
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, pathShards, q.Encode(), nil, emptyBodyHash)
	if err != nil {
		return fail(ctxErr(ctx, err))
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return fail(refusal(resp))
	}
	page, next, err = parsePage(io.LimitReader(resp.Body, int64(limit+1)*maxLine), after, limit)
	if err != nil {
		return fail(ctxErr(ctx, err))
	}
	return page, next, nil
}

// parsePage reads an inventory page: "<cid> <size>" lines in increasing
// binary order past after, then "next <cid>" or "end".
func parsePage(r io.Reader, after cid.Cid, limit int) ([]ShardInfo, cid.Cid, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 128), maxLine)
	last := ""
	if after.Defined() {
		last = after.KeyString()
	}
	var page []ShardInfo
	for sc.Scan() {
		a, b, ok := strings.Cut(sc.Text(), " ")
		switch {
		case a == "end" && !ok:
			if sc.Scan() {
				return nil, cid.Undef, errors.New("malformed page: lines after the end")
			}
			return page, cid.Undef, sc.Err()
		case a == "next" && ok:
			next, err := cid.Decode(b)
			if err != nil {
				return nil, cid.Undef, fmt.Errorf("malformed page: next marker: %w", err)
			}
			// The marker must move on, or a broken node could loop Walk.
			if next.KeyString() < last || (after.Defined() && next.KeyString() <= after.KeyString()) {
				return nil, cid.Undef, errors.New("malformed page: the next marker does not advance")
			}
			if sc.Scan() {
				return nil, cid.Undef, errors.New("malformed page: lines after the next marker")
			}
			return page, next, sc.Err()
		case !ok:
			return nil, cid.Undef, fmt.Errorf("malformed page line %q", sc.Text())
		}
		id, err := cid.Decode(a)
		if err != nil {
			return nil, cid.Undef, fmt.Errorf("malformed page: %w", err)
		}
		size, err := strconv.ParseInt(b, 10, 64)
		if err != nil || size < 0 {
			return nil, cid.Undef, fmt.Errorf("malformed page: size %q", b)
		}
		if k := id.KeyString(); k > last {
			last = k
		} else {
			return nil, cid.Undef, fmt.Errorf("malformed page: %s out of order", id)
		}
		if len(page) == limit {
			return nil, cid.Undef, fmt.Errorf("malformed page: more than the %d shards asked for", limit)
		}
		page = append(page, ShardInfo{ID: id, Size: size})
	}
	if err := sc.Err(); err != nil {
		return nil, cid.Undef, fmt.Errorf("malformed page: %w", err)
	}
	return nil, cid.Undef, errors.New("truncated page: no end or next line")
}

// Usage implements blob.Store.Usage, from the node's status.
func (c *Client) Usage(ctx context.Context) (blob.Usage, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return blob.Usage{}, err
	}
	return st.Usage, nil
}

// Status returns what the node reports about itself.
func (c *Client) Status(ctx context.Context) (Status, error) {
	fail := func(err error) (Status, error) {
		return Status{}, fmt.Errorf("nodeapi: status of %s: %w", c.base, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, pathStatus, "", nil, emptyBodyHash)
	if err != nil {
		return fail(ctxErr(ctx, err))
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return fail(refusal(resp))
	}
	var j statusJSON
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSmallBody)).Decode(&j); err != nil {
		return fail(fmt.Errorf("malformed status: %w", ctxErr(ctx, err)))
	}
	return j.status(), nil
}

// do sends one signed request. The body, if any, is a bytes.Reader, so
// net/http can rewind it should it need to.
func (c *Client) do(ctx context.Context, method, path, query string, body []byte, bodyHash string) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := c.base + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if body != nil {
		// net/http may go on reading a request body after Do returns (when
		// the node answers before it has read it all); callers reuse their
		// buffers once this returns, so the transport's readers are cut
		// off from body first.
		g := &bodyGuard{data: body}
		defer g.release()
		req.Body, _ = g.open()
		req.GetBody = g.open
		req.ContentLength = int64(len(body))
		if len(body) == 0 {
			req.Body, req.GetBody = http.NoBody, nil
		}
	}
	if c.signer != nil {
		c.signer.Sign(req, bodyHash)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error repeats method and URL, which errorf already names.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}

// refusal turns a non-success response into an error: the sentinels by
// error code (status alone does not make a 404 a missing shard: a
// misrouted request must not look like data loss), any 401 as
// nodeauth.ErrUnauthorized, the rest as *RemoteError.
func refusal(resp *http.Response) error {
	e := &RemoteError{Status: resp.StatusCode, Code: resp.Header.Get(headerError)}
	if resp.Request == nil || resp.Request.Method != http.MethodHead {
		var j errorJSON
		if json.NewDecoder(io.LimitReader(resp.Body, maxSmallBody)).Decode(&j) == nil {
			e.Message = j.Message
		}
	}
	switch {
	case resp.StatusCode == http.StatusForbidden && e.Code == codeForbidden:
		return fmt.Errorf("%w: the node refused this node's certificate: %s", nodeauth.ErrUnauthorized, e.Message)
	case resp.StatusCode == http.StatusUnauthorized:
		why := strings.TrimPrefix(e.Message, nodeauth.ErrUnauthorized.Error()+": ")
		if why == "" {
			why = "no reason given"
		}
		return fmt.Errorf("%w: the node refused our signature (is the cluster secret the same, and are the clocks within %v?): %s",
			nodeauth.ErrUnauthorized, nodeauth.MaxSkew, why)
	case e.Code == codeNotFound && resp.StatusCode == http.StatusNotFound:
		return blob.ErrNotFound
	case e.Code == codeBadDigest, e.Code == codeShardCorrupt:
		return fmt.Errorf("%w: %w", blob.ErrCorrupt, e)
	case e.Code == codeTooLarge && resp.StatusCode == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w: %w", ErrTooLarge, e)
	}
	return e
}

// drain reads a little of what is left of a response, so that its
// connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// ctxErr makes sure an error caused by the call's context wraps the
// context's error (context.DeadlineExceeded when Timeout passed), whatever
// net/http reported.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// errorf wraps err with the call, the shard and the node.
func (c *Client) errorf(call string, id cid.Cid, err error) error {
	return fmt.Errorf("nodeapi: %s %s on %s: %w", call, id, c.base, err)
}

func checkID(id cid.Cid) error {
	if !id.Defined() {
		return errors.New("undefined CID")
	}
	return nil
}

func markerString(after cid.Cid) string {
	if !after.Defined() {
		return "the start"
	}
	return after.String()
}

// errBodyReleased is what a request body's reader returns once the call
// that sent it has returned.
var errBodyReleased = errors.New("nodeapi: request body read after the request ended")

// bodyGuard lends a caller's buffer to net/http as request bodies until
// release, after which every reader of it fails instead of reading memory
// the caller may be reusing.
type bodyGuard struct {
	mu       sync.Mutex
	data     []byte
	released bool
}

// open returns a new reader of the whole buffer (http.Request.GetBody).
func (g *bodyGuard) open() (io.ReadCloser, error) { return &guardedBody{g: g}, nil }

// release cuts every reader off; it waits for a read in progress.
func (g *bodyGuard) release() {
	g.mu.Lock()
	g.released = true
	g.mu.Unlock()
}

type guardedBody struct {
	g   *bodyGuard
	off int
}

func (b *guardedBody) Read(p []byte) (int, error) {
	b.g.mu.Lock()
	defer b.g.mu.Unlock()
	if b.g.released {
		return 0, errBodyReleased
	}
	if b.off >= len(b.g.data) {
		return 0, io.EOF
	}
	n := copy(p, b.g.data[b.off:])
	b.off += n
	return n, nil
}

// WriteTo writes the rest of the buffer to w in pieces, so that net/http
// sends it without copying it through a buffer of its own, and release
// waits for one piece at most.
func (b *guardedBody) WriteTo(w io.Writer) (int64, error) {
	const piece = 64 << 10
	var total int64
	for {
		b.g.mu.Lock()
		if b.g.released {
			b.g.mu.Unlock()
			return total, errBodyReleased
		}
		rest := b.g.data[b.off:]
		if len(rest) == 0 {
			b.g.mu.Unlock()
			return total, nil
		}
		n, err := w.Write(rest[:min(len(rest), piece)])
		b.off += n
		total += int64(n)
		b.g.mu.Unlock()
		if err != nil {
			return total, err
		}
	}
}

func (b *guardedBody) Close() error { return nil }
