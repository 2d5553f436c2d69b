// Package s3gw speaks the S3 protocol over a Backend: authentication,
// routing, request and response headers, XML, conditions and errors. It
// stores nothing itself; the Backend (backend.go) stores and retrieves, and
// s3gw imports nothing else of Cairn.
//
// # Usage
//
//	srv, err := s3gw.New(s3gw.Config{Backend: store, Credentials: keys})
//	if err != nil { ... }
//	http.ListenAndServe(":9000", srv)
//
// # How a request flows
//
// ServeHTTP gives every response an x-amz-request-id, then:
//
//  1. parseOp (router.go) turns method, Host, path and query into an op:
//     bucket, key and one of the operations below. Addressing is path style,
//     or virtual-host style when Host is "<bucket>.<domain>" for one of
//     Config.Domains. Sub-resources Cairn does not implement (?acl,
//     ?policy, ?versions, ?tagging on a bucket, ...) are NotImplemented,
//     explicitly.
//  2. authenticate (auth.go, sigv2.go) verifies the signature: see
//     Authentication below.
//  3. The op's handler (handlers_*.go), func(w, r, op) error, does the
//     work through the Backend.
//  4. Any error goes to writeError (errors.go), the one place that writes S3
//     error XML: APIErrors carry their code and status; Backend sentinels
//     are mapped by errorTable; anything else is a 500 InternalError whose
//     detail is logged, never sent. HEAD errors have no body.
//
// Config.Observer, when set, is told about every request once its handler
// has returned: the operation, the status sent, the duration and the body
// bytes received and sent (observe.go). New asks it for one observer per
// operation, so that counting a request costs no lookup by name. s3gw has
// no metrics of its own: the caller decides what to keep.
//
// # Authentication
//
// A signed request must be signed with an access key that
// Config.Credentials knows. A request with no signature at all is
// anonymous: authorize (access.go) allows it only where the bucket's
// policy or canned ACL allows everyone, and refuses it with AccessDenied
// otherwise. A signed request carries one of these, and only one
// (InvalidArgument when it carries several):
//
//   - SigV4 in the Authorization header (AWS4-HMAC-SHA256). The scope's
//     region must be Config.Region, the request time within Config.MaxSkew
//     of Config.Now, and every x-amz-* header signed.
//   - A SigV4 presigned URL (X-Amz-Algorithm, X-Amz-Credential, ...), valid
//     from X-Amz-Date for X-Amz-Expires, at most 7 days; same scope rules.
//   - A SigV2 presigned URL (AWSAccessKeyId, Expires, Signature), for GET
//     and HEAD only: what "aws s3 presign" of the AWS CLI v1 produces unless
//     s3.signature_version is s3v4. As on S3, the signature covers the
//     method, Content-MD5, Content-Type, Expires, the x-amz-* headers, the
//     bucket, the path as sent and the sub-resources (versionId, the
//     response-* overrides, ...), but no other query parameter (the prefix
//     of a listing, for one), and Expires has no upper bound.
//
// Once authenticated, a request is held to its key's policy when
// Config.Credentials is a PolicyCredentials (policy.go): read-only keys
// may send GET and HEAD only, and a key limited to a bucket and prefix
// reaches nothing outside them (a copy's source included); anything else
// is 403 AccessDenied.
//
// Any other Authorization scheme (SigV2's "AWS AKID:signature", SigV4a), and
// a SigV2 presigned URL with another method, is refused with InvalidRequest
// "Please use AWS4-HMAC-SHA256", as S3's newer regions refuse SigV2.
//
// # Payloads
//
// A request body reaches the Backend through openPayload (payload.go), which
// verifies it while it streams; nothing is buffered whole:
//
//   - x-amz-content-sha256 as hex: the SHA-256 is checked at EOF
//     (XAmzContentSHA256Mismatch).
//   - UNSIGNED-PAYLOAD: no payload check (presigned URLs always).
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: aws-chunked with chunk
//     signatures chained from the seed signature, and a signed trailer;
//     STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked without signatures
//     (chunked.go). Each chunk's signature is checked when its last byte is
//     read, before the next chunk is returned; chunk data passes through.
//   - x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256, as a header
//     or as a trailer named by x-amz-trailer, are checked at EOF (BadDigest)
//     and echoed in the response.
//   - A body shorter than Content-Length or x-amz-decoded-content-length is
//     IncompleteBody.
//
// Every check fails a Read no later than the one that would have returned
// io.EOF. The Backend contract (PutObject and UploadPart read to EOF before
// they commit, and commit nothing on a read error) thus guarantees that a
// payload failing any check is never stored. Content-MD5 is handed to the
// Backend, which computes MD5 for the ETag anyway.
//
// # Objects
//
// Every object response (GET, HEAD, PUT, copy, complete) carries the
// object's CID in the header x-cairn-cid. User metadata (x-amz-meta-*) is
// exactly what the client wrote, "cid" included.
// ETags are always quoted. GetObject implements single byte ranges (206,
// 416 InvalidRange), If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since with S3's precedence (304 for GET and HEAD, 412
// otherwise), the response-* overrides, and partNumber: one part of a
// multipart object (206 with Content-Range and x-amz-mp-parts-count), all
// of any other object as its part 1, InvalidPartNumber (416) past the
// last part. GetObjectAttributes answers ETag, ObjectSize, StorageClass and
// ObjectParts (Checksum is not stored). Conditional writes are
// NotImplemented.
//
// Object tags (handlers_tagging.go) come with PUT, CreateMultipartUpload
// and copies (x-amz-tagging, x-amz-tagging-directive) and through ?tagging
// on an object, held to S3's limits; a Backend keeps them by implementing
// ObjectTagger. Server-side encryption (sse.go) takes effect or is
// refused, header by header: SSE-S3 when the Backend encrypts at rest,
// SSE-C when it encrypts with customer keys (Encrypter), SSE-KMS never.
package s3gw
