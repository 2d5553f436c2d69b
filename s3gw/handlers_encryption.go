package s3gw

import (
	"net/http"
)

// Bucket default encryption (?encryption on a bucket). Cairn keeps no
// bucket setting that would encrypt objects written without SSE headers
// (those may be kept inline, in the clear, in the metadata), so it says
// so: GetBucketEncryption answers S3's "no configuration" (404
// ServerSideEncryptionConfigurationNotFoundError), PutBucketEncryption is
// refused (501 NotImplemented) rather than accepted and ignored, and
// DeleteBucketEncryption, with nothing to delete, answers 204 as S3 does.

var errNoEncryptionConfig = &APIError{"ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound, "The server side encryption configuration was not found"}

func bucketEncryptionOp(o *op, r *http.Request) error {
	switch r.Method {
	case http.MethodGet:
		o.spec = opGetBucketEncryption
	case http.MethodPut:
		o.spec = opPutBucketEncryption
	case http.MethodDelete:
		o.spec = opDeleteBucketEncryption
	default:
		return errMethodNotAllowed
	}
	return nil
}

func (s *Server) getBucketEncryption(w http.ResponseWriter, r *http.Request, o *op) error {
	if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	return errNoEncryptionConfig
}

func (s *Server) putBucketEncryption(w http.ResponseWriter, r *http.Request, o *op) error {
	if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	return errNotImplemented.withMessage("Bucket default encryption is not implemented: ask for SSE-S3 (x-amz-server-side-encryption: AES256) or SSE-C on each write.")
}

func (s *Server) deleteBucketEncryption(w http.ResponseWriter, r *http.Request, o *op) error {
	if _, err := s.backend.HeadBucket(r.Context(), o.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
