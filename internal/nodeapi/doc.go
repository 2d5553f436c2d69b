// Package nodeapi is the node-to-node HTTP API for shards: Server serves
// one storage node's blob.Store and status on the node's internal port,
// and Client is a remote node's shards as a blob.Store, which is what a
// gateway (its ShardStore), scrubbing and repair talk to.
//
// # Guarantees
//
//   - Every request is signed with the cluster secret (nodeauth). The
//     server verifies the signature before it parses anything: an
//     unsigned, wrongly signed or stale request gets 401 and touches
//     nothing.
//   - The remote store behaves like a local one: the same conformance
//     suite (blobtest) runs against Client → Server → DirStore. A Put that
//     returns nil is durable on the node.
//   - The client does not trust the node: Get verifies the bytes against
//     the CID (ErrCorrupt otherwise), and every response body is read
//     within a bound (MaxShardSize for shards), so a hostile node can
//     neither pass off wrong bytes nor make the client allocate without
//     limit. The server likewise never reads more than MaxShardSize+1
//     bytes of a PUT, and refuses a larger declared length unread.
//   - Every client call has a deadline: the caller's, or
//     ClientConfig.Timeout if that is sooner or there is none. Nothing is
//     retried and no redirect is followed; callers (the gateway's hedged
//     reads, repair) decide what to try next.
//
// Responses are not signed: the signature proves the caller, not the
// node. Shard bytes are checked against their CID; status and inventory
// are taken on trust (TLS between nodes would cover them). A signed
// request can be replayed within nodeauth.MaxSkew; every route is
// idempotent except that a replayed DELETE deletes a shard put back since,
// which repair restores, and that a replayed scrub POST starts another
// pass if the first has ended (it costs reads, nothing else).
//
// # Wire format, version 1
//
// Version 1 lives under the path prefix /v1. The base URL is
// http://host:port (or https) with no path; the server must see the path
// unchanged, since the signature covers it. CIDs appear in their string
// form (CIDv1: multibase base32, lower case).
//
// Every request carries the nodeauth headers: X-Cairn-Date,
// X-Cairn-Content-Sha256 and Authorization: CAIRN-HMAC-SHA256 <hex>, over
// method, escaped path, raw query, date and body hash. Requests without a
// body sign the SHA-256 of the empty string (or UNSIGNED-PAYLOAD). A shard
// PUT signs UNSIGNED-PAYLOAD when its CID's hash is sha2-256, sha2-512,
// sha3-256/384/512 or blake3 with a digest of 32 bytes or more — the store
// checks the body against the CID, which then authenticates it — and a hash
// of the body for any other CID, above all for shard names (codec
// 0x300c5d, erasure.ShardName), which hash nothing: the hex SHA-256, or
// "blake3=" and the hex BLAKE3, which the client sends as the faster of
// the two. The server refuses UNSIGNED-PAYLOAD there with 401, and a body
// that does not match its signed hash too.
//
//	PUT    /v1/shards/{cid}   body: the shard's bytes (Content-Length, at most
//	                          the node's MaxShardSize).
//	                          204: stored and durable (also if already held).
//	                          400 BadDigest: the body does not hash to {cid}
//	                          (content addresses only).
//	                          413 TooLarge: over MaxShardSize; a declared
//	                          length that is too large is refused unread.
//	GET    /v1/shards/{cid}   200: the shard's bytes, application/octet-stream,
//	                          with Content-Length; verified by the node as
//	                          read (its record checksum; a content address
//	                          too in a version 1 store). A client hashes a
//	                          content-addressed shard again; a shard name
//	                          it cannot check, and the gateway checks the
//	                          chunk it decodes instead.
//	                          404 NotFound: the node does not hold it.
//	                          500 ShardCorrupt: the stored copy failed
//	                          verification and was quarantined; the node no
//	                          longer holds it.
//	HEAD   /v1/shards/{cid}   200 if held (no size is reported),
//	                          404 NotFound if not; no body either way.
//	DELETE /v1/shards/{cid}   204, whether or not the shard was held.
//	GET    /v1/shards?after={cid}&limit={n}
//	                          200, text/plain: one inventory page, the shards
//	                          whose binary CIDs sort bytewise after {cid}
//	                          (from the start without after), in that order,
//	                          at most n of them (default 1000, at most
//	                          10000, a larger n is capped):
//
//	                            <cid> <size>\n      one line per shard
//	                            ...
//	                            next <cid>\n        more may follow: ask again
//	                                                with after=<cid>
//	                          or
//	                            end\n               the inventory is complete
//
//	                          The last line is mandatory: a page without it
//	                          was cut short. <size> is the shard's content
//	                          length in decimal. A page may hold fewer than
//	                          n shards and still end with next; the marker
//	                          always sorts after the request's after.
//	GET    /v1/status         200, application/json:
//	                            {"node_id": "...", "zone": "...", "weight": 1,
//	                             "usage": {"shards": 0, "bytes": 0,
//	                                       "free": 0, "capacity": 0}}
//	GET    /v1/scrub          200, application/json: the node's scrub
//	                          (ScrubStatus; "current" and "last" are null
//	                          when there is no such pass, "next" is absent
//	                          while a pass runs):
//	                            {"interval_seconds": 604800, "requested": false,
//	                             "current": {"started": "2026-03-04T05:06:07Z",
//	                                         "requested": false, "rate": 1048576,
//	                                         "progress": 0.25, "shards": 10,
//	                                         "bytes": 2560, "unverifiable": 0,
//	                                         "corrupt": 0, "unreadable": 0,
//	                                         "rewritten": 0},
//	                             "last": {... the same, with "ended"},
//	                             "next": "...", "passes": 3}
//	                          404 NoSuchRoute on a node that does not scrub.
//	POST   /v1/scrub          202, application/json, at once: a full scrub
//	                          pass starts now, in place of the one in
//	                          progress (StartScrub).
//	                            {"started": true, "scrub": {... as GET}}
//	                          "started" is false when a pass asked for
//	                          this way was running already: it goes on.
//
// A refused request has the status below, its code in the X-Cairn-Error
// header, and, except for HEAD, a JSON body {"code": "...", "message":
// "..."}:
//
//	401 Unauthorized      not signed with the cluster secret, stale, or a
//	                      body that does not match its signed hash
//	400 BadRequest        a malformed CID, query, or body
//	404 NoSuchRoute       no such path; 405 MethodNotAllowed (with Allow)
//	503 Unavailable       the request was canceled on the node
//	500 InternalError     anything else; the detail is in the node's log
//
// The client maps codes, not bare statuses: NotFound to blob.ErrNotFound,
// BadDigest and ShardCorrupt to blob.ErrCorrupt, TooLarge to ErrTooLarge,
// any 401 to nodeauth.ErrUnauthorized, and the rest to *RemoteError. A 404
// without the NotFound code (a request that reached something other than
// a Cairn node) is an error, not a missing shard.
//
// A new version gets a new prefix (/v2); a server may serve several.
//
// # Observing
//
// ServerConfig.Observer, when set, is told about every shard PUT, GET,
// HEAD and DELETE the server answers, refused ones included: its
// ShardResult, the shard bytes received or sent, and its duration. ResultOf
// classifies errors the same way for callers that reach a store of their
// own process directly. nodeapi keeps no metrics itself: Cairn's
// Prometheus metrics (internal/metrics) implement ShardObserver.
//
// # Costs
//
// blob.Store.Walk has no starting point, so every inventory page walks
// the node's whole store: listing N shards in pages of n costs N²/n file
// stats. Status walks the store too (blob.Store.Usage). Both are for
// repair and operators, not for every request.
package nodeapi
