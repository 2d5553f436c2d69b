package s3gw

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
)

// APIError is an S3 protocol error: the Code element of the error XML and
// the HTTP status that goes with it. Errors that the gateway itself detects
// (authentication, parsing, payload verification) are APIErrors; errors from
// the Backend are sentinels that errorTable maps to APIErrors.
//
// Two APIErrors are the same error (errors.Is) when their codes are equal, so
// a copy with a more specific message still matches its catalogue entry.
type APIError struct {
	Code    string
	Status  int
	Message string
}

func (e *APIError) Error() string { return "s3: " + e.Code + ": " + e.Message }

// Is reports whether target is an APIError with the same code.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code
}

// withMessage returns a copy of e with another message.
func (e *APIError) withMessage(format string, args ...any) *APIError {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// The protocol errors the gateway detects itself. Messages are S3's own
// wording where S3 has one.
var (
	errAccessDenied                 = &APIError{"AccessDenied", http.StatusForbidden, "Access Denied"}
	errAuthorizationHeaderMalformed = &APIError{"AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header that you provided is not valid."}
	errAuthorizationQueryParams     = &APIError{"AuthorizationQueryParametersError", http.StatusBadRequest, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}
	errSignatureDoesNotMatch        = &APIError{"SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errRequestTimeTooSkewed         = &APIError{"RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large."}
	errMissingSecurityHeader        = &APIError{"MissingSecurityHeader", http.StatusBadRequest, "Your request is missing a required header."}
	errContentSHA256Mismatch        = &APIError{"XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed."}
	errInvalidDigest                = &APIError{"InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."}
	errBadDigest                    = &APIError{"BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received."}
	errInvalidArgument              = &APIError{"InvalidArgument", http.StatusBadRequest, "Invalid Argument"}
	errInvalidRequest               = &APIError{"InvalidRequest", http.StatusBadRequest, "Invalid Request"}
	errAuthMechanism                = &APIError{"InvalidRequest", http.StatusBadRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}
	errInvalidBucketName            = &APIError{"InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."}
	errKeyTooLong                   = &APIError{"KeyTooLongError", http.StatusBadRequest, "Your key is too long."}
	errInvalidRange                 = &APIError{"InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable"}
	errInvalidPartNumber            = &APIError{"InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable"}
	errPreconditionFailed           = &APIError{"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"}
	errNotImplemented               = &APIError{"NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented."}
	errMethodNotAllowed             = &APIError{"MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."}
	errMalformedXML                 = &APIError{"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."}
	errMaxMessageLengthExceeded     = &APIError{"MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big."}
	errMetadataTooLarge             = &APIError{"MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."}
	errNoSuchVersion                = &APIError{"NoSuchVersion", http.StatusNotFound, "The specified version does not exist."}
	errIncompleteBody               = &APIError{"IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	errEntityTooLarge               = &APIError{"EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."}
	errIllegalLocationConstraint    = &APIError{"IllegalLocationConstraintException", http.StatusBadRequest, "The location constraint is incompatible for the region specific endpoint this request was sent to."}
	errInternal                     = &APIError{"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."}
)

// errorTable maps the Backend's sentinels to S3 errors. It is the only place
// where a store error becomes a protocol error.
var errorTable = []struct {
	err error
	api *APIError
}{
	{ErrNoSuchBucket, &APIError{"NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist"}},
	{ErrNoSuchKey, &APIError{"NoSuchKey", http.StatusNotFound, "The specified key does not exist."}},
	{ErrBucketNotEmpty, &APIError{"BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty"}},
	{ErrBucketAlreadyOwnedByYou, &APIError{"BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."}},
	{ErrNoSuchUpload, &APIError{"NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist. The upload ID might not be valid, or the multipart upload might have been aborted or completed."}},
	{ErrInvalidPart, &APIError{"InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."}},
	{ErrInvalidPartOrder, &APIError{"InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. The parts list must be specified in order by part number."}},
	{ErrEntityTooSmall, &APIError{"EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."}},
	{ErrEntityTooLarge, errEntityTooLarge},
	{ErrBadDigest, errBadDigest},
	{ErrIncompleteBody, errIncompleteBody},
	{ErrInvalidAccessKeyID, &APIError{"InvalidAccessKeyId", http.StatusForbidden, "The AWS access key ID that you provided does not exist in our records."}},
	{ErrSlowDown, &APIError{"SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate."}},
	{ErrServiceUnavailable, &APIError{"ServiceUnavailable", http.StatusServiceUnavailable, "The service cannot serve this request right now; please retry."}},
}

// toAPIError translates any error into the S3 error the client sees. The
// second result is false for errors nobody mapped: those are internal, and
// the caller logs them.
func toAPIError(err error) (*APIError, bool) {
	var api *APIError
	if errors.As(err, &api) {
		return api, true
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.api, true
		}
	}
	for _, e := range versionErrors {
		if errors.Is(err, e.err) {
			return e.api, true
		}
	}
	for _, e := range accessErrors {
		if errors.Is(err, e.err) {
			return e.api, true
		}
	}
	return errInternal, false
}

// errorResponse is the body of every S3 error.
type errorResponse struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	BucketName string   `xml:"BucketName,omitempty"`
	Key        string   `xml:"Key,omitempty"`
	Resource   string   `xml:"Resource"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
}

// writeError sends err as S3 error XML (or, for HEAD, as a bare status). It
// is the one place where errors reach the client. If the response has
// already started, nothing can be sent any more: the connection is aborted
// so that the client sees a truncated body rather than a complete one.
func (s *Server) writeError(w *responseWriter, r *http.Request, o *op, err error) {
	api, known := toAPIError(err)
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		s.log.Debug("client went away", "request_id", w.requestID, "err", err)
	case !known:
		s.log.Error("internal error", "request_id", w.requestID, "method", r.Method, "path", r.URL.Path, "op", o.name(), "err", err)
	case api.Status >= 500:
		s.log.Warn("request failed", "request_id", w.requestID, "code", api.Code, "err", err)
	default:
		s.log.Debug("request failed", "request_id", w.requestID, "code", api.Code, "err", err)
	}
	if w.wroteHeader {
		w.aborted = true
		panic(http.ErrAbortHandler)
	}
	w.err = api.Code
	h := w.Header()
	// Headers set for a successful response do not describe an error
	// (Content-Range stays: a 416 carries "bytes */size").
	for _, k := range []string{"ETag", "Last-Modified", "Content-Length", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires", "Accept-Ranges", cidHeader} {
		h.Del(k)
	}
	for k := range h {
		if len(k) > 6 && (k[:6] == "x-amz-" || k[:6] == "X-Amz-") && k != "X-Amz-Request-Id" && k != "X-Amz-Id-2" {
			delete(h, k)
		}
	}
	var he *headerError
	if errors.As(err, &he) {
		for k, v := range he.h {
			h.Set(k, v)
		}
	}
	if api.Code == "SlowDown" {
		h.Set("Retry-After", "1")
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(api.Status)
		return
	}
	body := errorResponse{
		Code:      api.Code,
		Message:   api.Message,
		Resource:  r.URL.Path,
		RequestID: w.requestID,
		HostID:    w.requestID,
	}
	if o != nil {
		body.BucketName = o.bucket
		body.Key = o.key
	}
	out, mErr := xml.Marshal(body)
	if mErr != nil { // cannot happen with these field types
		w.WriteHeader(api.Status)
		return
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(xml.Header)+len(out)))
	w.WriteHeader(api.Status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
