package metarpc

import (
	"context"
	"time"

	"cairn/internal/meta"
)

// API is the metadata interface that Server serves and Client implements:
// every method of the gateway's Meta interface, and what operators need
// (access keys, the layout, garbage collection). The signatures are
// meta.Store's; so are the contracts (see meta's documentation), with the
// forwarding caveats of Client.
type API interface {
	CreateBucket(ctx context.Context, name string, now time.Time) error
	DeleteBucket(ctx context.Context, name string) error
	GetBucket(ctx context.Context, name string) (*meta.Bucket, error)
	ListBuckets(ctx context.Context) ([]*meta.Bucket, error)

	PutObject(ctx context.Context, obj *meta.Object) error
	GetObject(ctx context.Context, bucket, key string) (*meta.Object, error)
	DeleteObjects(ctx context.Context, bucket string, keys []string) error
	ListObjects(ctx context.Context, bucket string, q meta.ListQuery) (*meta.ListResult, error)

	CreateUpload(ctx context.Context, u *meta.Upload) error
	GetUpload(ctx context.Context, bucket, key, id string) (*meta.Upload, error)
	PutPart(ctx context.Context, bucket, key, id string, p *meta.Part) error
	ListParts(ctx context.Context, bucket, key, id string, marker, limit int) ([]*meta.Part, bool, error)
	CompleteUpload(ctx context.Context, id string, parts []meta.PartRef, obj *meta.Object) error
	AbortUpload(ctx context.Context, bucket, key, id string) error
	ListUploads(ctx context.Context, bucket string, q meta.UploadQuery) (*meta.UploadList, error)

	PutKey(ctx context.Context, k *meta.Key) error
	GetKey(ctx context.Context, id string) (*meta.Key, error)
	ListKeys(ctx context.Context) ([]*meta.Key, error)
	DeleteKey(ctx context.Context, id string) error

	SetLayout(ctx context.Context, l *meta.Layout) error
	Layout(ctx context.Context) (*meta.Layout, error)
	LayoutVersion(ctx context.Context, version uint64) (*meta.Layout, error)

	Garbage(ctx context.Context, olderThan time.Time, limit int) ([]meta.GarbageChunk, error)
	ForgetGarbage(ctx context.Context, cids [][]byte) error
	ChunkRefs(ctx context.Context, chunkCID []byte) (int64, error)
	Collect(ctx context.Context, cids [][]byte, olderThan time.Time) error
	Chunk(ctx context.Context, chunkCID []byte) (*meta.ChunkInfo, error)
	Chunks(ctx context.Context, after []byte, limit int) ([]meta.ChunkInfo, []byte, error)
	SetStripeNodes(ctx context.Context, cid []byte, old, nodes []string, layout uint64) error

	AddReputation(ctx context.Context, deltas []meta.ReputationDelta) error
	Reputations(ctx context.Context) ([]meta.Reputation, error)
	ChunkByName(ctx context.Context, name []byte) (*meta.ChunkInfo, error)
	ReplaceStripe(ctx context.Context, cid []byte, old [][]byte, next meta.Stripe) error
	SealMigration(ctx context.Context) (bool, error)
	SetSealMigration(ctx context.Context, on bool) error

	SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error
	GetBucketConfig(ctx context.Context, bucket string) (*meta.BucketConfig, error)
	SetBucketConfig(ctx context.Context, bucket string, part meta.BucketConfigPart, cfg *meta.BucketConfig) error
	CreateBucketConfigured(ctx context.Context, name string, now time.Time, cfg *meta.BucketConfig) error
	GetObjectVersion(ctx context.Context, bucket, key, id string) (*meta.Object, error)
	DeleteVersions(ctx context.Context, bucket string, targets []meta.DeleteTarget, bypass bool) ([]meta.DeleteOutcome, error)
	ListObjectVersions(ctx context.Context, bucket string, q meta.VersionQuery) (*meta.VersionList, error)
	SetObjectLock(ctx context.Context, bucket, key, id string, c meta.LockChange) (string, error)
	SetVersionTags(ctx context.Context, bucket, key, id string, tags map[string]string) (string, error)
}

var (
	_ API = (*meta.Store)(nil)
	_ API = (*Client)(nil)
)

// method names one call of the wire protocol: its name is the last
// element of its path, /v1/meta/{name}. A write changes the state machine
// (one raft entry); a read does not, so a read can be sent again whatever
// happened to the first try.
type method struct {
	name  string
	write bool
}

// The methods of version 1, in API order.
var (
	mCreateBucket   = method{"CreateBucket", true}
	mDeleteBucket   = method{"DeleteBucket", true}
	mGetBucket      = method{"GetBucket", false}
	mListBuckets    = method{"ListBuckets", false}
	mPutObject      = method{"PutObject", true}
	mGetObject      = method{"GetObject", false}
	mDeleteObjects  = method{"DeleteObjects", true}
	mListObjects    = method{"ListObjects", false}
	mCreateUpload   = method{"CreateUpload", true}
	mGetUpload      = method{"GetUpload", false}
	mPutPart        = method{"PutPart", true}
	mListParts      = method{"ListParts", false}
	mCompleteUpload = method{"CompleteUpload", true}
	mAbortUpload    = method{"AbortUpload", true}
	mListUploads    = method{"ListUploads", false}
	mPutKey         = method{"PutKey", true}
	mGetKey         = method{"GetKey", false}
	mListKeys       = method{"ListKeys", false}
	mDeleteKey      = method{"DeleteKey", true}
	mSetLayout      = method{"SetLayout", true}
	mLayout         = method{"Layout", false}
	mLayoutVersion  = method{"LayoutVersion", false}
	mGarbage        = method{"Garbage", false}
	mForgetGarbage  = method{"ForgetGarbage", true}
	mChunkRefs      = method{"ChunkRefs", false}
	mCollect        = method{"Collect", true}
	mChunk          = method{"Chunk", false}
	mChunks         = method{"Chunks", false}
	mSetStripeNodes = method{"SetStripeNodes", true}
	mAddReputation  = method{"AddReputation", true}
	mReputations    = method{"Reputations", false}

	mChunkByName      = method{"ChunkByName", false}
	mReplaceStripe    = method{"ReplaceStripe", true}
	mSealMigration    = method{"SealMigration", false}
	mSetSealMigration = method{"SetSealMigration", true}
)

// Methods added to version 1 later; a server without one answers 404.
var (
	mSetObjectTags = method{"SetObjectTags", true}
)

// PathPrefix is the path under which Server answers; mount it there:
// mux.Handle(metarpc.PathPrefix, srv).
const PathPrefix = "/v1/meta/"
