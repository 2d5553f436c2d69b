package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
)

// Error codes of the wire format (doc.go).
const (
	CodeBadRequest          = "BadRequest"
	CodeInvalidArgument     = "InvalidArgument"
	CodeInvalidBucketName   = "InvalidBucketName"
	CodeUnauthorized        = "Unauthorized"
	CodeNoSuchRoute         = "NoSuchRoute"
	CodeNoSuchBucket        = "NoSuchBucket"
	CodeNoSuchKey           = "NoSuchKey"
	CodeNoSuchAccessKey     = "NoSuchAccessKey"
	CodeNoSuchNode          = "NoSuchNode"
	CodeMethodNotAllowed    = "MethodNotAllowed"
	CodeBucketAlreadyExists = "BucketAlreadyExists"
	CodeBucketNotEmpty      = "BucketNotEmpty"
	CodeNodeAlreadyInLayout = "NodeAlreadyInLayout"
	CodeNodeNotApprovable   = "NodeNotApprovable"
	CodeLastNode            = "LastNode"
	CodeRequestTooLarge     = "RequestTooLarge"
	CodeServiceUnavailable  = "ServiceUnavailable"
	CodeInternalError       = "InternalError"
)

// Error is an error answer of the admin API, as Client returns it.
type Error struct {
	Status  int    // HTTP status
	Code    string // one of the Code constants
	Message string // for people
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (%d %s)", e.Code, e.Status, http.StatusText(e.Status))
	}
	return e.Message + " (" + e.Code + ")"
}

// apiError is an error on its way to becoming an answer: the handlers
// return them (or any error, which answer translates), and writeError
// writes them. err is the cause, for the log.
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

// errUnauthorized is the answer to a request without the token.
var errUnauthorized = newError(http.StatusUnauthorized, CodeUnauthorized,
	"missing or wrong admin token: send Authorization: Bearer <token> (storaged writes it to DATA/admin-token)")

// failures is the one table from the errors of the layers below to
// answers: the first row whose err the error Is gives the status and code,
// and what it says about the subject of the call.
var failures = []struct {
	err    error
	status int
	code   string
	says   string // after the subject: `bucket "x" does not exist`
}{
	{meta.ErrNoSuchBucket, http.StatusNotFound, CodeNoSuchBucket, "does not exist"},
	{meta.ErrBucketExists, http.StatusConflict, CodeBucketAlreadyExists, "already exists"},
	{meta.ErrBucketNotEmpty, http.StatusConflict, CodeBucketNotEmpty, "is not empty: delete its objects (and abort its uploads) first"},
	{meta.ErrNoSuchKey, http.StatusNotFound, CodeNoSuchKey, "does not exist"},
	{meta.ErrNoSuchAccess, http.StatusNotFound, CodeNoSuchAccessKey, "does not exist"},
	{layout.ErrUnknownNode, http.StatusNotFound, CodeNoSuchNode, "is not in the layout"},
	{layout.ErrAlreadyIn, http.StatusConflict, CodeNodeAlreadyInLayout, "is already in the layout"},
}

// unavailable are the errors that mean the metadata store cannot answer
// now: no leader, a leader that did not answer in time, a write whose
// outcome is unknown, a layout that changed under every retry.
var unavailable = []error{
	meta.ErrNotLeader,
	metarpc.ErrOutcomeUnknown,
	meta.ErrStaleLayout,
	context.DeadlineExceeded,
	context.Canceled,
}

// fail translates err, from a call about subject (`bucket "photos"`), into
// an answer. An *apiError in err's chain is kept as is; subject "" lets
// the message be err's own.
func fail(err error, subject string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	for _, f := range failures {
		if errors.Is(err, f.err) {
			msg := err.Error()
			if subject != "" {
				msg = subject + " " + f.says
			}
			return &apiError{status: f.status, code: f.code, msg: msg, err: err}
		}
	}
	if errors.Is(err, meta.ErrInvalidArgument) {
		msg := err.Error()
		if subject != "" {
			msg = subject + ": " + msg
		}
		return &apiError{status: http.StatusBadRequest, code: CodeInvalidArgument, msg: msg, err: err}
	}
	for _, u := range unavailable {
		if errors.Is(err, u) {
			return &apiError{status: http.StatusServiceUnavailable, code: CodeServiceUnavailable,
				msg: "the metadata store is unavailable (no raft leader, or it did not answer in time); try again: " + err.Error(), err: err}
		}
	}
	return &apiError{status: http.StatusInternalServerError, code: CodeInternalError, msg: "internal error (the detail is in the node's log)", err: err}
}
