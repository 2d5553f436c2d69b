package s3gw

import (
	"io"
	"time"
)

// Observer is told about every request a Server answers, so that the
// caller can keep metrics without s3gw knowing how. It lives here, with its
// consumer; Cairn's Prometheus metrics (internal/metrics) implement it.
type Observer interface {
	// Operation returns the observer of one operation, named as S3 names
	// it ("GetObject", "PutObject", "ListObjectsV2", ...; see Operations),
	// or of requests that named no operation Cairn implements when name
	// is "". New calls it once per operation and keeps the result, so an
	// implementation may do its costly work (label lookups) there and
	// nothing of it per request. It must not return nil.
	Operation(name string) OperationObserver
}

// OperationObserver is told about every request of one operation. Done
// runs once per request, on the request's goroutine, once the handler has
// returned (also when the response was cut off half way); it must be
// cheap and safe for concurrent use.
type OperationObserver interface {
	Done(RequestStats)
}

// RequestStats is what a Server saw of one request.
type RequestStats struct {
	// Status is the HTTP status code sent (200 when the handler sent
	// nothing: net/http sends 200 then).
	Status int
	// Duration is the time from the request's arrival at ServeHTTP to the
	// handler's return: for a GetObject, until the last byte was handed to
	// the connection.
	Duration time.Duration
	// Received is the bytes of request body read, as sent (aws-chunked
	// framing and signatures included); Sent is the bytes of response body
	// written. Neither counts headers.
	Received, Sent int64
	// Aborted says that the response failed after its status was sent
	// (a GetObject whose Backend failed half way): the connection was cut
	// and the client got a truncated body, whatever Status says.
	Aborted bool
}

// operations lists every operation, for Operations and for New to ask the
// Observer about each. A test checks that it holds every opSpec of
// router.go.
var operations = []*opSpec{
	opListBuckets, opCreateBucket, opHeadBucket, opDeleteBucket,
	opGetBucketLocation, opGetBucketVersioning, opListObjects, opListObjectsV2,
	opListMultipartUploads, opDeleteObjects, opPutObject, opCopyObject,
	opGetObject, opHeadObject, opDeleteObject, opCreateMultipart, opUploadPart,
	opUploadPartCopy, opCompleteMultipart, opAbortMultipart, opListParts,
	opGetObjectAttributes, opPutObjectTagging, opGetObjectTagging, opDeleteObjectTagging,
	opGetBucketEncryption, opPutBucketEncryption, opDeleteBucketEncryption,
}

// Operations returns the S3 names of the operations a Server implements,
// in no particular order.
func Operations() []string {
	names := make([]string, len(operations))
	for i, o := range operations {
		names[i] = o.name
	}
	return names
}

// observers are the OperationObservers of one Server, asked for once.
type observers struct {
	byOp    map[*opSpec]OperationObserver
	unknown OperationObserver // requests that named no operation
}

func newObservers(obs Observer) *observers {
	if obs == nil {
		return nil
	}
	o := &observers{byOp: make(map[*opSpec]OperationObserver, len(operations)), unknown: obs.Operation("")}
	for _, spec := range operations {
		o.byOp[spec] = obs.Operation(spec.name)
	}
	return o
}

// done reports one finished request to its operation's observer.
func (o *observers) done(op *op, w *responseWriter, start time.Time) {
	ob := o.unknown
	if op != nil && op.spec != nil {
		if x, ok := o.byOp[op.spec]; ok {
			ob = x
		}
	}
	ob.Done(RequestStats{
		Status:   w.status(),
		Duration: time.Since(start),
		Received: w.body.n,
		Sent:     w.written,
		Aborted:  w.aborted,
	})
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }
