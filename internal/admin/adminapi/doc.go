// Package adminapi is the client side of the operator API of a Cairn
// cluster: Client, the wire types its calls answer with, the error codes
// and the paths. The server is package admin, which imports this one for
// the same types, so that the two cannot disagree on the format.
//
// It imports nothing of the project and nothing beyond the standard
// library: a tool that talks to a cluster (storectl) links this package,
// not the server with its metadata store, gossip and Raft.
// internal/archtest checks that storectl stays so.
//
// # Use
//
//	c, err := adminapi.NewClient("http://10.0.0.1:7070", token, nil)
//	st, err := c.Status(ctx)
//	var ae *adminapi.Error
//	if errors.As(err, &ae) && ae.Code == adminapi.CodeNoSuchBucket { ... }
//
// token is the admin token: admin.Token derives it from the cluster
// secret, and storaged writes it to DATA/admin-token.
//
// # Wire format, version 1
//
// JSON over HTTP under PathPrefix, /v1/admin/. Every request carries
// Authorization: Bearer <token>; one without it, or with another, gets
// 401 before anything else is looked at. Request bodies are not used; the
// server refuses a body over 1 MiB (413). The answers are the types of
// wire.go, whose JSON tags are the format. Paths name a bucket, key ID or
// node ID as one path segment, percent-encoded; an object key is the rest
// of the path, percent-encoded as one segment: its slashes as %2F and its
// dots as %2E, as Client does, so that no proxy or mux cleans "//", "."
// or ".." out of it and any key can be named.
//
//	GET    /v1/admin/status                   Status (also when the metadata
//	                                          store cannot answer: then with
//	                                          layout_error and a warning)
//	GET    /v1/admin/nodes                    []Node, with each storage
//	                                          node's audit record (503 when
//	                                          the layout cannot be read)
//	POST   /v1/admin/nodes/{id}/approve       LayoutChange
//	POST   /v1/admin/nodes/{id}/remove        LayoutChange
//	POST   /v1/admin/nodes/{id}/drain         LayoutChange (the same version
//	                                          when it drains already)
//	GET    /v1/admin/heal                     HealStatus, the metadata
//	                                          leader's (also in Status)
//	POST   /v1/admin/heal/kick                202: a heal pass starts now
//	GET    /v1/admin/seal                     SealStatus: the seal migration
//	                                          flag and the stripes sealed
//	                                          and unsealed (the leader's
//	                                          healer's counts)
//	POST   /v1/admin/seal/migrate             SealStatus (202): the flag set
//	                                          (every heal pass then seals
//	                                          the live unsealed stripes) and
//	                                          a heal pass asked for now
//	GET    /v1/admin/buckets                  []Bucket
//	PUT    /v1/admin/buckets/{name}           Bucket (201)
//	DELETE /v1/admin/buckets/{name}           204
//	GET    /v1/admin/keys                     []Key (no secrets)
//	POST   /v1/admin/keys                     NewKey (201): the only time
//	                                          the secret is shown; query
//	                                          policy=read-only|read-write,
//	                                          bucket=, prefix= limit the key
//	                                          (KeyPolicy; none: everything)
//	DELETE /v1/admin/keys/{id}                204
//	GET    /v1/admin/objects/{bucket}/{key}   Object
//	GET    /v1/admin/scrub                    Scrub: every storage node's
//	                                          scrub (a node that does not
//	                                          answer is shown with its error)
//	POST   /v1/admin/scrub                    ScrubStart (202): every live
//	                                          storage node begins a full
//	                                          scrub pass now; the answer
//	                                          does not wait for the passes
//
// Any node answers heal and seal requests: it asks the metadata leader's node,
// with ?local=true, which only a node that leads answers (LocalQuery);
// ServiceUnavailable when none does.
//
// An error answer is an ErrorBody,
//
//	{"error": "NoSuchBucket", "message": "bucket \"photos\" does not exist"}
//
// with one of these codes (the Code constants):
//
//	400 BadRequest, InvalidArgument, InvalidBucketName
//	401 Unauthorized
//	404 NoSuchRoute, NoSuchBucket, NoSuchKey, NoSuchAccessKey, NoSuchNode
//	405 MethodNotAllowed (with Allow)
//	409 BucketAlreadyExists, BucketNotEmpty, NodeAlreadyInLayout,
//	    NodeNotApprovable, NodeNotDrainable, LastNode
//	413 RequestTooLarge
//	503 ServiceUnavailable: the metadata store has no leader, did not
//	    answer in time, or the layout has not been created yet; for heal,
//	    no node leading the metadata group answered
//	500 InternalError: anything else (the detail is in the node's log)
//
// Client returns such an answer as an *Error; one from something other
// than a Cairn node (a proxy) gets a code made from its HTTP status.
//
// Fields may be added to answers within version 1; any other change is
// version 2, under /v2/admin/.
package adminapi
