// Package metarpc forwards metadata calls to the leader of the metadata
// raft group over HTTP. Only --meta nodes run a meta.Store; every gateway
// still reads and writes metadata, and reads must be linearizable (S3's
// read-after-write and list-after-write), which the store guarantees on
// its leader only. So each meta node serves its store with a Server, and
// a gateway calls a Client, which implements the same interface (API:
// every method of the gateway's Meta interface, and the operators'
// methods) and sends each call to the current leader.
//
// # Use
//
// On each meta node, beside the other node API handlers:
//
//	srv, err := metarpc.NewServer(metarpc.ServerConfig{
//		Store:     store,  // *meta.Store
//		Signer:    signer, // nodeauth, from the cluster secret
//		Logger:    log,
//		LeaderAPI: apiURLOfRaftAddr, // optional: lets followers redirect
//	})
//	mux.Handle(metarpc.PathPrefix, srv)
//
// On a gateway:
//
//	c, err := metarpc.NewClient(metarpc.ClientConfig{
//		Leader: currentLeaderAPIURL, // "http://host:port", or "" if unknown
//		Signer: signer,
//	})
//	err = c.PutObject(ctx, manifest)
//
// Client and Server are safe for concurrent use and hold no state
// between calls: the Leader func is the only source of the leader, asked
// before each attempt.
//
// # Guarantees
//
// The contracts are meta.Store's: a call's result, and its error, are
// what the store on the leader returned. Errors keep their meaning:
// errors.Is(err, meta.ErrNoSuchKey) and the other sentinels work on the
// client's errors, errors.As finds a *meta.NotLeaderError, and a meta
// error's message is the store's own. What forwarding adds is one more
// way for a write's outcome to be unknown (see "Retries"), reported as
// ErrOutcomeUnknown.
//
// # Wire format, version 1
//
// A call is
//
//	POST /v1/meta/{Method}
//	Content-Type: application/json
//	Content-Length: n
//	X-Cairn-Date, X-Cairn-Content-Sha256, Authorization   (nodeauth)
//	Expect: 100-continue                                   (writes)
//
//	{the arguments}
//
// where Method is the name of an API method (CreateBucket, GetObject...)
// and the body is signed: X-Cairn-Content-Sha256 is the hex SHA-256 of
// the body (UNSIGNED-PAYLOAD is refused). The server checks, in order:
// the signature (else 401, and the body is not read), the path and the
// HTTP method (404, 405), the length against ServerConfig.MaxBody (413),
// the body against the signed hash (401), the JSON (400); only then does
// it call the store. A refused request changes nothing.
//
// Arguments and results are JSON objects, one field per argument or
// result; records travel with meta's own JSON tags (Bucket, Object,
// Chunk, Stripe, Upload, Part, Key, Layout), and the types meta does not
// tag travel as below. Times are RFC 3339 with nanoseconds (encoding/json
// time.Time); byte strings (CIDs, the placement key) are base64
// (standard, padded); null stands for a nil slice or pointer and [] for
// an empty one.
//
//	method           arguments                              result
//	CreateBucket     name, now                              {}
//	DeleteBucket     name                                   {}
//	GetBucket        name                                   bucket
//	ListBuckets      -                                      buckets
//	PutObject        object                                 {}
//	GetObject        bucket, key                            object
//	DeleteObjects    bucket, keys                           {}
//	ListObjects      bucket, query{prefix, delimiter,       objects, common_prefixes,
//	                 marker, max}                           truncated, next_marker
//	CreateUpload     upload                                 {}
//	GetUpload        bucket, key, id                        upload
//	PutPart          bucket, key, id, part                  {}
//	ListParts        bucket, key, id, marker, limit         parts, truncated
//	CompleteUpload   id, parts[{n, etag}], object           {}
//	AbortUpload      bucket, key, id                        {}
//	ListUploads      bucket, query{prefix, delimiter,       uploads, common_prefixes, truncated,
//	                 key_marker, upload_id_marker, max}     next_key_marker, next_upload_id_marker
//	PutKey           key                                    {}
//	GetKey           id                                     key
//	ListKeys         -                                      keys
//	DeleteKey        id                                     {}
//	SetLayout        layout                                 {}
//	Layout           -                                      layout (null if none)
//	LayoutVersion    version                                layout
//	Garbage          older_than, limit                      chunks[{cid, stripe, since, collecting}]
//	ForgetGarbage    cids                                   {}
//	ChunkRefs        cid                                    refs
//	Collect          cids, older_than                       {}
//	Chunk            cid                                    chunk {cid, size, refs, state, since, stripe} (null if none)
//	Chunks           after, limit                           chunks[chunk], next (null after the last)
//	SetStripeNodes   cid, old, nodes, layout                {}
//	AddReputation    deltas[{node, passed, missing,         {}
//	                 corrupt, lies, last_audit,
//	                 last_failure, eject, reason, pardon}]
//	Reputations      -                                      reputations[reputation]
//	ChunkByName      name                                   chunk (null if none)
//	ReplaceStripe    cid, old (shard CIDs), stripe          {}
//	SealMigration    -                                      on
//	SetSealMigration on                                     {}
//	SetObjectTags    bucket, key, tags {name: value}        {}
//	SetVersionTags   bucket, key, vid ("": current), tags   {vid}
//
// The methods with result {} are the writes (one raft entry each); the
// others are reads. Unknown fields are ignored: version 1 may gain an
// optional field whose absence means the old behaviour; any other change
// is version 2, under /v2/meta/.
//
// A 200 answer's body is the result. Any other answer's body is
//
//	{"error": {"code": "NoSuchKey", "message": "get object b/k: meta: no such key"}}
//
// and, for NotLeader only, "leader_id", "leader_addr" (raft address) and
// "leader_api" (the leader's node API URL, from ServerConfig.LeaderAPI),
// each when the answering node knows it. The codes, in the one table
// (errCodes) that both sides use:
//
//	code              status  error on the client
//	NotLeader         421     *meta.NotLeaderError (meta.ErrNotLeader)
//	NoSuchBucket      404     meta.ErrNoSuchBucket
//	BucketExists      409     meta.ErrBucketExists
//	BucketNotEmpty    409     meta.ErrBucketNotEmpty
//	NoSuchKey         404     meta.ErrNoSuchKey
//	NoSuchUpload      404     meta.ErrNoSuchUpload
//	InvalidPart       400     meta.ErrInvalidPart
//	NoSuchAccess      404     meta.ErrNoSuchAccess
//	InvalidArgument   400     meta.ErrInvalidArgument
//	StaleLayout       409     meta.ErrStaleLayout
//	NoSuchLayout      404     meta.ErrNoSuchLayout
//	OutcomeUnknown    503     ErrOutcomeUnknown (the leader lost its leadership after proposing)
//	DeadlineExceeded  504     context.DeadlineExceeded (+ ErrOutcomeUnknown for a write)
//	Canceled          503     context.Canceled (+ ErrOutcomeUnknown for a write)
//	Unauthorized      401     nodeauth.ErrUnauthorized
//	BadRequest        400     -
//	RequestTooLarge   413     -
//	UnknownMethod     404     -
//	MethodNotAllowed  405     -
//	InternalError     500     - (any other error, with its message)
//
// The client returns every error answer as an *Error (code, message,
// status) that wraps the error of its code.
//
// # Retries
//
// A call has a deadline: the caller's context, and ClientConfig.Timeout
// (30s). Until it passes the client tries, each attempt at the URL that
// Leader returns, or at the leader_api of the NotLeader answer just
// received (followed at once, once in a row; after a second refusal it
// asks Leader again). It tries again, after a backoff of 10ms doubling
// to 500ms (jittered), only when nothing can have been applied:
//
//   - the answer is NotLeader: the store refused before proposing
//     anything. meta.Store checks that it leads before raft.Apply, and
//     raft answers ErrNotLeader or ErrLeadershipTransferInProgress to an
//     Apply only before appending it to its log (a leader that steps down
//     with entries in flight answers ErrLeadershipLost for them instead:
//     OutcomeUnknown);
//   - Leader returned "" (an election): no attempt is made;
//   - the connection failed before the request's body was sent: refused,
//     or, on a kept-alive connection that the server had closed, before
//     the server asked for the body. A write asks for 100 Continue first,
//     so its body leaves only once a live server is reading it, and the
//     server acts on nothing but a whole body that matches the signed
//     hash;
//   - the call is a read, whatever happened to the connection: a read
//     changes nothing.
//
// Every other failure ends the call: any error answer (a meta error,
// Unauthorized...), and a write whose connection failed after its body
// may have been sent, which returns ErrOutcomeUnknown. When the deadline
// passes without a leader having answered, the error wraps
// meta.ErrNotLeader, the context's error and the last failure.
//
// The client never sends a write again once it may have reached a
// leader, so it never applies one twice. But a write can take effect
// without its caller knowing: ErrOutcomeUnknown (answer lost, leadership
// lost after proposing, the leader's ApplyTimeout), or the deadline
// passing while the leader commits. A caller that retries such a write
// itself should know which writes repeat harmlessly:
//
//   - idempotent: PutObject (the same manifest replaces itself, and the
//     chunk references it adds and releases cancel out), PutPart,
//     CreateUpload (same upload ID), PutKey, DeleteObjects,
//     ForgetGarbage, SetSealMigration, SetObjectTags and SetVersionTags. A retry does re-apply over any write made in
//     between: a PutObject retried after another client's put of the
//     same key puts the retried manifest back (last writer wins, as in
//     S3);
//   - not idempotent: the second application is refused with an error
//     that means "already done". CreateBucket returns ErrBucketExists,
//     DeleteBucket ErrNoSuchBucket, CompleteUpload ErrNoSuchUpload (the
//     object is there: compare its ETag), AbortUpload ErrNoSuchUpload,
//     DeleteKey ErrNoSuchAccess, SetLayout ErrStaleLayout (compare
//     Layout()), SetStripeNodes and ReplaceStripe ErrStripeChanged (read
//     the chunk's record: it has the new stripe, or another writer won).
//
// # Security
//
// Requests are authenticated with nodeauth: only a holder of the cluster
// secret can call, and a body cannot be altered. Answers are not
// authenticated, and nothing is encrypted: run the node API on a private
// network or under TLS. A captured request can be replayed within
// nodeauth.MaxSkew; TLS also prevents the capture.
package metarpc
