package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxAnswer bounds the answer Client reads: an object's stat grows with
// its chunks (about a kilobyte per chunk).
const maxAnswer = 64 << 20

// Client calls the admin API of one node. Every method's deadline is its
// context's. Errors the node answers are *Error; a node that cannot be
// reached gives an error naming its URL. Safe for concurrent use.
type Client struct {
	base  string // scheme://host[:port][/path], no trailing slash
	token string
	http  *http.Client
}

// NewClient returns a client of the node at baseURL: "http://host:port"
// (or https, with an optional path prefix), or "host:port" for http.
// token is the admin token (admin.Token); hc nil means http.DefaultClient.
func NewClient(baseURL, token string, hc *http.Client) (*Client, error) {
	base, err := NormalizeURL(baseURL)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("admin: no token")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: base, token: token, http: hc}, nil
}

// NormalizeURL returns a node's base URL as Client uses it: a scheme
// (http when none is given), a host, and the path without its trailing
// slash.
func NormalizeURL(s string) (string, error) {
	raw := strings.TrimSpace(s)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("bad node URL %q: %w", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("bad node URL %q: want http://host:port or https://host:port", s)
	case u.Host == "":
		return "", fmt.Errorf("bad node URL %q: no host", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", fmt.Errorf("bad node URL %q: want only scheme, host, port and path", s)
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// URL returns the node's base URL.
func (c *Client) URL() string { return c.base }

// Status returns the cluster's status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	return call[*Status](ctx, c, http.MethodGet, "status")
}

// Nodes returns the node list: gossip's members and the layout's nodes.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	return call[[]Node](ctx, c, http.MethodGet, "nodes")
}

// Approve admits the alive storage node id into the layout.
func (c *Client) Approve(ctx context.Context, id string) (*LayoutChange, error) {
	return call[*LayoutChange](ctx, c, http.MethodPost, "nodes/"+seg(id)+"/approve")
}

// Remove marks node id removed in the layout: it takes no new shards.
func (c *Client) Remove(ctx context.Context, id string) (*LayoutChange, error) {
	return call[*LayoutChange](ctx, c, http.MethodPost, "nodes/"+seg(id)+"/remove")
}

// Drain marks node id draining in the layout: it takes no new shards, and
// healing moves those it holds to other nodes (HealStatus follows it).
// Draining a node already draining changes nothing.
func (c *Client) Drain(ctx context.Context, id string) (*LayoutChange, error) {
	return call[*LayoutChange](ctx, c, http.MethodPost, "nodes/"+seg(id)+"/drain")
}

// HealStatus returns the cluster's healing status: the metadata leader's
// healer's, whichever node is asked.
func (c *Client) HealStatus(ctx context.Context) (*HealStatus, error) {
	return call[*HealStatus](ctx, c, http.MethodGet, "heal")
}

// Kick asks the metadata leader's healer for a pass over the chunk table
// now, rather than at its next interval. It does not wait for the pass.
func (c *Client) Kick(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "heal/kick", nil)
}

// LocalHealStatus is HealStatus answered by the node's own healer, which
// it gives only while it leads the metadata group (else 503
// ServiceUnavailable). A node that is asked HealStatus uses it to reach
// the leader in one hop.
func (c *Client) LocalHealStatus(ctx context.Context) (*HealStatus, error) {
	return call[*HealStatus](ctx, c, http.MethodGet, "heal?"+LocalQuery)
}

// LocalKick is Kick for the node's own healer, as LocalHealStatus.
func (c *Client) LocalKick(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "heal/kick?"+LocalQuery, nil)
}

// SealStatus returns whether the seal migration is asked for, and the
// live stripes sealed and unsealed at the latest heal pass.
func (c *Client) SealStatus(ctx context.Context) (*SealStatus, error) {
	return call[*SealStatus](ctx, c, http.MethodGet, "seal")
}

// SealMigrate asks for the seal migration (a flag kept in the metadata:
// every heal pass from now on seals the live unsealed stripes it finds)
// and for a heal pass now. It does not wait for the migration: follow it
// with SealStatus.
func (c *Client) SealMigrate(ctx context.Context) (*SealStatus, error) {
	return call[*SealStatus](ctx, c, http.MethodPost, "seal/migrate")
}

// LocalQuery is the query of a heal request that only the node's own
// healer may answer (LocalHealStatus).
const LocalQuery = "local=true"

// Buckets lists the buckets.
func (c *Client) Buckets(ctx context.Context) ([]Bucket, error) {
	return call[[]Bucket](ctx, c, http.MethodGet, "buckets")
}

// CreateBucket creates a bucket.
func (c *Client) CreateBucket(ctx context.Context, name string) (*Bucket, error) {
	return call[*Bucket](ctx, c, http.MethodPut, "buckets/"+seg(name))
}

// DeleteBucket deletes an empty bucket.
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "buckets/"+seg(name), nil)
}

// Keys lists the access keys, without their secrets.
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	return call[[]Key](ctx, c, http.MethodGet, "keys")
}

// CreateKey creates an access key and returns it with its secret, which
// is never shown again. pol limits what it may do (nil: everything).
func (c *Client) CreateKey(ctx context.Context, pol *KeyPolicy) (*NewKey, error) {
	path := "keys"
	if pol != nil {
		q := url.Values{"policy": {pol.Access}}
		if pol.Bucket != "" {
			q.Set("bucket", pol.Bucket)
		}
		if pol.Prefix != "" {
			q.Set("prefix", pol.Prefix)
		}
		path += "?" + q.Encode()
	}
	return call[*NewKey](ctx, c, http.MethodPost, path)
}

// DeleteKey deletes an access key.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "keys/"+seg(id), nil)
}

// ObjectStat describes an object: its chunks, where each shard is placed
// and whether the node holds it. Any key can be named.
func (c *Client) ObjectStat(ctx context.Context, bucket, key string) (*Object, error) {
	return call[*Object](ctx, c, http.MethodGet, "objects/"+seg(bucket)+"/"+seg(key))
}

// call is do for an answer of type T.
func call[T any](ctx context.Context, c *Client, method, path string) (T, error) {
	var v T
	if err := c.do(ctx, method, path, &v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// seg percent-encodes s as one path segment: its slashes too, and dots,
// so that no segment is "." or ".." to be cleaned away on the way.
func seg(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ".", "%2E")
}

// do sends a request to path (below PathPrefix) and decodes a 2xx answer
// into out (nil: none expected).
func (c *Client) do(ctx context.Context, method, path string, out any) error {
	u := c.base + PathPrefix + path
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("admin: %s %s: %w", method, u, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("no answer from %s: %w", c.base, ctx.Err())
		}
		return fmt.Errorf("cannot reach the admin API at %s (check --node): %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", c.base, err)
	}
	if len(body) > maxAnswer {
		return fmt.Errorf("the answer of %s is over %d bytes", c.base, maxAnswer)
	}
	if resp.StatusCode/100 != 2 {
		return answerError(resp, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s answered %s %s with something that is not the admin API's JSON (is --node a Cairn node API?): %w", c.base, method, path, err)
	}
	return nil
}

// answerError returns the *Error of an error answer, which a server other
// than a Cairn node (a proxy) may give without the JSON body.
func answerError(resp *http.Response, body []byte) error {
	e := &Error{Status: resp.StatusCode}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil && eb.Code != "" {
		e.Code, e.Message = eb.Code, eb.Message
		return e
	}
	e.Code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
	e.Message = fmt.Sprintf("%s answered %d %s, not from the admin API (is --node a Cairn node API?)",
		resp.Request.URL.Redacted(), resp.StatusCode, http.StatusText(resp.StatusCode))
	return e
}
