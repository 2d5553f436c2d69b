package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"cairn/s3gw"
)

// CookieName is the session cookie's name.
const CookieName = "cairn_console"

// CSRFHeader must be sent, with any value, on every request that changes
// something: a cross-site form cannot set it.
const CSRFHeader = "X-Cairn-Console"

// Roles of a session.
const (
	RoleAdmin = "admin" // logged in with the admin token
	RoleKey   = "key"   // logged in with an S3 access key
)

// session is one login.
type session struct {
	id        string // the cookie's value
	role      string
	accessKey string // RoleKey: the key it logged in with
	created   time.Time
	expires   time.Time
}

// sessions are the logins the server knows, bounded by max. Safe for
// concurrent use.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	now func() time.Time
	m   map[string]*session // by sha256 of the cookie value
}

func newSessions(ttl time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, max: max, now: now, m: map[string]*session{}}
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:])
}

// create starts a session: expired sessions go first, then, when the
// store is full, the oldest.
func (ss *sessions) create(role, accessKey string) *session {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	now := ss.now()
	s := &session{id: base64.RawURLEncoding.EncodeToString(b), role: role, accessKey: accessKey, created: now, expires: now.Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, o := range ss.m {
		if !now.Before(o.expires) {
			delete(ss.m, k)
		}
	}
	for len(ss.m) >= ss.max {
		var oldest string
		for k, o := range ss.m {
			if oldest == "" || o.created.Before(ss.m[oldest].created) {
				oldest = k
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[sessionKey(s.id)] = s
	return s
}

// get returns the live session of a cookie value, or nil.
func (ss *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	k := sessionKey(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[k]
	if s == nil {
		return nil
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, k)
		return nil
	}
	return s
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, sessionKey(id))
}

// fromRequest returns the request's session, or nil.
func (s *Server) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	return s.sessions.get(c.Value)
}

// loginRequest is the body of POST /api/login: the admin token, or an
// access key and its secret.
type loginRequest struct {
	Token     string `json:"token"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// sessionInfo is the answer to login and GET /api/session.
type sessionInfo struct {
	Role      string    `json:"role"`
	AccessKey string    `json:"access_key,omitempty"`
	Expires   time.Time `json:"expires"`
}

var (
	errBadLogin     = newError(http.StatusUnauthorized, "Unauthorized", "wrong admin token, or wrong access key or secret")
	errTooManyTries = newError(http.StatusTooManyRequests, "TooManyRequests", "too many failed logins; wait a few seconds")
)

// login checks the credentials and sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *session) error {
	if s.loginFailures.TokensAt(s.cfg.Now()) < 1 {
		return errTooManyTries
	}
	var req loginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		return newError(http.StatusBadRequest, "BadRequest", "want a JSON body {token} or {access_key, secret_key}")
	}
	role, err := s.check(r.Context(), req)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae == errBadLogin {
			s.loginFailures.AllowN(s.cfg.Now(), 1)
			s.log.Info("console login refused", "remote", r.RemoteAddr, "access_key", req.AccessKey)
		}
		return err
	}
	sess := s.sessions.create(role, strings.TrimSpace(req.AccessKey))
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: sess.id, Path: "/",
		Expires: sess.expires, MaxAge: int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	s.log.Info("console login", "role", role, "access_key", sess.accessKey, "remote", r.RemoteAddr)
	return writeJSON(w, http.StatusOK, sessionInfo{Role: sess.role, AccessKey: sess.accessKey, Expires: sess.expires})
}

// check returns the role the credentials log in as.
func (s *Server) check(ctx context.Context, req loginRequest) (string, error) {
	if tok := strings.TrimSpace(req.Token); tok != "" {
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], s.token[:]) == 1 {
			return RoleAdmin, nil
		}
		return "", errBadLogin
	}
	access, secret := strings.TrimSpace(req.AccessKey), req.SecretKey
	if access == "" || secret == "" {
		return "", errBadLogin
	}
	gw := s.cfg.Gateway()
	if gw == nil {
		return "", errNoGateway
	}
	want, err := gw.SecretKey(ctx, access)
	if errors.Is(err, s3gw.ErrInvalidAccessKeyID) {
		return "", errBadLogin
	}
	if err != nil {
		return "", backendError(err)
	}
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return "", errBadLogin
	}
	return RoleKey, nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.sessions.end(sess.id)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, sess *session) error {
	return writeJSON(w, http.StatusOK, sessionInfo{Role: sess.role, AccessKey: sess.accessKey, Expires: sess.expires})
}
