package admin

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/admin/adminapi"
	"cairn/internal/cluster"
	"cairn/internal/metarpc"
	"cairn/internal/nodeapi"
)

// MaxBody bounds a request's body. No route reads one; the bound keeps a
// client from making the server drain a large one. It is part of the wire
// format that package adminapi documents (1 MiB).
const MaxBody = 1 << 20

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 5 * time.Second

// fanOut bounds the calls to storage nodes one request has in flight.
const fanOut = 16

// Membership is this node's gossip view. *cluster.Cluster satisfies it.
type Membership interface {
	// Members returns every member gossip knows, self included.
	Members() []cluster.Member
}

// NodeClient is what the admin API needs of a storage node;
// *nodeapi.Client satisfies it. Every call must honour ctx's deadline.
type NodeClient interface {
	Status(ctx context.Context) (nodeapi.Status, error)
	Has(ctx context.Context, id cid.Cid) (bool, error)
	// ScrubStatus and StartScrub reach the node's scrub (nodeapi's
	// /v1/scrub).
	ScrubStatus(ctx context.Context) (nodeapi.ScrubStatus, error)
	StartScrub(ctx context.Context) (started bool, st nodeapi.ScrubStatus, err error)
}

var (
	_ Membership = (*cluster.Cluster)(nil)
	_ NodeClient = (*nodeapi.Client)(nil)
)

// Config configures a Server. Meta, Members, Nodes and Token are
// required; the rest have defaults.
type Config struct {
	// Meta is the metadata store: a metarpc.Client, which forwards to the
	// raft leader, in production; a *meta.Store in tests.
	Meta metarpc.API
	// Members is this node's gossip view, for the node list and for
	// approving nodes.
	Members Membership
	// Nodes reaches a storage node by ID; it returns an error when the
	// node is unknown or down. Its result is used for one call and may be
	// shared between requests.
	Nodes func(nodeID string) (NodeClient, error)
	// Token is what requests must carry (Authorization: Bearer); see
	// Token.
	Token string
	// K and M are the data and parity shards of new stripes: status
	// reports them, and warns when the layout cannot spread k+m shards
	// so that losing a zone keeps k of them.
	K, M int
	// Timeout bounds every call made for a request: to the metadata
	// store and to each storage node. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger logs failed requests (500s with their cause). Nil discards.
	Logger *slog.Logger
	// Now is the clock for bucket and key creation times. Nil: time.Now.
	Now func() time.Time
	// Leader, when set, names the metadata Raft leader as this node knows
	// it ("" when it knows none): set on meta nodes.
	Leader func() string
	// Heal reaches the cluster's healer, for GET heal, POST heal/kick,
	// the healing part of status and the counts of GET seal. Nil: those
	// answer 503.
	Heal Healing
	// Invite makes join invites (POST invites) for storage nodes in a
	// zone, valid for a while. Nil: that route answers 503.
	Invite func(ctx context.Context, zone, nodeID string, ttl time.Duration) (*adminapi.Invite, error)
}

// Validate reports the first thing wrong with c.
func (c *Config) Validate() error {
	switch {
	case c.Meta == nil:
		return errors.New("admin: Config.Meta is required")
	case c.Members == nil:
		return errors.New("admin: Config.Members is required")
	case c.Nodes == nil:
		return errors.New("admin: Config.Nodes is required")
	case c.Token == "":
		return errors.New("admin: Config.Token is required (see admin.Token)")
	case c.K < 1 || c.M < 0 || c.K+c.M > 256:
		return fmt.Errorf("admin: bad stripe %d+%d: want k>=1, m>=0, k+m<=256", c.K, c.M)
	case c.Timeout < 0:
		return fmt.Errorf("admin: Config.Timeout %v is negative", c.Timeout)
	}
	return nil
}

// Server serves the admin API (package adminapi documents it). It is an
// http.Handler, safe for concurrent use, and holds no state between
// requests.
type Server struct {
	cfg   Config
	log   *slog.Logger
	token [sha256.Size]byte
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a server for cfg, or an error for a bad config.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token))}, nil
}

// opKind is what a request asks for.
type opKind int

const (
	opStatus opKind = iota
	opNodes
	opApprove
	opRemove
	opDrain
	opHeal
	opKick
	opBuckets
	opCreateBucket
	opDeleteBucket
	opKeys
	opCreateKey
	opDeleteKey
	opObject
	opScrubStatus
	opScrubStart
	opInvite
	opSealStatus
	opSealMigrate
)

// op is a parsed request: what it asks for, and about what.
type op struct {
	kind  opKind
	name  string // node ID, bucket name or access key ID
	key   string // object key
	local bool   // heal: this node's healer only
}

// ServeHTTP checks the token, parses the request into an op and serves
// it; every error answer is written by writeError.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !authorized(r, s.token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cairn admin"`)
		s.writeError(w, r, errUnauthorized)
		return
	}
	if r.ContentLength > MaxBody {
		s.writeError(w, r, newError(http.StatusRequestEntityTooLarge, adminapi.CodeRequestTooLarge, "request body over %d bytes", MaxBody))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	o, err := parseOp(r)
	if err == nil {
		err = s.serve(w, r, o)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// parseOp turns a request's method and path into an op. It reads the
// escaped path, so that a percent-encoded slash stays inside its segment.
func parseOp(r *http.Request) (op, error) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), adminapi.PathPrefix)
	if !ok {
		return op{}, noRoute(r)
	}
	resource, rest, _ := strings.Cut(rest, "/")
	method := func(o op, allowed ...string) (op, error) {
		for _, m := range allowed {
			if r.Method == m {
				return o, nil
			}
		}
		return op{}, &methodError{allow: strings.Join(allowed, ", ")}
	}
	switch resource {
	case "status":
		if rest == "" {
			return method(op{kind: opStatus}, http.MethodGet)
		}
	case "nodes":
		if rest == "" {
			return method(op{kind: opNodes}, http.MethodGet)
		}
		id, verb, _ := strings.Cut(rest, "/")
		name, err := segment(id, "node ID")
		if err != nil {
			return op{}, err
		}
		switch verb {
		case "approve":
			return method(op{kind: opApprove, name: name}, http.MethodPost)
		case "remove":
			return method(op{kind: opRemove, name: name}, http.MethodPost)
		case "drain":
			return method(op{kind: opDrain, name: name}, http.MethodPost)
		}
	case "heal":
		local, err := localParam(r)
		if err != nil {
			return op{}, err
		}
		switch rest {
		case "":
			return method(op{kind: opHeal, local: local}, http.MethodGet)
		case "kick":
			return method(op{kind: opKick, local: local}, http.MethodPost)
		}
	case "buckets":
		if rest == "" {
			return method(op{kind: opBuckets}, http.MethodGet)
		}
		name, err := segment(rest, "bucket name")
		if err != nil {
			return op{}, err
		}
		switch r.Method {
		case http.MethodPut:
			return op{kind: opCreateBucket, name: name}, nil
		case http.MethodDelete:
			return op{kind: opDeleteBucket, name: name}, nil
		}
		return method(op{}, http.MethodPut, http.MethodDelete)
	case "keys":
		if rest == "" {
			if r.Method == http.MethodPost {
				return op{kind: opCreateKey}, nil
			}
			return method(op{kind: opKeys}, http.MethodGet, http.MethodPost)
		}
		id, err := segment(rest, "access key ID")
		if err != nil {
			return op{}, err
		}
		return method(op{kind: opDeleteKey, name: id}, http.MethodDelete)
	case "objects":
		b, k, ok := strings.Cut(rest, "/")
		if !ok || b == "" || k == "" {
			return op{}, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "want objects/{bucket}/{key}, the key percent-encoded")
		}
		bucket, err := segment(b, "bucket name")
		if err != nil {
			return op{}, err
		}
		key, err := url.PathUnescape(k)
		if err != nil {
			return op{}, newError(http.StatusBadRequest, adminapi.CodeBadRequest, "bad percent-encoding in the object key: %v", err)
		}
		return method(op{kind: opObject, name: bucket, key: key}, http.MethodGet)
	case "invites":
		if rest == "" {
			return method(op{kind: opInvite}, http.MethodPost)
		}
	case "seal":
		switch rest {
		case "":
			return method(op{kind: opSealStatus}, http.MethodGet)
		case "migrate":
			return method(op{kind: opSealMigrate}, http.MethodPost)
		}
	case "scrub":
		if rest == "" {
			if r.Method == http.MethodPost {
				return op{kind: opScrubStart}, nil
			}
			return method(op{kind: opScrubStatus}, http.MethodGet, http.MethodPost)
		}
	}
	return op{}, noRoute(r)
}

// segment unescapes one path segment naming what.
func segment(s, what string) (string, error) {
	v, err := url.PathUnescape(s)
	if err != nil || v == "" || strings.Contains(s, "/") {
		return "", newError(http.StatusBadRequest, adminapi.CodeBadRequest, "bad %s %q in the path", what, s)
	}
	return v, nil
}

func noRoute(r *http.Request) error {
	return newError(http.StatusNotFound, adminapi.CodeNoSuchRoute, "no admin route %s %s", r.Method, r.URL.EscapedPath())
}

// methodError is a known path asked with a method it does not take.
type methodError struct{ allow string }

func (e *methodError) Error() string { return "method not allowed; allowed: " + e.allow }

// serve dispatches o to its handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, o op) error {
	ctx := r.Context()
	switch o.kind {
	case opStatus:
		st, err := s.status(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, st)
	case opNodes:
		nodes, _, err := s.nodes(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, nodes)
	case opApprove:
		ch, err := s.approve(ctx, o.name)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, ch)
	case opRemove:
		ch, err := s.remove(ctx, o.name)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, ch)
	case opDrain:
		ch, err := s.drain(ctx, o.name)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, ch)
	case opHeal:
		hs, err := s.healStatus(ctx, o.local)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, hs)
	case opKick:
		if err := s.kick(ctx, o.local); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusAccepted)
		return nil
	case opBuckets:
		bs, err := s.buckets(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, bs)
	case opCreateBucket:
		b, err := s.createBucket(ctx, o.name)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusCreated, b)
	case opDeleteBucket:
		if err := s.deleteBucket(ctx, o.name); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case opKeys:
		ks, err := s.keys(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, ks)
	case opCreateKey:
		pol, err := keyPolicyParams(r)
		if err != nil {
			return err
		}
		k, err := s.createKey(ctx, pol)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusCreated, k)
	case opDeleteKey:
		if err := s.deleteKey(ctx, o.name); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case opObject:
		obj, err := s.object(ctx, o.name, o.key)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, obj)
	case opInvite:
		inv, err := s.invite(r)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, inv)
	case opScrubStatus:
		sc, err := s.scrubStatus(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, sc)
	case opScrubStart:
		sc, err := s.scrubStart(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusAccepted, sc)
	case opSealStatus:
		ss, err := s.sealStatus(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusOK, ss)
	case opSealMigrate:
		ss, err := s.sealMigrate(ctx)
		if err != nil {
			return err
		}
		return s.writeJSON(w, http.StatusAccepted, ss)
	}
	return fmt.Errorf("admin: op kind %d has no handler", o.kind)
}

// call bounds one outbound call: the request's context and the timeout.
func (s *Server) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("admin: encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// writeError is the one place that writes error answers.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var me *methodError
	if errors.As(err, &me) {
		w.Header().Set("Allow", me.allow)
		err = newError(http.StatusMethodNotAllowed, adminapi.CodeMethodNotAllowed, "%s %s: %s", r.Method, r.URL.EscapedPath(), me.Error())
	}
	ae := fail(err, "")
	switch {
	case ae.status >= 500:
		s.log.Error("admin request failed", "method", r.Method, "path", r.URL.EscapedPath(), "code", ae.code, "err", err)
	case ae.status != http.StatusUnauthorized:
		s.log.Debug("admin request refused", "method", r.Method, "path", r.URL.EscapedPath(), "code", ae.code, "err", err)
	}
	b, _ := json.Marshal(adminapi.ErrorBody{Code: ae.code, Message: ae.msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ae.status)
	_, _ = w.Write(append(b, '\n'))
}
