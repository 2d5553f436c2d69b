package nodeapi

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/nodeauth"
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Store holds the node's shards. Required.
	Store blob.Store
	// Signer verifies that every request is signed with the cluster
	// secret. Authorize instead decides from the request's connection
	// (mutual TLS: r.TLS names the verified peer) whether to serve it;
	// an error refuses it with 403 and touches nothing. One of the two
	// is required.
	Signer    *nodeauth.Signer
	Authorize func(r *http.Request) error
	// NodeID is the node's stable ID, reported by status. Required.
	NodeID string
	// Zone is the node's failure domain, reported by status.
	Zone string
	// Weight is the node's placement weight, reported by status; it must
	// be finite and not negative.
	Weight float64
	// Logger receives refused requests (Warn) and internal errors
	// (Error). Nil discards.
	Logger *slog.Logger
	// MaxShardSize bounds a shard's size: a PUT whose declared length is
	// larger is refused (413) without reading its body, and no PUT body
	// is read past MaxShardSize+1 bytes. Zero means DefaultMaxShardSize.
	MaxShardSize int64
	// Observer, when set, is told about every shard PUT, GET, HEAD and
	// DELETE: its result, bytes and duration (observe.go). Nil observes
	// nothing.
	Observer ShardObserver
	// Scrub, when set, is the node's scrub, served on /v1/scrub. Nil:
	// that route answers 404 NoSuchRoute.
	Scrub Scrubbing
}

// Server serves one storage node's shards and status over HTTP, in the
// wire format of doc.go. It is an http.Handler for the paths /v1/shards,
// /v1/shards/ (and below), /v1/status and /v1/scrub; mounted on a mux beside other
// handlers, it must see the request path unchanged (no StripPrefix: the
// signature covers the path). Every request must be signed with the
// cluster secret: any other gets 401 and touches nothing. Safe for
// concurrent use.
type Server struct {
	store    blob.Store
	signer   *nodeauth.Signer
	authz    func(r *http.Request) error
	self     Status // without Usage
	log      *slog.Logger
	maxShard int64
	obs      ShardObserver // nil: observe nothing
	bufs     sync.Pool     // *[]byte, for shard bodies

	scrubbing Scrubbing // nil: none
}

// maxPooledBuf is the largest buffer the server keeps for reuse: shards
// are chunk/k (256 KiB by default); a rare big one is not kept.
const maxPooledBuf = 4 << 20

// NewServer returns a server for cfg, or an error for a bad config.
func NewServer(cfg ServerConfig) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("nodeapi: ServerConfig.Store is required")
	case (cfg.Signer == nil) == (cfg.Authorize == nil):
		return nil, errors.New("nodeapi: ServerConfig needs a Signer or an Authorize, and not both")
	case cfg.NodeID == "":
		return nil, errors.New("nodeapi: ServerConfig.NodeID is required")
	case cfg.Weight < 0 || math.IsNaN(cfg.Weight) || math.IsInf(cfg.Weight, 0):
		return nil, fmt.Errorf("nodeapi: ServerConfig.Weight %v: want a finite weight >= 0", cfg.Weight)
	case cfg.MaxShardSize < 0:
		return nil, fmt.Errorf("nodeapi: ServerConfig.MaxShardSize %d is negative", cfg.MaxShardSize)
	}
	if cfg.MaxShardSize == 0 {
		cfg.MaxShardSize = DefaultMaxShardSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		store:    cfg.Store,
		signer:   cfg.Signer,
		authz:    cfg.Authorize,
		self:     Status{NodeID: cfg.NodeID, Zone: cfg.Zone, Weight: cfg.Weight},
		log:      cfg.Logger,
		maxShard: cfg.MaxShardSize,
		obs:      cfg.Observer,

		scrubbing: cfg.Scrub,
	}, nil
}

// opKind is what a request asks for.
type opKind int

const (
	opNone opKind = iota // not parsed
	opPutShard
	opGetShard
	opHasShard
	opDeleteShard
	opInventory
	opStatus
	opScrubStatus
	opScrubStart
)

// op is a parsed request.
type op struct {
	kind  opKind
	id    cid.Cid // shard routes
	after cid.Cid // inventory: cid.Undef for the first page
	limit int     // inventory
}

// apiError is an error with its wire code and HTTP status.
type apiError struct {
	code   string
	status int
	msg    string
	allow  string // for 405
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{code: codeBadRequest, status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// parseOp turns method, path and query into an operation.
func parseOp(r *http.Request) (op, error) {
	path := r.URL.Path
	switch {
	case path == pathStatus:
		if r.Method != http.MethodGet {
			return op{}, methodNotAllowed("GET")
		}
		return op{kind: opStatus}, nil
	case path == pathScrub:
		switch r.Method {
		case http.MethodGet:
			return op{kind: opScrubStatus}, nil
		case http.MethodPost:
			return op{kind: opScrubStart}, nil
		}
		return op{}, methodNotAllowed("GET, POST")
	case path == pathShards:
		if r.Method != http.MethodGet {
			return op{}, methodNotAllowed("GET")
		}
		return parseInventory(r)
	case strings.HasPrefix(path, pathShard):
		id, err := cid.Decode(path[len(pathShard):])
		if err != nil {
			return op{}, badRequest("shard path %q: not a CID: %v", path, err)
		}
		o := op{id: id}
		switch r.Method {
		case http.MethodPut:
			o.kind = opPutShard
		case http.MethodGet:
			o.kind = opGetShard
		case http.MethodHead:
			o.kind = opHasShard
		case http.MethodDelete:
			o.kind = opDeleteShard
		default:
			return op{}, methodNotAllowed("PUT, GET, HEAD, DELETE")
		}
		return o, nil
	}
	return op{}, &apiError{code: codeNoSuchRoute, status: http.StatusNotFound, msg: "no such route: " + path}
}

func methodNotAllowed(allow string) error {
	return &apiError{code: codeMethod, status: http.StatusMethodNotAllowed, msg: "allowed: " + allow, allow: allow}
}

func parseInventory(r *http.Request) (op, error) {
	q := r.URL.Query()
	o := op{kind: opInventory, limit: DefaultPageSize}
	if s := q.Get("after"); s != "" {
		id, err := cid.Decode(s)
		if err != nil {
			return op{}, badRequest("after=%q: not a CID: %v", s, err)
		}
		o.after = id
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return op{}, badRequest("limit=%q: want a positive integer", s)
		}
		o.limit = min(n, MaxPageSize)
	}
	return o, nil
}

// ServeHTTP implements http.Handler: verify, parse, then dispatch; errors
// are written in one place, writeError; shard operations are reported to
// the Observer, if any.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var start time.Time
	if s.obs != nil {
		start = time.Now()
	}
	o, n, err := s.handle(w, r)
	if err != nil {
		s.writeError(w, r, err)
	}
	if s.obs != nil {
		if sop, ok := o.kind.shardOp(); ok {
			s.obs.ObserveShard(sop, ResultOf(err), n, time.Since(start))
		}
	}
}

// handle serves one request and returns its operation (kind opNone if
// the request did not parse), the shard bytes received or sent, and the
// error for writeError.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) (op, int64, error) {
	if s.authz != nil {
		// The connection authenticates the peer and protects the bytes
		// (mutual TLS): there is no signature, and no body hash to check.
		if err := s.authz(r); err != nil {
			s.log.Warn("nodeapi: refused a request", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "err", err)
			o, _ := parseOp(r)
			return o, 0, &apiError{code: codeForbidden, status: http.StatusForbidden, msg: err.Error()}
		}
		o, err := parseOp(r)
		if err != nil {
			return o, 0, err
		}
		n, err := s.serve(w, r, o, nodeauth.UnsignedPayload)
		return o, n, err
	}
	bodyHash, err := s.signer.Verify(r)
	if err != nil {
		s.log.Warn("nodeapi: refused a request not signed with the cluster secret",
			"remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "err", err)
		// Parsed only to count the refusal under its operation: parsing
		// reads the method, path and query, and touches nothing.
		o, _ := parseOp(r)
		return o, 0, &apiError{code: codeUnauthorized, status: http.StatusUnauthorized, msg: err.Error()}
	}
	o, err := parseOp(r)
	if err == nil {
		err = checkBodyHash(o, bodyHash)
	}
	if err != nil {
		return o, 0, err
	}
	n, err := s.serve(w, r, o, bodyHash)
	return o, n, err
}

// checkBodyHash enforces what the signature must say about the body: a
// shard PUT may go unsigned only when its CID authenticates it; other
// requests have no body, and their signed hash must say so.
func checkBodyHash(o op, bodyHash string) error {
	if o.kind == opPutShard {
		if bodyHash == nodeauth.UnsignedPayload && !bodyAuthenticatedByCID(o.id) {
			return &apiError{code: codeUnauthorized, status: http.StatusUnauthorized,
				msg: fmt.Sprintf("%v: the body of a shard with CID %s must be signed", nodeauth.ErrUnauthorized, o.id)}
		}
		return nil
	}
	if bodyHash != emptyBodyHash && bodyHash != nodeauth.UnsignedPayload {
		return badRequest("this request takes no body, but its signed body hash is not empty")
	}
	return nil
}

// serve runs a parsed request; it returns the shard bytes received (PUT)
// or sent (GET).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, o op, bodyHash string) (int64, error) {
	switch o.kind {
	case opPutShard:
		return s.putShard(w, r, o, bodyHash)
	case opGetShard:
		return s.getShard(w, r, o)
	case opHasShard:
		ok, err := s.store.Has(r.Context(), o.id)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, blob.ErrNotFound
		}
		w.WriteHeader(http.StatusOK)
		return 0, nil
	case opDeleteShard:
		if err := s.store.Delete(r.Context(), o.id); err != nil {
			return 0, err
		}
		w.WriteHeader(http.StatusNoContent)
		return 0, nil
	case opInventory:
		return 0, s.inventory(w, r, o)
	case opStatus:
		u, err := s.store.Usage(r.Context())
		if err != nil {
			return 0, err
		}
		st := s.self
		st.Usage = u
		w.Header().Set("Content-Type", contentTypeJSON)
		return 0, json.NewEncoder(w).Encode(st.toJSON())
	case opScrubStatus, opScrubStart:
		return 0, s.scrub(w, o)
	}
	return 0, fmt.Errorf("nodeapi: unhandled op %d", o.kind)
}

func (s *Server) getBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		s.bufs.Put(b)
	}
}

func (s *Server) putShard(w http.ResponseWriter, r *http.Request, o op, bodyHash string) (int64, error) {
	if r.ContentLength > s.maxShard {
		return 0, &apiError{code: codeTooLarge, status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("a %d-byte shard is over this node's maximum of %d", r.ContentLength, s.maxShard)}
	}
	bp := s.getBuf()
	defer s.putBuf(bp)
	// MaxBytesReader also makes the server close the connection after a
	// refusal rather than read the rest of a huge body.
	data, err := readLimited(http.MaxBytesReader(w, r.Body, s.maxShard), *bp, r.ContentLength, s.maxShard)
	*bp = data[:0]
	n := int64(len(data))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok || errors.Is(err, ErrTooLarge) {
			return n, &apiError{code: codeTooLarge, status: http.StatusRequestEntityTooLarge,
				msg: fmt.Sprintf("shard body over this node's maximum of %d bytes", s.maxShard)}
		}
		return n, badRequest("reading the shard body: %v", err)
	}
	if bodyHash != nodeauth.UnsignedPayload && !nodeauth.BodyMatches(data, bodyHash) {
		return n, &apiError{code: codeUnauthorized, status: http.StatusUnauthorized,
			msg: fmt.Sprintf("%v: the body does not match its signed hash", nodeauth.ErrUnauthorized)}
	}
	if err := s.store.Put(r.Context(), o.id, data); err != nil {
		if errors.Is(err, blob.ErrCorrupt) {
			return n, &apiError{code: codeBadDigest, status: http.StatusBadRequest,
				msg: fmt.Sprintf("the body does not hash to %s", o.id)}
		}
		return n, err
	}
	w.WriteHeader(http.StatusNoContent)
	return n, nil
}

func (s *Server) getShard(w http.ResponseWriter, r *http.Request, o op) (int64, error) {
	bp := s.getBuf()
	defer s.putBuf(bp)
	data, err := s.store.Get(r.Context(), o.id, *bp)
	*bp = data[:0]
	if err != nil {
		if errors.Is(err, blob.ErrCorrupt) {
			s.log.Warn("nodeapi: a stored shard failed verification", "cid", o.id, "err", err)
			return 0, &apiError{code: codeShardCorrupt, status: http.StatusInternalServerError,
				msg: fmt.Sprintf("the stored copy of %s was corrupt and has been quarantined", o.id)}
		}
		return 0, err
	}
	h := w.Header()
	h.Set("Content-Type", contentTypeBinary)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	n, err := w.Write(data)
	if err != nil {
		s.log.Debug("nodeapi: writing a shard response", "cid", o.id, "err", err)
	}
	return int64(n), nil
}

// inventory answers one page: the shards whose binary CIDs sort after
// o.after, in bytewise order, at most o.limit of them.
//
// blob.Store.Walk has no starting point and no order, so every page walks
// the whole store and keeps the o.limit+1 smallest keys past the marker in
// a bounded heap: O(N log limit) time and O(limit) memory per page, and
// O(N²/limit) stats to list a store of N shards in full. Fine for now;
// when stores grow, a Store that walks in CID order from a marker would
// make it O(N).
func (s *Server) inventory(w http.ResponseWriter, r *http.Request, o op) error {
	after := ""
	if o.after.Defined() {
		after = o.after.KeyString()
	}
	h := make(infoHeap, 0, o.limit+1)
	err := s.store.Walk(r.Context(), func(id cid.Cid, size int64) error {
		k := id.KeyString()
		switch {
		case k <= after:
		case len(h) <= o.limit:
			heap.Push(&h, ShardInfo{ID: id, Size: size})
		case k < h[0].ID.KeyString():
			h[0] = ShardInfo{ID: id, Size: size}
			heap.Fix(&h, 0)
		}
		return nil
	})
	if err != nil {
		return err
	}
	page := []ShardInfo(h)
	slices.SortFunc(page, func(a, b ShardInfo) int { return strings.Compare(a.ID.KeyString(), b.ID.KeyString()) })
	more := len(page) > o.limit
	if more {
		page = page[:o.limit]
	}
	w.Header().Set("Content-Type", contentTypeText)
	bw := bufio.NewWriter(w)
	for _, e := range page {
		bw.WriteString(e.ID.String())
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatInt(e.Size, 10))
		bw.WriteByte('\n')
	}
	if more {
		fmt.Fprintf(bw, "next %s\n", page[len(page)-1].ID)
	} else {
		bw.WriteString("end\n")
	}
	if err := bw.Flush(); err != nil {
		s.log.Debug("nodeapi: writing an inventory page", "err", err)
	}
	return nil
}

// infoHeap is a max-heap of shards by binary CID.
type infoHeap []ShardInfo

func (h infoHeap) Len() int           { return len(h) }
func (h infoHeap) Less(i, j int) bool { return h[i].ID.KeyString() > h[j].ID.KeyString() }
func (h infoHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *infoHeap) Push(x any)        { *h = append(*h, x.(ShardInfo)) }
func (h *infoHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// writeError is the one place that turns an error into a response: the
// code in X-Cairn-Error and a JSON body {"code", "message"}. Errors
// without a code are InternalError, with their detail only in the log.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errors.AsType[*apiError](err)
	switch {
	case ok:
	case errors.Is(err, blob.ErrNotFound):
		e = &apiError{code: codeNotFound, status: http.StatusNotFound, msg: "shard not found"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e = &apiError{code: codeUnavailable, status: http.StatusServiceUnavailable, msg: "request canceled"}
	default:
		s.log.Error("nodeapi: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &apiError{code: codeInternal, status: http.StatusInternalServerError, msg: "internal error; see the node's log"}
	}
	h := w.Header()
	h.Set(headerError, e.code)
	h.Set("Content-Type", contentTypeJSON)
	h.Set("X-Content-Type-Options", "nosniff")
	if e.allow != "" {
		h.Set("Allow", e.allow)
	}
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(errorJSON{Code: e.code, Message: e.msg})
	}
}
