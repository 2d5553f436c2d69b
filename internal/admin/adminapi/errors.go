package adminapi

import (
	"fmt"
	"net/http"
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
	CodeNodeNotDrainable    = "NodeNotDrainable"
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
