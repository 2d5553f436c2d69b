package s3gw

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Config configures a Server. Zero fields take the defaults documented on
// each; Backend and Credentials are required.
type Config struct {
	// Backend stores and retrieves buckets and objects.
	Backend Backend
	// Credentials looks up the secret key of the access key that signed a
	// request. An unsigned request is anonymous: allowed only where the
	// bucket's policy or ACL allows everyone (access.go).
	Credentials Credentials
	// Region is the region this endpoint answers for. The region in a
	// request's credential scope must equal it (AuthorizationHeaderMalformed
	// otherwise). Default "us-east-1".
	Region string
	// Domains are the base domains of virtual-host-style requests: a Host of
	// "bucket.<domain>[:port]" addresses bucket; any other Host is path
	// style. Default ["localhost"].
	Domains []string
	// Logger receives one debug line per request and the details of
	// internal errors, which clients never see. Nil discards.
	Logger *slog.Logger
	// Now is the clock used to check request times. Default time.Now.
	Now func() time.Time
	// MaxSkew is how far a signed request's time may be from Now before it
	// is refused with RequestTimeTooSkewed. Default 15 minutes.
	MaxSkew time.Duration
	// Observer, when set, is told about every request: its operation,
	// status, duration and bytes (observe.go). Nil observes nothing.
	Observer Observer
}

// DefaultConfig returns a Config with every default filled in and no
// Backend or Credentials.
func DefaultConfig() Config {
	var c Config
	c.ensureDefaults()
	return c
}

func (c *Config) ensureDefaults() {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if len(c.Domains) == 0 {
		c.Domains = []string{"localhost"}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxSkew == 0 {
		c.MaxSkew = 15 * time.Minute
	}
}

// Validate reports the first thing wrong with a Config whose defaults are
// filled in.
func (c *Config) Validate() error {
	switch {
	case c.Backend == nil:
		return errors.New("s3gw: Config.Backend is required")
	case c.Credentials == nil:
		return errors.New("s3gw: Config.Credentials is required")
	case c.MaxSkew < 0:
		return errors.New("s3gw: Config.MaxSkew must not be negative")
	}
	for _, d := range c.Domains {
		if d == "" || strings.ContainsAny(d, ":/ ") {
			return errors.New("s3gw: Config.Domains holds an invalid domain " + `"` + d + `"`)
		}
	}
	return nil
}

// Server serves the S3 API over a Backend. It is an http.Handler, safe for
// concurrent use, and holds no state between requests.
type Server struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	domains []string   // lower case, with a leading dot
	obs     *observers // nil without Config.Observer
}

var _ http.Handler = (*Server)(nil)

// New returns a Server for cfg, or the error of an invalid Config.
func New(cfg Config) (*Server, error) {
	cfg.ensureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, backend: cfg.Backend, log: cfg.Logger, obs: newObservers(cfg.Observer)}
	for _, d := range cfg.Domains {
		s.domains = append(s.domains, "."+strings.ToLower(strings.TrimSuffix(d, ".")))
	}
	return s, nil
}

// ServeHTTP authenticates the request, parses it into an operation and runs
// that operation's handler; any error becomes S3 error XML in writeError.
//
// When a response fails after its headers were sent (a GetObject whose
// Backend reader fails half way), ServeHTTP panics with http.ErrAbortHandler
// so that net/http cuts the connection and the client sees a truncated body.
// Middleware that recovers panics must let that one through.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &responseWriter{ResponseWriter: rw, requestID: newRequestID()}
	h := w.Header()
	h.Set("X-Amz-Request-Id", w.requestID)
	h.Set("X-Amz-Id-2", w.requestID)
	h.Set("Server", "Cairn")

	o, perr := parseOp(r, s.domains)
	if s.obs != nil {
		if r.Body != nil {
			w.body.rc = r.Body
			r.Body = &w.body
		}
		// Deferred, so that a response aborted with a panic is observed too.
		defer s.obs.done(o, w, start)
	}
	err := s.serve(w, r, o, perr)
	if err != nil {
		s.writeError(w, r, o, err)
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("s3 request", "request_id", w.requestID, "method", r.Method, "path", r.URL.Path,
			"op", o.name(), "status", w.status(), "code", w.err, "bytes", w.written,
			"duration", time.Since(start))
	}
}

func (s *Server) serve(w *responseWriter, r *http.Request, o *op, perr error) error {
	a, err := s.authenticate(r)
	if err == nil && a.accessKey == "" && perr == nil && o.bucket != "" && o.spec != opCreateBucket && o.spec != opCreateBucketLocked && o.spec != opPreflight {
		// S3 tells an anonymous client that a bucket does not exist
		// before it tells it that it may not use it.
		if _, herr := s.backend.HeadBucket(r.Context(), o.bucket); errors.Is(herr, ErrNoSuchBucket) {
			return herr
		}
	}
	if err != nil {
		return err
	}
	if perr != nil {
		if a.accessKey == "" {
			return errAccessDenied // anonymous requests learn nothing more
		}
		return perr
	}
	o.auth = a
	if err := authorize(r, o, a.policy); err != nil { // the key's own policy
		return err
	}
	if err := s.authorize(w, r, o); err != nil { // the bucket's policy and ACLs
		return err
	}
	return o.spec.handle(s, w, r, o)
}

// responseWriter remembers what was sent, for logging and so that
// writeError knows whether it may still send a status.
type responseWriter struct {
	http.ResponseWriter
	requestID   string
	wroteHeader bool
	code        int
	written     int64
	err         string // the S3 error code sent, if any
	aborted     bool   // the response was cut off after its status was sent
	body        countingBody
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader, w.code = true, code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom lets io.Copy use the connection's sendfile/splice path.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.written += n
	return n, err
}

// Unwrap gives http.ResponseController access to the connection.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}

// newRequestID returns 16 upper-case hex digits, like S3's request IDs.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
