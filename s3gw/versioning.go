package s3gw

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// VersionedBackend is what a Backend also implements to serve S3
// versioning, object lock, conditional writes and bucket tagging. A
// Backend without it answers those requests NotImplemented.
//
// Writes through Backend honour PutOptions' conditions and lock, and
// answer the version they made in ObjectInfo.VersionID.
type VersionedBackend interface {
	// CreateBucketWithLock creates an object lock bucket (versioning
	// Enabled for good).
	CreateBucketWithLock(ctx context.Context, bucket string) error
	// BucketConfig returns a bucket's sub-resources: ErrNoSuchBucket.
	BucketConfig(ctx context.Context, bucket string) (BucketConfig, error)
	// SetBucketVersioning sets "Enabled" or "Suspended":
	// ErrInvalidBucketState on an object lock bucket.
	SetBucketVersioning(ctx context.Context, bucket, status string) error
	// SetObjectLockConfig sets an object lock bucket's default retention:
	// ErrLockNotEnabled on another bucket.
	SetObjectLockConfig(ctx context.Context, bucket string, c ObjectLockConfig) error
	// SetBucketTags replaces the bucket's tags (nil removes them).
	SetBucketTags(ctx context.Context, bucket string, tags []Tag) error
	// SetBucketLifecycle replaces the bucket's lifecycle rules (nil
	// removes them).
	SetBucketLifecycle(ctx context.Context, bucket string, rules []LifecycleRule) error

	// GetObjectVersion returns a handle on a version ("": the current
	// one); a delete marker is a handle whose Info().DeleteMarker is set
	// and which has nothing to Open. ErrNoSuchKey, ErrNoSuchVersion,
	// ErrInvalidVersionID.
	GetObjectVersion(ctx context.Context, bucket, key, versionID string) (Object, error)
	// DeleteVersions deletes keys or versions as S3's DELETE does, one
	// result per target, in order; bypass lets GOVERNANCE retention give
	// way. An error for the whole call is ErrNoSuchBucket or worse.
	DeleteVersions(ctx context.Context, bucket string, targets []DeleteTarget, bypass bool) ([]DeleteResult, error)
	ListObjectVersions(ctx context.Context, bucket string, q VersionQuery) (VersionList, error)
	// CopyObjectVersion is CopyObject from a version of the source
	// ("": the current one), writing under opts.Put's conditions and
	// lock.
	CopyObjectVersion(ctx context.Context, srcBucket, srcKey, srcVersion, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
	// SetObjectLock changes a version's retention or legal hold and
	// answers its version ID: ErrObjectLocked (AccessDenied) for a change
	// the retention forbids.
	SetObjectLock(ctx context.Context, bucket, key, versionID string, c LockChange) (string, error)
	// CompleteMultipartUploadCond is CompleteMultipartUpload under a
	// write condition.
	CompleteMultipartUploadCond(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, cond WriteCond) (ObjectInfo, error)
}

// BucketConfig is a bucket's versioning, object lock, lifecycle and tags.
type BucketConfig struct {
	Versioning string // "", "Enabled", "Suspended"
	ObjectLock *ObjectLockConfig
	Lifecycle  []LifecycleRule
	Tags       []Tag
	// Access control (access.go): the policy document ("" none), the
	// canned ACL ("" private), the CORS rules.
	Policy string
	ACL    string
	CORS   []CORSRule
}

// ObjectLockConfig is an object lock bucket's default retention (Mode ""
// for none).
type ObjectLockConfig struct {
	Mode  string
	Days  int
	Years int
}

// Tag is a key=value tag.
type Tag struct {
	Key, Value string
}

// LifecycleRule is one lifecycle rule (see the lifecycle configuration
// XML); days count lifecycle days.
type LifecycleRule struct {
	ID                        string
	Enabled                   bool
	Prefix                    string
	Tags                      []Tag
	ExpirationDays            int
	ExpirationDate            time.Time
	ExpiredObjectDeleteMarker bool
	NoncurrentDays            int
	NewerNoncurrent           int
	AbortMultipartDays        int
}

// WriteCond is a conditional write's condition: If-None-Match: * and
// If-Match: ETag.
type WriteCond struct {
	IfNoneMatch bool
	IfMatch     string
}

// LockChange is a PutObjectRetention (Retention) or PutObjectLegalHold
// (Hold) request.
type LockChange struct {
	Retention   bool
	Mode        string // "" removes the retention
	RetainUntil time.Time
	Hold        bool
	LegalHold   bool
	Bypass      bool
}

// DeleteTarget is one key, or one version of it, to delete.
type DeleteTarget struct {
	Key       string
	VersionID string // "": the key, as DELETE without versionId
}

// DeleteResult is what deleting a DeleteTarget did: the version deleted or
// the delete marker made, or Err.
type DeleteResult struct {
	VersionID    string
	DeleteMarker bool
	Err          error
}

// VersionQuery is a ListObjectVersions request.
type VersionQuery struct {
	Prefix          string
	Delimiter       string
	KeyMarker       string
	VersionIDMarker string
	MaxKeys         int
}

// VersionList is one page of ListObjectVersions.
type VersionList struct {
	Versions            []ObjectInfo // IsLatest and DeleteMarker set
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// Sentinels of VersionedBackend.
var (
	ErrNoSuchVersion          = errors.New("s3: no such version")
	ErrInvalidVersionID       = errors.New("s3: invalid version id")
	ErrPreconditionFailed     = errors.New("s3: precondition failed")
	ErrConditionalConflict    = errors.New("s3: conditional request conflict")
	ErrObjectLocked           = errors.New("s3: object locked")
	ErrLockNotEnabled         = errors.New("s3: object lock not enabled")
	ErrInvalidBucketState     = errors.New("s3: invalid bucket state")
	ErrNoSuchTagSet           = errors.New("s3: no such tag set")
	ErrNoSuchLifecycle        = errors.New("s3: no such lifecycle configuration")
	ErrNoSuchObjectLockConfig = errors.New("s3: no object lock configuration")
	// ErrLockChecksumRequired: a PutObject that would take a retention
	// carried neither Content-MD5 nor a checksum.
	ErrLockChecksumRequired = errors.New("s3: object lock PUT needs Content-MD5 or a checksum")
)

// versionErrors maps the sentinels above; errors.go's toAPIError reads it
// after its own table.
var versionErrors = []struct {
	err error
	api *APIError
}{
	{ErrNoSuchVersion, errNoSuchVersion},
	{ErrInvalidVersionID, errInvalidArgument.withMessage("Invalid version id specified")},
	{ErrPreconditionFailed, errPreconditionFailed},
	{ErrConditionalConflict, &APIError{"ConditionalRequestConflict", http.StatusConflict, "A conflicting conditional operation is currently in progress against this resource. Please try again."}},
	{ErrObjectLocked, errAccessDenied},
	{ErrLockNotEnabled, errInvalidRequest.withMessage("Bucket is missing Object Lock Configuration")},
	{ErrInvalidBucketState, &APIError{"InvalidBucketState", http.StatusConflict, "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."}},
	{ErrNoSuchTagSet, &APIError{"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist"}},
	{ErrNoSuchLifecycle, &APIError{"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist"}},
	{ErrNoSuchObjectLockConfig, &APIError{"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket"}},
	{ErrLockChecksumRequired, errLockChecksum},
	{ErrVersionIsDeleteMarker, errMethodNotAllowed},
}

// headerError is an error whose response carries headers besides the
// error XML (a delete marker's x-amz-delete-marker and
// x-amz-version-id).
type headerError struct {
	err error
	h   map[string]string
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// The operations of this file's family.
var (
	opListObjectVersions   = &opSpec{"ListObjectVersions", (*Server).listObjectVersions}
	opPutBucketVersioning  = &opSpec{"PutBucketVersioning", (*Server).putBucketVersioning}
	opGetBucketVersioningV = &opSpec{"GetBucketVersioning", (*Server).getBucketVersioningV}
	opCreateBucketLocked   = &opSpec{"CreateBucket", (*Server).createBucketLocked}
	opGetObjectLockConfig  = &opSpec{"GetObjectLockConfiguration", (*Server).getObjectLockConfig}
	opPutObjectLockConfig  = &opSpec{"PutObjectLockConfiguration", (*Server).putObjectLockConfig}
	opGetBucketTagging     = &opSpec{"GetBucketTagging", (*Server).getBucketTagging}
	opPutBucketTagging     = &opSpec{"PutBucketTagging", (*Server).putBucketTagging}
	opDeleteBucketTagging  = &opSpec{"DeleteBucketTagging", (*Server).deleteBucketTagging}
	opGetBucketLifecycle   = &opSpec{"GetBucketLifecycleConfiguration", (*Server).getBucketLifecycle}
	opPutBucketLifecycle   = &opSpec{"PutBucketLifecycleConfiguration", (*Server).putBucketLifecycle}
	opDeleteBucketLifecyle = &opSpec{"DeleteBucketLifecycle", (*Server).deleteBucketLifecycle}
	opGetObjectRetention   = &opSpec{"GetObjectRetention", (*Server).getObjectRetention}
	opPutObjectRetention   = &opSpec{"PutObjectRetention", (*Server).putObjectRetention}
	opGetObjectLegalHold   = &opSpec{"GetObjectLegalHold", (*Server).getObjectLegalHold}
	opPutObjectLegalHold   = &opSpec{"PutObjectLegalHold", (*Server).putObjectLegalHold}
)

// subOps maps a sub-resource of this family to its operation by method.
type subOps struct {
	sub      string
	byMethod map[string]*opSpec
}

var (
	bucketSubOps = []subOps{
		{"versions", map[string]*opSpec{http.MethodGet: opListObjectVersions}},
		{"versioning", map[string]*opSpec{http.MethodGet: opGetBucketVersioningV, http.MethodPut: opPutBucketVersioning}},
		{"object-lock", map[string]*opSpec{http.MethodGet: opGetObjectLockConfig, http.MethodPut: opPutObjectLockConfig}},
		{"tagging", map[string]*opSpec{http.MethodGet: opGetBucketTagging, http.MethodPut: opPutBucketTagging, http.MethodDelete: opDeleteBucketTagging}},
		{"lifecycle", map[string]*opSpec{http.MethodGet: opGetBucketLifecycle, http.MethodPut: opPutBucketLifecycle, http.MethodDelete: opDeleteBucketLifecyle}},
	}
	objectSubOps = []subOps{
		{"retention", map[string]*opSpec{http.MethodGet: opGetObjectRetention, http.MethodPut: opPutObjectRetention}},
		{"legal-hold", map[string]*opSpec{http.MethodGet: opGetObjectLegalHold, http.MethodPut: opPutObjectLegalHold}},
	}
)

// versionOp recognises the requests of this family before parseOp
// refuses their sub-resources: it sets o.spec and returns true for one of
// them. Object tagging is not among them (only the bucket's).
func versionOp(o *op, r *http.Request) (bool, error) {
	q := o.query
	if o.bucket == "" {
		return false, nil
	}
	if o.key == "" && r.Method == http.MethodPut && len(q) == 0 &&
		strings.EqualFold(r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		o.spec = opCreateBucketLocked
		return true, nil
	}
	if len(q) == 0 {
		return false, nil
	}
	subs := bucketSubOps
	if o.key != "" {
		subs = objectSubOps
	}
	for _, so := range subs {
		if !q.Has(so.sub) {
			continue
		}
		if o.key != "" {
			if err := checkKey(o.key); err != nil {
				return true, err
			}
		}
		spec, ok := so.byMethod[r.Method]
		if !ok {
			return true, errMethodNotAllowed
		}
		o.spec = spec
		return true, nil
	}
	return false, nil
}

func (s *Server) versioned() (VersionedBackend, error) {
	vb, ok := s.backend.(VersionedBackend)
	if !ok {
		return nil, errNotImplemented.withMessage("Versioning and object lock are not implemented by this store.")
	}
	return vb, nil
}
