package meta

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// A command (the data of a raft entry) is
//
//	byte     cmdVersion
//	byte     op
//	8 bytes  the proposer's time, Unix nanoseconds (1970..2262), big endian
//	...      the op's arguments (enc), as written by the Store method
//
// The state machine reads no clock: a time it records (a bucket's
// creation, when a chunk became garbage) is the command's.
const cmdVersion = 1

type op byte

const (
	opCreateBucket op = iota + 1
	opDeleteBucket
	opPutObject
	opDeleteObjects
	opCreateUpload
	opPutPart
	opCompleteUpload
	opAbortUpload
	opPutKey
	opDeleteKey
	opSetLayout
	opForgetGarbage
	opCollect
	opSetStripeNodes
	opAddReputation
	opReplaceStripe
	opSetSealMigration
	opSetBucketConfig
	opCreateBucketConfigured
	opDeleteVersions
	opSetObjectLock
)

// Ops numbered apart from the list above, which other work appends to:
// an op's number is stored in the raft log and must never change.
const (
	opSetObjectTags  op = 64
	opSetVersionTags op = 65 // SetObjectTags of one version (op 64 stays as it was)
)

const cmdHeaderLen = 10

// newCmd starts a command.
func newCmd(o op, now time.Time, sizeHint int) *enc {
	b := make([]byte, cmdHeaderLen, cmdHeaderLen+sizeHint)
	b[0] = cmdVersion
	b[1] = byte(o)
	binary.BigEndian.PutUint64(b[2:], uint64(unixNano(now)))
	return &enc{b: b}
}

// Limits checked before a command is proposed (ErrInvalidArgument). They
// keep every bbolt key well under bbolt's 32 KiB; S3's own limits (bucket
// names of 3..63 bytes, keys up to 1024 bytes) are the gateway's to check.
const (
	maxBucketLen   = 255
	maxKeyLen      = 4096
	maxIDLen       = 1024
	maxCIDLen      = 256
	MaxPartNumber  = 10000 // S3's largest part number
	maxDeleteBatch = 10000
)

func checkName(what, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s", ErrInvalidArgument, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidArgument, what, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidArgument, what)
	}
	return nil
}

func checkBucket(b string) error { return checkName("bucket name", b, maxBucketLen) }
func checkKey(k string) error    { return checkName("object key", k, maxKeyLen) }

func checkUpload(bucket, key, id string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	return checkName("upload ID", id, maxIDLen)
}

func checkPartNumber(n int) error {
	if n < 1 || n > MaxPartNumber {
		return fmt.Errorf("%w: part number %d not in 1..%d", ErrInvalidArgument, n, MaxPartNumber)
	}
	return nil
}

// wtx is a state machine write transaction, with the time of the command
// being applied.
type wtx struct {
	tx    *bolt.Tx
	index uint64 // raft index of the entry being applied
	// result is what the command answers when it is not rejected (a
	// version ID...); nil for most commands.
	result   any
	now      time.Time
	nowKey   []byte // timeKey(now)
	buckets  *bolt.Bucket
	objects  *bolt.Bucket
	uploads  *bolt.Bucket
	parts    *bolt.Bucket
	keys     *bolt.Bucket
	layouts  *bolt.Bucket
	chunks   *bolt.Bucket
	garbage  *bolt.Bucket
	forgot   *bolt.Bucket
	forgotT  *bolt.Bucket
	names    *bolt.Bucket
	bconfig  *bolt.Bucket
	versions *bolt.Bucket
}

func newWtx(tx *bolt.Tx) *wtx {
	return &wtx{
		tx:       tx,
		buckets:  tx.Bucket(bBuckets),
		objects:  tx.Bucket(bObjects),
		uploads:  tx.Bucket(bUploads),
		parts:    tx.Bucket(bParts),
		keys:     tx.Bucket(bKeys),
		layouts:  tx.Bucket(bLayouts),
		chunks:   tx.Bucket(bChunks),
		garbage:  tx.Bucket(bGarbage),
		forgot:   tx.Bucket(bForgot),
		forgotT:  tx.Bucket(bForgotT),
		names:    tx.Bucket(bNames),
		bconfig:  tx.Bucket(bBucketConfig),
		versions: tx.Bucket(bVersions),
	}
}

// apply applies one command. A command from a newer binary panics: this
// node must be upgraded rather than diverge from the others.
func (w *wtx) apply(data []byte) error {
	if len(data) < cmdHeaderLen {
		return reject(fmt.Errorf("%w: short command", errCorrupt))
	}
	if data[0] != cmdVersion {
		panic(fmt.Sprintf("meta: raft command version %d, this binary applies %d: upgrade it", data[0], cmdVersion))
	}
	w.now = time.Unix(0, int64(binary.BigEndian.Uint64(data[2:]))).UTC()
	w.nowKey = timeKey(w.now)
	d := &dec{b: data[cmdHeaderLen:]}
	var err error
	switch op(data[1]) {
	case opCreateBucket:
		err = w.createBucket(d)
	case opDeleteBucket:
		err = w.deleteBucket(d)
	case opPutObject:
		err = w.putObject(d)
	case opDeleteObjects:
		err = w.deleteObjects(d)
	case opCreateUpload:
		err = w.createUpload(d)
	case opPutPart:
		err = w.putPart(d)
	case opCompleteUpload:
		err = w.completeUpload(d)
	case opAbortUpload:
		err = w.abortUpload(d)
	case opPutKey:
		err = w.putKey(d)
	case opDeleteKey:
		err = w.deleteKey(d)
	case opSetLayout:
		err = w.setLayout(d)
	case opForgetGarbage:
		err = w.forgetGarbage(d)
	case opCollect:
		err = w.collect(d)
	case opSetStripeNodes:
		err = w.setStripeNodes(d)
	case opAddReputation:
		err = w.addReputation(d)
	case opReplaceStripe:
		err = w.replaceStripe(d)
	case opSetSealMigration:
		err = w.setSealMigration(d)
	case opSetObjectTags:
		err = w.setObjectTags(d)
	case opSetVersionTags:
		err = w.setVersionTags(d)
	case opSetBucketConfig:
		err = w.setBucketConfig(d)
	case opCreateBucketConfigured:
		err = w.createBucketConfigured(d)
	case opDeleteVersions:
		err = w.deleteVersions(d)
	case opSetObjectLock:
		err = w.setObjectLock(d)
	default:
		panic(fmt.Sprintf("meta: raft command op %d unknown to this binary: upgrade it", data[1]))
	}
	return err
}

// args checks that a command's arguments decoded completely.
func args(d *dec) error {
	if d.err != nil {
		return reject(fmt.Errorf("%w: command arguments", errCorrupt))
	}
	if len(d.b) != 0 {
		return reject(fmt.Errorf("%w: trailing command bytes", errCorrupt))
	}
	return nil
}
