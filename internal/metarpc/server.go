package metarpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"cairn/internal/meta"
	"cairn/internal/nodeauth"
)

// DefaultMaxBody is the default bound on a request body (server) and an
// answer body (client): the manifest of a very large object is big.
const DefaultMaxBody = 256 << 20

// ServerConfig configures NewServer.
type ServerConfig struct {
	// Store is the metadata raft member the server serves. Required. On a
	// follower every call is answered NotLeader, naming the leader when
	// the store knows it.
	Store *meta.Store

	// Signer verifies that each request is signed with the cluster
	// secret. Required.
	Signer *nodeauth.Signer
	// Authorize, instead of Signer, decides from the request's connection
	// (mutual TLS) whether to serve it; an error refuses it (401). One of
	// the two is required.
	Authorize func(r *http.Request) error

	// Logger receives refusals (unauthenticated or malformed requests),
	// internal errors and writes whose outcome is unknown. Nil discards.
	Logger *slog.Logger

	// MaxBody bounds a request body; a larger one is refused (413)
	// unread. Default DefaultMaxBody.
	MaxBody int64

	// LeaderAPI, if set, maps the leader's raft address to its node API
	// base URL (http://host:port), or "" if unknown. A NotLeader answer
	// then carries that URL, and clients go straight there. Optional.
	LeaderAPI func(raftAddr string) string
}

// Server serves a meta.Store to Clients: an http.Handler that answers
// POST /v1/meta/{method} (mount it at PathPrefix). Safe for concurrent
// use.
type Server struct {
	api       API
	signer    *nodeauth.Signer
	authz     func(r *http.Request) error
	log       *slog.Logger
	maxBody   int64
	leaderAPI func(string) string
	handlers  map[string]handler
}

// handler decodes a request body, calls the store and returns the result
// to encode.
type handler func(ctx context.Context, api API, body []byte) (any, error)

// NewServer returns a server for cfg.Store.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("metarpc: ServerConfig.Store is required")
	}
	return newServer(cfg, cfg.Store)
}

// newServer serves api, which tests may fake.
func newServer(cfg ServerConfig, api API) (*Server, error) {
	if (cfg.Signer == nil) == (cfg.Authorize == nil) {
		return nil, errors.New("metarpc: ServerConfig needs a Signer or an Authorize, and not both")
	}
	if cfg.MaxBody < 0 {
		return nil, fmt.Errorf("metarpc: ServerConfig.MaxBody %d is negative", cfg.MaxBody)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{api: api, signer: cfg.Signer, authz: cfg.Authorize, log: log, maxBody: cfg.MaxBody,
		leaderAPI: cfg.LeaderAPI, handlers: handlers()}, nil
}

// ServeHTTP answers one call: it checks the signature (refusing an
// unsigned request before anything else), reads the body (at most
// MaxBody) and checks it against the signed hash, then decodes the
// arguments, calls the store and writes the result or the error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutPrefix(r.URL.Path, PathPrefix)
	var hash string
	var err error
	if s.authz != nil {
		if err = s.authz(r); err != nil {
			err = fmt.Errorf("%w: %w", nodeauth.ErrUnauthorized, err)
		}
	} else if hash, err = s.signer.Verify(r); err == nil && hash == nodeauth.UnsignedPayload {
		err = fmt.Errorf("%w: metadata calls must sign their body", nodeauth.ErrUnauthorized)
	}
	if err != nil {
		s.fail(w, r, name, err)
		return
	}
	h, ok := s.handlers[name]
	switch {
	case !strings.HasPrefix(r.URL.Path, PathPrefix):
		err = &protocolError{codeUnknownMethod, http.StatusNotFound, "no such path " + r.URL.Path}
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		err = &protocolError{codeBadMethod, http.StatusMethodNotAllowed, r.Method + " not allowed, only POST"}
	case !ok:
		err = &protocolError{codeUnknownMethod, http.StatusNotFound, "no method " + strconv.Quote(name) + " in version 1"}
	}
	if err != nil {
		s.fail(w, r, name, err)
		return
	}
	body, err := s.readBody(w, r, hash)
	if err != nil {
		s.fail(w, r, name, err)
		return
	}
	res, err := h(r.Context(), s.api, body)
	if err != nil {
		s.fail(w, r, name, err)
		return
	}
	out, err := json.Marshal(res)
	if err != nil {
		s.fail(w, r, name, fmt.Errorf("metarpc: encode %s result: %w", name, err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// readBody returns r's body, at most MaxBody bytes, once it matches the
// signed hash.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, hash string) ([]byte, error) {
	if r.ContentLength > s.maxBody {
		return nil, tooLarge(r.ContentLength, s.maxBody)
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, s.maxBody), r.ContentLength)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, tooLarge(-1, s.maxBody)
		}
		return nil, badRequest("read body: %v", err)
	}
	if s.authz == nil && nodeauth.BodyHash(body) != hash {
		return nil, fmt.Errorf("%w: body does not match its signed hash", nodeauth.ErrUnauthorized)
	}
	return body, nil
}

// readAll reads r to its end, into one allocation when n, the length
// announced, is known (n >= 0); net/http's server never reads a body past
// its Content-Length.
func readAll(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

func tooLarge(n, limit int64) error {
	msg := fmt.Sprintf("body larger than %d bytes", limit)
	if n >= 0 {
		msg = fmt.Sprintf("body of %d bytes is larger than %d", n, limit)
	}
	return &protocolError{codeTooLarge, http.StatusRequestEntityTooLarge, msg}
}

// fail answers err: its code and status from the error table, its
// message, and the leader for NotLeader.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, name string, err error) {
	we, status := toWire(err, s.leaderAPI)
	level, msg := slog.LevelWarn, ""
	switch we.Code {
	case codeUnauthorized:
		msg = "metarpc: refused unauthenticated request"
	case codeBadRequest, codeTooLarge, codeUnknownMethod, codeBadMethod:
		msg = "metarpc: refused request"
	case codeInternal:
		level, msg = slog.LevelError, "metarpc: call failed"
	case codeOutcomeUnknown, codeDeadline:
		msg = "metarpc: call outcome unknown"
	case codeCanceled:
		level, msg = slog.LevelDebug, "metarpc: call canceled"
	}
	if msg != "" {
		s.log.Log(r.Context(), level, msg, "method", name, "remote", r.RemoteAddr, "err", err)
	}
	out, mErr := json.Marshal(&errorBody{Error: we})
	if mErr != nil { // cannot happen: strings only
		out = []byte(`{"error":{"code":"InternalError","message":"cannot encode the error"}}`)
	}
	writeJSON(w, status, out)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decode returns a handler that decodes a Req and calls fn with it.
func decode[Req any](fn func(ctx context.Context, api API, req *Req) (any, error)) handler {
	return func(ctx context.Context, api API, body []byte) (any, error) {
		req := new(Req)
		if err := json.Unmarshal(body, req); err != nil {
			return nil, badRequest("decode arguments: %v", err)
		}
		return fn(ctx, api, req)
	}
}

// write returns the handler of a write: a method with no result.
func write[Req any](fn func(ctx context.Context, api API, req *Req) error) handler {
	return decode(func(ctx context.Context, api API, req *Req) (any, error) {
		if err := fn(ctx, api, req); err != nil {
			return nil, err
		}
		return noResult{}, nil
	})
}

// handlers returns the methods of version 1 by name.
func handlers() map[string]handler {
	hs := map[string]handler{
		mCreateBucket.name: write(func(ctx context.Context, api API, r *createBucketReq) error {
			return api.CreateBucket(ctx, r.Name, r.Now)
		}),
		mDeleteBucket.name: write(func(ctx context.Context, api API, r *bucketReq) error {
			return api.DeleteBucket(ctx, r.Name)
		}),
		mGetBucket.name: decode(func(ctx context.Context, api API, r *bucketReq) (any, error) {
			b, err := api.GetBucket(ctx, r.Name)
			return &bucketResult{b}, err
		}),
		mListBuckets.name: decode(func(ctx context.Context, api API, _ *noArgs) (any, error) {
			bs, err := api.ListBuckets(ctx)
			return &bucketsResult{bs}, err
		}),
		mPutObject.name: decode(func(ctx context.Context, api API, r *objectReq) (any, error) {
			if err := api.PutObject(ctx, r.Object); err != nil {
				return nil, err
			}
			return &versionResult{r.Object.VersionID}, nil
		}),
		mGetObject.name: decode(func(ctx context.Context, api API, r *objectKeyReq) (any, error) {
			o, err := api.GetObject(ctx, r.Bucket, r.Key)
			return &objectResult{o}, err
		}),
		mDeleteObjects.name: write(func(ctx context.Context, api API, r *deleteObjectsReq) error {
			return api.DeleteObjects(ctx, r.Bucket, r.Keys)
		}),
		mListObjects.name: decode(func(ctx context.Context, api API, r *listObjectsReq) (any, error) {
			res, err := api.ListObjects(ctx, r.Bucket, r.Query.meta())
			if err != nil {
				return nil, err
			}
			return toListObjectsResult(res), nil
		}),
		mCreateUpload.name: write(func(ctx context.Context, api API, r *uploadReq) error {
			return api.CreateUpload(ctx, r.Upload)
		}),
		mGetUpload.name: decode(func(ctx context.Context, api API, r *uploadIDReq) (any, error) {
			u, err := api.GetUpload(ctx, r.Bucket, r.Key, r.ID)
			return &uploadResult{u}, err
		}),
		mPutPart.name: write(func(ctx context.Context, api API, r *putPartReq) error {
			return api.PutPart(ctx, r.Bucket, r.Key, r.ID, r.Part)
		}),
		mListParts.name: decode(func(ctx context.Context, api API, r *listPartsReq) (any, error) {
			ps, truncated, err := api.ListParts(ctx, r.Bucket, r.Key, r.ID, r.Marker, r.Limit)
			return &listPartsResult{ps, truncated}, err
		}),
		mCompleteUpload.name: decode(func(ctx context.Context, api API, r *completeUploadReq) (any, error) {
			if err := api.CompleteUpload(ctx, r.ID, metaPartRefs(r.Parts), r.Object); err != nil {
				return nil, err
			}
			return &versionResult{r.Object.VersionID}, nil
		}),
		mAbortUpload.name: write(func(ctx context.Context, api API, r *uploadIDReq) error {
			return api.AbortUpload(ctx, r.Bucket, r.Key, r.ID)
		}),
		mListUploads.name: decode(func(ctx context.Context, api API, r *listUploadsReq) (any, error) {
			res, err := api.ListUploads(ctx, r.Bucket, r.Query.meta())
			if err != nil {
				return nil, err
			}
			return toListUploadsResult(res), nil
		}),
		mPutKey.name: write(func(ctx context.Context, api API, r *keyReq) error {
			return api.PutKey(ctx, r.Key)
		}),
		mGetKey.name: decode(func(ctx context.Context, api API, r *keyIDReq) (any, error) {
			k, err := api.GetKey(ctx, r.ID)
			return &keyResult{k}, err
		}),
		mListKeys.name: decode(func(ctx context.Context, api API, _ *noArgs) (any, error) {
			ks, err := api.ListKeys(ctx)
			return &keysResult{ks}, err
		}),
		mDeleteKey.name: write(func(ctx context.Context, api API, r *keyIDReq) error {
			return api.DeleteKey(ctx, r.ID)
		}),
		mSetLayout.name: write(func(ctx context.Context, api API, r *layoutReq) error {
			return api.SetLayout(ctx, r.Layout)
		}),
		mLayout.name: decode(func(ctx context.Context, api API, _ *noArgs) (any, error) {
			l, err := api.Layout(ctx)
			return &layoutResult{l}, err
		}),
		mLayoutVersion.name: decode(func(ctx context.Context, api API, r *layoutVersionReq) (any, error) {
			l, err := api.LayoutVersion(ctx, r.Version)
			return &layoutResult{l}, err
		}),
		mGarbage.name: decode(func(ctx context.Context, api API, r *garbageReq) (any, error) {
			g, err := api.Garbage(ctx, r.OlderThan, r.Limit)
			return &garbageResult{toGarbage(g)}, err
		}),
		mForgetGarbage.name: write(func(ctx context.Context, api API, r *forgetGarbageReq) error {
			return api.ForgetGarbage(ctx, r.CIDs)
		}),
		mChunkRefs.name: decode(func(ctx context.Context, api API, r *chunkRefsReq) (any, error) {
			n, err := api.ChunkRefs(ctx, r.CID)
			return &chunkRefsResult{n}, err
		}),
		mCollect.name: write(func(ctx context.Context, api API, r *collectReq) error {
			return api.Collect(ctx, r.CIDs, r.OlderThan)
		}),
		mChunk.name: decode(func(ctx context.Context, api API, r *chunkRefsReq) (any, error) {
			c, err := api.Chunk(ctx, r.CID)
			return &chunkResult{toChunkInfo(c)}, err
		}),
		mChunks.name: decode(func(ctx context.Context, api API, r *chunksReq) (any, error) {
			cs, next, err := api.Chunks(ctx, r.After, r.Limit)
			return &chunksResult{toChunkInfos(cs), next}, err
		}),
		mSetStripeNodes.name: write(func(ctx context.Context, api API, r *setStripeNodesReq) error {
			return api.SetStripeNodes(ctx, r.CID, r.Old, r.Nodes, r.Layout)
		}),
		mAddReputation.name: write(func(ctx context.Context, api API, r *addReputationReq) error {
			return api.AddReputation(ctx, metaReputationDeltas(r.Deltas))
		}),
		mReputations.name: decode(func(ctx context.Context, api API, _ *noArgs) (any, error) {
			rs, err := api.Reputations(ctx)
			return &reputationsResult{rs}, err
		}),
		mChunkByName.name: decode(func(ctx context.Context, api API, r *chunkByNameReq) (any, error) {
			c, err := api.ChunkByName(ctx, r.Name)
			return &chunkResult{toChunkInfo(c)}, err
		}),
		mReplaceStripe.name: write(func(ctx context.Context, api API, r *replaceStripeReq) error {
			return api.ReplaceStripe(ctx, r.CID, r.Old, r.Stripe)
		}),
		mSealMigration.name: decode(func(ctx context.Context, api API, _ *noArgs) (any, error) {
			on, err := api.SealMigration(ctx)
			return &sealMigrationResult{on}, err
		}),
		mSetSealMigration.name: write(func(ctx context.Context, api API, r *setSealMigrationReq) error {
			return api.SetSealMigration(ctx, r.On)
		}),
		mSetObjectTags.name: write(func(ctx context.Context, api API, r *setObjectTagsReq) error {
			return api.SetObjectTags(ctx, r.Bucket, r.Key, r.Tags)
		}),
	}
	versionHandlers(hs)
	return hs
}
