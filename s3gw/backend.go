package s3gw

import (
	"context"
	"errors"
	"io"
	"time"
)

// Backend is everything the S3 gateway needs from the object store. The
// gateway speaks S3 (auth, routing, XML, headers, conditions); the backend
// stores and retrieves. Implementations must be safe for concurrent use.
//
// Errors: implementations return (possibly wrapped) sentinels from this
// package, such as ErrNoSuchBucket; anything else becomes InternalError.
type Backend interface {
	ListBuckets(ctx context.Context) ([]BucketInfo, error)
	// CreateBucket returns ErrBucketAlreadyOwnedByYou if it exists.
	CreateBucket(ctx context.Context, bucket string) error
	// HeadBucket returns ErrNoSuchBucket if it does not exist.
	HeadBucket(ctx context.Context, bucket string) (BucketInfo, error)
	// DeleteBucket returns ErrNoSuchBucket or ErrBucketNotEmpty.
	DeleteBucket(ctx context.Context, bucket string) error

	// PutObject stores r (exactly size bytes; size -1 means read to EOF) under
	// bucket/key. It reads r to EOF before committing: if r returns an error
	// (a bad payload signature, a short body), nothing is stored and that
	// error is returned. Nothing is visible until PutObject returns nil, and
	// once it returns nil the object is durable.
	PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// GetObject returns a handle on the current version of bucket/key, or
	// ErrNoSuchBucket / ErrNoSuchKey. The handle reads that version even if
	// the key is overwritten afterwards.
	GetObject(ctx context.Context, bucket, key string) (Object, error)
	// DeleteObject removes bucket/key. Deleting a missing key is not an error;
	// a missing bucket is ErrNoSuchBucket.
	DeleteObject(ctx context.Context, bucket, key string) error
	// DeleteObjects removes many keys at once; the result has one entry per key,
	// in order, nil where the delete succeeded.
	DeleteObjects(ctx context.Context, bucket string, keys []string) ([]error, error)
	// CopyObject makes dst a copy of src without moving data (the chunks are
	// shared). With opts.ReplaceMetadata the new object takes opts' content
	// type, headers and user metadata; otherwise it keeps src's.
	CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
	ListObjects(ctx context.Context, bucket string, q ListQuery) (ListResult, error)

	// CreateMultipartUpload starts an upload and returns its ID.
	CreateMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error)
	// UploadPart stores part number part (1..10000) of an upload, replacing an
	// earlier part with the same number. ErrNoSuchUpload if the upload is gone.
	// opts.ContentMD5, if set, is verified (ErrBadDigest).
	UploadPart(ctx context.Context, bucket, key, uploadID string, part int, r io.Reader, size int64, opts PutOptions) (PartInfo, error)
	// CompleteMultipartUpload assembles the listed parts (ascending, each
	// ETag matching the stored part) into the object. Errors: ErrNoSuchUpload,
	// ErrInvalidPart, ErrInvalidPartOrder, ErrEntityTooSmall (a part other
	// than the last under 5 MiB).
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart) (ObjectInfo, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	ListParts(ctx context.Context, bucket, key, uploadID string, partMarker, maxParts int) (ListPartsResult, error)
	ListMultipartUploads(ctx context.Context, bucket string, q UploadQuery) (ListUploadsResult, error)
}

// Credentials looks up the secret key of an access key. It returns
// ErrInvalidAccessKeyID for an unknown key.
type Credentials interface {
	SecretKey(ctx context.Context, accessKey string) (string, error)
}

// Object is a handle on one stored object version.
type Object interface {
	Info() ObjectInfo
	// Open returns a reader of length bytes starting at offset. The caller
	// has validated the range against Info().Size. Bytes that fail their
	// content address are never returned: the reader fails instead.
	Open(ctx context.Context, offset, length int64) (io.ReadCloser, error)
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// ObjectInfo describes an object version.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // without quotes: hex MD5, or hex-N for multipart
	CID          string // the object's content address (CIDv1 string)
	LastModified time.Time
	ContentType  string
	// Headers holds the standard headers stored with the object, canonical
	// names: Cache-Control, Content-Disposition, Content-Encoding,
	// Content-Language, Expires.
	Headers map[string]string
	// UserMeta holds x-amz-meta-* values keyed by lower-case name without the
	// prefix.
	UserMeta map[string]string
	// PartsCount is the number of parts of a multipart object, 0 otherwise.
	PartsCount int
	// PartSizes lists the sizes of a multipart object's parts, in order
	// (nil otherwise): GetObject with partNumber and GetObjectAttributes
	// use them. A Backend that leaves it nil while PartsCount > 0 makes
	// those answer NotImplemented.
	PartSizes []int64
	// Tags are the object's tags (nil: none).
	Tags map[string]string
	// SSE is how the object is encrypted, as S3 reports it (sse.go);
	// never its CustomerKey.
	SSE Encryption

	// Versioning and object lock (VersionedBackend): the version's ID
	// (x-amz-version-id: "null" for a null version written while
	// versioning was suspended, "" for one of a bucket that never had
	// versioning, which S3 does not name but in listings), its kind, and
	// its lock.
	VersionID    string
	DeleteMarker bool
	IsLatest     bool
	LockMode     string
	RetainUntil  time.Time
	LegalHold    bool
	// LegalHoldSet: a legal hold was ever placed (LegalHold says whether
	// it still is).
	LegalHoldSet bool
}

// PutOptions carries what a PUT or CreateMultipartUpload stores besides bytes.
type PutOptions struct {
	ContentType string
	Headers     map[string]string
	UserMeta    map[string]string
	// ContentMD5 is the decoded Content-MD5 header, nil if absent. The
	// backend compares it with the MD5 it computes and returns ErrBadDigest
	// (storing nothing) on a mismatch.
	ContentMD5 []byte
	// Tags are the object's tags, from x-amz-tagging (nil: none).
	Tags map[string]string
	// SSE is the encryption asked for (sse.go). For UploadPart, only its
	// CustomerKey is set: it must be the upload's (ErrCustomerKeyRequired,
	// ErrCustomerKeyMismatch, ErrCustomerKeyNotApplicable otherwise).
	SSE Encryption

	// Cond is the write's condition (VersionedBackend; nil: none).
	Cond *WriteCond
	// The lock of the version written (VersionedBackend): a retention
	// (LockMode "" for the bucket's default) and a legal hold.
	LockMode    string
	RetainUntil time.Time
	LegalHold   bool
	// Checksummed: the request carried Content-MD5 or an x-amz-checksum
	// header, which S3 requires of a PutObject that takes a retention
	// (the bucket's default one included): without it the backend
	// returns ErrLockChecksumRequired.
	Checksummed bool
}

// CopyOptions controls CopyObject.
type CopyOptions struct {
	ReplaceMetadata bool
	Put             PutOptions // used when ReplaceMetadata; not its Tags
	// ReplaceTags gives the copy Tags (x-amz-tagging-directive REPLACE);
	// otherwise it keeps the source's tags.
	ReplaceTags bool
	Tags        map[string]string
	// SSES3 is the copy's SSE-S3, which it does not take from its source.
	// CopyObject is not asked to copy to or from a customer key: those
	// copies are a read and a PutObject.
	SSES3 bool
}

// ListQuery is a ListObjects(V2) request. Marker is the V1 marker or the V2
// start-after/continuation key: results are keys strictly greater.
type ListQuery struct {
	Prefix    string
	Delimiter string
	Marker    string
	MaxKeys   int
}

// ListResult is one page of a listing, in key order.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextMarker is the last key or common prefix returned, set when
	// IsTruncated.
	NextMarker string
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	Number       int
	ETag         string
	Size         int64
	LastModified time.Time
	// SSES3 is set by UploadPart when the upload asked for SSE-S3.
	SSES3 bool
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number int
	ETag   string // quotes already stripped
}

// ListPartsResult is one page of ListParts.
type ListPartsResult struct {
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
	Initiated            time.Time
}

// UploadQuery is a ListMultipartUploads request.
type UploadQuery struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int
}

// UploadInfo describes an upload in progress.
type UploadInfo struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []UploadInfo
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// Sentinel errors a Backend returns; errors.go maps each to its S3 code and
// HTTP status.
var (
	ErrNoSuchBucket            = errors.New("s3: no such bucket")
	ErrNoSuchKey               = errors.New("s3: no such key")
	ErrBucketNotEmpty          = errors.New("s3: bucket not empty")
	ErrBucketAlreadyOwnedByYou = errors.New("s3: bucket already owned by you")
	ErrNoSuchUpload            = errors.New("s3: no such upload")
	ErrInvalidPart             = errors.New("s3: invalid part")
	ErrInvalidPartOrder        = errors.New("s3: invalid part order")
	ErrEntityTooSmall          = errors.New("s3: entity too small")
	ErrEntityTooLarge          = errors.New("s3: entity too large")
	ErrBadDigest               = errors.New("s3: bad digest")
	ErrIncompleteBody          = errors.New("s3: incomplete body")
	ErrInvalidAccessKeyID      = errors.New("s3: invalid access key id")
	// ErrSlowDown means the store is temporarily unable to serve (for
	// example too few storage nodes answer); clients retry.
	ErrSlowDown = errors.New("s3: slow down")
	// ErrServiceUnavailable means the store cannot serve the request now:
	// too few shards of a stripe can be read or stored, or the metadata
	// group has no leader. 503 ServiceUnavailable; clients retry.
	ErrServiceUnavailable = errors.New("s3: service unavailable")
)
