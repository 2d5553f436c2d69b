package metarpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cairn/internal/meta"
	"cairn/internal/nodeauth"

	"github.com/hashicorp/raft"
)

// ErrOutcomeUnknown is wrapped by the error of a write whose outcome the
// client cannot know: its body reached a node (or may have) but no answer
// came back, the leader lost its leadership while committing the entry,
// or the leader's wait for the commit timed out. The write may or may not
// be applied; the client does not send it again (see the package
// documentation, "Retries").
// It is meta.ErrOutcomeUnknown, so that callers that know only the meta
// API (the gateway) recognise it.
var ErrOutcomeUnknown = meta.ErrOutcomeUnknown

// Wire error codes that do not name a meta sentinel.
const (
	codeNotLeader      = "NotLeader"
	codeOutcomeUnknown = "OutcomeUnknown"
	codeDeadline       = "DeadlineExceeded"
	codeCanceled       = "Canceled"
	codeUnauthorized   = "Unauthorized"
	codeBadRequest     = "BadRequest"
	codeTooLarge       = "RequestTooLarge"
	codeUnknownMethod  = "UnknownMethod"
	codeBadMethod      = "MethodNotAllowed"
	codeInternal       = "InternalError"
	// codeBadAnswer is the client's: an answer it cannot decode.
	codeBadAnswer = "BadAnswer"
)

// errCode is one row of the error table: an error code on the wire, the
// error the client wraps for it, the errors the server answers it for
// (err itself, and also), and the HTTP status it is answered with.
type errCode struct {
	code   string
	err    error
	also   []error
	status int
}

// errCodes is the one table that translates errors to codes (server) and
// codes back to errors (client). The server answers with the first row
// whose errors the store's error Is; the client wraps the row's err, so
// errors.Is works on both sides. An error that no row matches is answered
// InternalError with its message, and the client returns it as an *Error
// that wraps nothing.
var errCodes = []errCode{
	{codeNotLeader, meta.ErrNotLeader, nil, http.StatusMisdirectedRequest},
	{"NoSuchBucket", meta.ErrNoSuchBucket, nil, http.StatusNotFound},
	{"BucketExists", meta.ErrBucketExists, nil, http.StatusConflict},
	{"BucketNotEmpty", meta.ErrBucketNotEmpty, nil, http.StatusConflict},
	{"NoSuchKey", meta.ErrNoSuchKey, nil, http.StatusNotFound},
	{"NoSuchUpload", meta.ErrNoSuchUpload, nil, http.StatusNotFound},
	{"InvalidPart", meta.ErrInvalidPart, nil, http.StatusBadRequest},
	{"NoSuchAccess", meta.ErrNoSuchAccess, nil, http.StatusNotFound},
	{"InvalidArgument", meta.ErrInvalidArgument, nil, http.StatusBadRequest},
	{"StaleLayout", meta.ErrStaleLayout, nil, http.StatusConflict},
	{"NoSuchLayout", meta.ErrNoSuchLayout, nil, http.StatusNotFound},
	{"ChunkCollecting", meta.ErrChunkCollecting, nil, http.StatusConflict},
	{"StripeChanged", meta.ErrStripeChanged, nil, http.StatusConflict},
	{"NoSuchVersion", meta.ErrNoSuchVersion, nil, http.StatusNotFound},
	{"PreconditionFailed", meta.ErrPreconditionFailed, nil, http.StatusPreconditionFailed},
	{"ObjectLocked", meta.ErrObjectLocked, nil, http.StatusForbidden},
	{"LockNotEnabled", meta.ErrLockNotEnabled, nil, http.StatusBadRequest},
	{"InvalidBucketState", meta.ErrInvalidBucketState, nil, http.StatusConflict},
	{"DeleteMarker", meta.ErrDeleteMarker, nil, http.StatusMethodNotAllowed},
	// The leader stepped down after appending the entry, which the next
	// leader may still commit.
	{codeOutcomeUnknown, ErrOutcomeUnknown, []error{raft.ErrLeadershipLost}, http.StatusServiceUnavailable},
	// The store's ApplyTimeout, or the request's context. For a write the
	// client wraps ErrOutcomeUnknown too: the entry may still be applied.
	{codeDeadline, context.DeadlineExceeded, nil, http.StatusGatewayTimeout},
	{codeCanceled, context.Canceled, nil, http.StatusServiceUnavailable},
	{codeUnauthorized, nodeauth.ErrUnauthorized, nil, http.StatusUnauthorized},
}

// codeOf returns the wire code and HTTP status for err.
func codeOf(err error) (code string, status int) {
	for _, c := range errCodes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
		for _, a := range c.also {
			if errors.Is(err, a) {
				return c.code, c.status
			}
		}
	}
	var pe *protocolError
	if errors.As(err, &pe) {
		return pe.code, pe.status
	}
	return codeInternal, http.StatusInternalServerError
}

// errorOf returns the error a wire code stands for on the client side, or
// nil for a code that names none.
func errorOf(code string) error {
	for _, c := range errCodes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// protocolError is a server-side refusal of a request before it reaches
// the store: malformed, too large, unknown method.
type protocolError struct {
	code   string
	status int
	msg    string
}

func (e *protocolError) Error() string { return "metarpc: " + e.msg }

func badRequest(format string, args ...any) error {
	return &protocolError{codeBadRequest, http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// Error is an error answered by a metadata node. It wraps the error its
// Code stands for (a meta sentinel such as meta.ErrNoSuchKey, a
// *meta.NotLeaderError for NotLeader, ErrOutcomeUnknown,
// nodeauth.ErrUnauthorized...), so errors.Is and errors.As see through
// it. For an error of the store, Error() is the store's message as is;
// for any other it also names the method, code and status.
type Error struct {
	Method  string // the API method called
	Code    string // the wire code (package documentation, "Wire format")
	Message string // the answering node's message
	Status  int    // the HTTP status of the answer

	wrapped []error
	// bare: Message is the store's own error message, which Error returns
	// as is, like the store would.
	bare bool
	// leaderAPI is the leader's node API URL named by a NotLeader answer.
	leaderAPI string
}

func (e *Error) Error() string {
	if e.bare {
		return e.Message
	}
	return fmt.Sprintf("metarpc: %s: %s (%d %s): %s", e.Method, e.Code, e.Status, http.StatusText(e.Status), e.Message)
}

func (e *Error) Unwrap() []error { return e.wrapped }

// fromWire returns the client-side error of an answer's error body.
func fromWire(m method, status int, we *wireError) *Error {
	e := &Error{Method: m.name, Code: we.Code, Message: we.Message, Status: status}
	switch err := errorOf(we.Code); {
	case we.Code == codeNotLeader:
		e.wrapped = []error{&meta.NotLeaderError{LeaderID: we.LeaderID, LeaderAddr: we.LeaderAddr}}
		e.leaderAPI = we.LeaderAPI
	case m.write && (we.Code == codeDeadline || we.Code == codeCanceled):
		e.wrapped = []error{err, ErrOutcomeUnknown}
	case err != nil:
		e.wrapped = []error{err}
	}
	e.bare = len(e.wrapped) > 0 && we.Code != codeUnauthorized && we.Message != ""
	return e
}

// toWire returns the wire error and HTTP status for err; leaderAPI maps a
// raft address to the leader's node API URL (may be nil).
func toWire(err error, leaderAPI func(string) string) (*wireError, int) {
	code, status := codeOf(err)
	we := &wireError{Code: code, Message: err.Error()}
	var nle *meta.NotLeaderError
	if code == codeNotLeader && errors.As(err, &nle) {
		we.LeaderID, we.LeaderAddr = nle.LeaderID, nle.LeaderAddr
		if nle.LeaderAddr != "" && leaderAPI != nil {
			we.LeaderAPI = leaderAPI(nle.LeaderAddr)
		}
	}
	return we, status
}
