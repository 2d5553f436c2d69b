package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cairn/internal/admin/adminapi"
	"cairn/internal/layout"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
)

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
var errUnauthorized = newError(http.StatusUnauthorized, adminapi.CodeUnauthorized,
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
	{meta.ErrNoSuchBucket, http.StatusNotFound, adminapi.CodeNoSuchBucket, "does not exist"},
	{meta.ErrBucketExists, http.StatusConflict, adminapi.CodeBucketAlreadyExists, "already exists"},
	{meta.ErrBucketNotEmpty, http.StatusConflict, adminapi.CodeBucketNotEmpty, "is not empty: delete its objects (and abort its uploads) first"},
	{meta.ErrNoSuchKey, http.StatusNotFound, adminapi.CodeNoSuchKey, "does not exist"},
	{meta.ErrNoSuchAccess, http.StatusNotFound, adminapi.CodeNoSuchAccessKey, "does not exist"},
	{layout.ErrUnknownNode, http.StatusNotFound, adminapi.CodeNoSuchNode, "is not in the layout"},
	{layout.ErrAlreadyIn, http.StatusConflict, adminapi.CodeNodeAlreadyInLayout, "is already in the layout"},
	{layout.ErrRemoved, http.StatusConflict, adminapi.CodeNodeNotDrainable, "is removed from the layout: its shards are rebuilt elsewhere, there is nothing to drain"},
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
		return &apiError{status: http.StatusBadRequest, code: adminapi.CodeInvalidArgument, msg: msg, err: err}
	}
	for _, u := range unavailable {
		if errors.Is(err, u) {
			return &apiError{status: http.StatusServiceUnavailable, code: adminapi.CodeServiceUnavailable,
				msg: "the metadata store is unavailable (no raft leader, or it did not answer in time); try again: " + err.Error(), err: err}
		}
	}
	return &apiError{status: http.StatusInternalServerError, code: adminapi.CodeInternalError, msg: "internal error (the detail is in the node's log)", err: err}
}
