package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"cairn/internal/admin/adminapi"
	"cairn/s3gw"
)

//go:embed web
var webFS embed.FS

// Server serves the console: the page and its API. It is an http.Handler,
// safe for concurrent use; Run takes the charts' samples.
type Server struct {
	cfg      Config
	log      *slog.Logger
	token    [sha256.Size]byte
	sessions *sessions
	// loginFailures spends a token per failed login; logins wait while
	// it has none (1 a second, bursts of 20).
	loginFailures *rate.Limiter
	samples       *ring
	mux           *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// New returns a console server for cfg, or an error for a bad config.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.ensureDefaults()
	s := &Server{
		cfg:           cfg,
		log:           cfg.Logger,
		token:         sha256.Sum256([]byte(cfg.AdminToken)),
		sessions:      newSessions(cfg.SessionTTL, cfg.MaxSessions, cfg.Now),
		loginFailures: rate.NewLimiter(rate.Limit(1), 20),
		samples:       newRing(int(cfg.Window / cfg.Interval)),
		mux:           http.NewServeMux(),
	}
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, fmt.Errorf("console: embedded page: %w", err)
	}
	files := http.FileServerFS(static)
	s.mux.Handle("GET /{$}", files)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", files))

	api := func(pattern string, access int, h handlerFunc) {
		s.mux.Handle(pattern, s.wrap(access, h))
	}
	api("POST /api/login", public, s.login)
	api("POST /api/logout", anySession, s.logout)
	api("GET /api/session", anySession, s.whoami)
	api("GET /api/cluster", anySession, s.cluster)
	api("GET /api/charts", anySession, s.charts)
	api("GET /api/keys", adminOnly, s.keys)
	api("POST /api/keys", adminOnly, s.createKey)
	api("DELETE /api/keys/{id}", adminOnly, s.deleteKey)
	api("GET /api/buckets", anySession, s.buckets)
	api("POST /api/buckets", anySession, s.createBucket)
	api("DELETE /api/buckets", anySession, s.deleteBucket)
	api("GET /api/objects", anySession, s.list)
	api("DELETE /api/objects", anySession, s.deleteObject)
	api("GET /api/object/shards", anySession, s.shards)
	s.mux.Handle("PUT /api/object", s.wrapTransfer(s.upload))
	s.mux.Handle("GET /api/object", s.wrapTransfer(s.download))
	return s, nil
}

// ServeHTTP serves the page and the API. Every answer forbids framing
// and sniffing, and the page runs only its own scripts.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		// The page's files: the API routes set their own deadlines (guard).
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	s.mux.ServeHTTP(w, r)
}

// handlerFunc serves an API request for a session (nil for public
// routes); every error it returns is written by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, sess *session) error

// Who may call a route.
const (
	public = iota
	anySession
	adminOnly
)

var (
	errNoSession = newError(http.StatusUnauthorized, "Unauthorized", "log in first")
	errNotAdmin  = newError(http.StatusForbidden, "Forbidden", "only a session logged in with the admin token may do this")
	errNoCSRF    = newError(http.StatusForbidden, "Forbidden", "missing the "+CSRFHeader+" header")
	errNoGateway = newError(http.StatusServiceUnavailable, "ServiceUnavailable", "the gateway has no layout yet; try again")
)

// wrap gives an API route its deadline, its access check and its error
// answers.
func (s *Server) wrap(access int, h handlerFunc) http.Handler {
	return s.guard(access, s.cfg.Timeout, h)
}

// wrapTransfer is wrap for uploads and downloads: any session, and the
// transfer deadline.
func (s *Server) wrapTransfer(h handlerFunc) http.Handler {
	return s.guard(anySession, s.cfg.TransferTimeout, h)
}

func (s *Server) guard(access int, timeout time.Duration, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(timeout) // the network's clock, not Config.Now
		rc := http.NewResponseController(w)
		// Best effort: a ResponseWriter that cannot set deadlines (a test
		// recorder) still gets the context's.
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		w.Header().Set("Cache-Control", "no-store")

		var sess *session
		if access != public {
			if sess = s.fromRequest(r); sess == nil {
				s.writeError(w, r, errNoSession)
				return
			}
			if access == adminOnly && sess.role != RoleAdmin {
				s.writeError(w, r, errNotAdmin)
				return
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get(CSRFHeader) == "" {
			s.writeError(w, r, errNoCSRF)
			return
		}
		if err := h(w, r, sess); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// apiError is an error on its way to becoming an answer; err is the
// cause, for the log.
type apiError struct {
	status int
	code   string
	msg    string
	err    error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// backendErrors is the one table from the gateway's errors to answers.
var backendErrors = []struct {
	err    error
	status int
	code   string
	msg    string
}{
	{s3gw.ErrNoSuchBucket, http.StatusNotFound, "NoSuchBucket", "the bucket does not exist"},
	{s3gw.ErrNoSuchKey, http.StatusNotFound, "NoSuchKey", "the object does not exist"},
	{s3gw.ErrBucketNotEmpty, http.StatusConflict, "BucketNotEmpty", "the bucket is not empty: delete its objects first"},
	{s3gw.ErrBucketAlreadyOwnedByYou, http.StatusConflict, "BucketAlreadyExists", "the bucket already exists"},
	{s3gw.ErrEntityTooLarge, http.StatusRequestEntityTooLarge, "EntityTooLarge", "the object is larger than a single upload may be"},
	{s3gw.ErrIncompleteBody, http.StatusBadRequest, "IncompleteBody", "the upload ended before its Content-Length"},
	{s3gw.ErrSlowDown, http.StatusServiceUnavailable, "ServiceUnavailable", "the cluster cannot serve this now; try again"},
	{s3gw.ErrServiceUnavailable, http.StatusServiceUnavailable, "ServiceUnavailable", "the cluster cannot serve this now (too few nodes, or no metadata leader); try again"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "ServiceUnavailable", "the request ran out of time; try again"},
}

// backendError translates an error of the gateway into an answer.
func backendError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	for _, b := range backendErrors {
		if errors.Is(err, b.err) {
			return &apiError{status: b.status, code: b.code, msg: b.msg, err: err}
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "EntityTooLarge", msg: "the request body is too large", err: err}
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalError", msg: "internal error (the detail is in the node's log)", err: err}
}

// writeError writes err as a JSON error body, adminapi's shape.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := backendError(err)
	if ae.status >= 500 {
		s.log.Warn("console request failed", "method", r.Method, "path", r.URL.Path, "status", ae.status, "err", err)
	}
	_ = writeJSON(w, ae.status, adminapi.ErrorBody{Code: ae.code, Message: ae.msg})
}

// writeJSON writes v as the answer. It returns nil: once the status is
// sent, a failed write means the client went away, and nothing is left to
// tell it. (Handlers end with return writeJSON(...).)
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return nil
}
