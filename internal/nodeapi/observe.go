package nodeapi

import (
	"context"
	"errors"
	"time"

	"cairn/internal/blob"
)

// ShardOp is one of the shard operations a storage node serves.
type ShardOp uint8

// The shard operations, by the HTTP method of their request.
const (
	ShardPut ShardOp = iota
	ShardGet
	ShardHead
	ShardDelete
)

// ShardOps returns every ShardOp, for an observer to prepare one of each.
func ShardOps() []ShardOp { return []ShardOp{ShardPut, ShardGet, ShardHead, ShardDelete} }

// String returns the operation's name in metrics: "put", "get", "head" or
// "delete".
func (o ShardOp) String() string {
	switch o {
	case ShardPut:
		return "put"
	case ShardGet:
		return "get"
	case ShardHead:
		return "head"
	case ShardDelete:
		return "delete"
	}
	return "unknown"
}

// ShardResult is how a shard operation ended.
type ShardResult uint8

// The results of a shard operation.
const (
	// ResultOK: done (a DELETE of a shard the node does not hold too).
	ResultOK ShardResult = iota
	// ResultNotFound: the node does not hold the shard (GET, HEAD).
	ResultNotFound
	// ResultCorrupt: the stored copy failed its check and was quarantined
	// (GET), or a PUT body did not match its CID.
	ResultCorrupt
	// ResultRefused: the request was turned away before the store saw
	// it: not signed with the cluster secret, malformed, too large.
	ResultRefused
	// ResultCanceled: the caller gave up (a hedged read that another
	// node won, a deadline) before the node answered.
	ResultCanceled
	// ResultError: the store failed (a disk error, a full disk).
	ResultError
)

// ShardResults returns every ShardResult, for an observer to prepare one
// of each.
func ShardResults() []ShardResult {
	return []ShardResult{ResultOK, ResultNotFound, ResultCorrupt, ResultRefused, ResultCanceled, ResultError}
}

// String returns the result's name in metrics: "ok", "not_found",
// "corrupt", "refused", "canceled" or "error".
func (r ShardResult) String() string {
	switch r {
	case ResultOK:
		return "ok"
	case ResultNotFound:
		return "not_found"
	case ResultCorrupt:
		return "corrupt"
	case ResultRefused:
		return "refused"
	case ResultCanceled:
		return "canceled"
	case ResultError:
		return "error"
	}
	return "unknown"
}

// ResultOf classifies the error a shard operation ended with: an error of
// the node API server, or of a blob.Store (for callers that reach a store
// of their own process without HTTP).
func ResultOf(err error) ShardResult {
	if e, ok := errors.AsType[*apiError](err); ok {
		switch e.code {
		case codeNotFound:
			return ResultNotFound
		case codeShardCorrupt, codeBadDigest:
			return ResultCorrupt
		case codeUnavailable:
			return ResultCanceled
		case codeInternal:
			return ResultError
		}
		return ResultRefused
	}
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, blob.ErrNotFound):
		return ResultNotFound
	case errors.Is(err, blob.ErrCorrupt):
		return ResultCorrupt
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ResultCanceled
	}
	return ResultError
}

// ShardObserver is told about every shard operation a Server answers,
// once its response is written. Bytes is the shard bytes received (PUT)
// or sent (GET); elapsed runs from the request's arrival to the end of the
// response. ObserveShard runs on the request's goroutine: it must be cheap
// and safe for concurrent use.
type ShardObserver interface {
	ObserveShard(op ShardOp, result ShardResult, bytes int64, elapsed time.Duration)
}

// shardOp returns the ShardOp of a parsed request, and false for requests
// that are not shard operations (inventory, status, unparsable ones).
func (k opKind) shardOp() (ShardOp, bool) {
	switch k {
	case opPutShard:
		return ShardPut, true
	case opGetShard:
		return ShardGet, true
	case opHasShard:
		return ShardHead, true
	case opDeleteShard:
		return ShardDelete, true
	}
	return 0, false
}
