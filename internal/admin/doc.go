// Package admin is the operator API of a Cairn cluster: cluster status,
// node approval and removal, buckets, access keys, and where the shards of
// an object are. Every storaged node serves it (Server) on its node API
// port under PathPrefix; storectl talks to it (Client).
//
// # Use
//
// On a node, beside the other node API handlers:
//
//	token, err := admin.Token(clusterSecret)
//	srv, err := admin.NewServer(admin.Config{
//		Meta:    metaClient,             // metarpc.Client: forwards to the raft leader
//		Members: gossip,                 // *cluster.Cluster
//		Nodes:   storageNodeByID,        // a nodeapi.Client per storage node
//		Token:   token,
//		K:       4, M: 2,
//	})
//	mux.Handle(admin.PathPrefix, srv)
//
// From a tool:
//
//	c, err := admin.NewClient("http://10.0.0.1:7070", token, nil)
//	st, err := c.Status(ctx)
//
// # Guarantees
//
// The API holds no state of its own: every answer is read from the
// metadata store (forwarded to its leader), the node's gossip view and the
// storage nodes at the time of the request, so any node of a cluster
// answers the same thing up to gossip's delay. Writes (approve, remove,
// buckets, keys) are the metadata store's, with its guarantees; a layout
// change is a compare-and-set on the layout version, retried a few times
// when the leader's steward changes the layout at the same moment.
//
// Every call the server makes on behalf of a request (metadata, a storage
// node's status, a shard's presence) carries the request's context and
// Config.Timeout, and calls to storage nodes run in parallel with a
// bounded number in flight. A storage node that does not answer is shown
// with its error; it does not fail the request.
//
// # Authentication
//
// Every request carries Authorization: Bearer <token>. The token is
// derived from the cluster secret (Token), so every node of a cluster
// accepts the same one without configuration; storaged writes it to
// DATA/admin-token. It is compared in constant time. A request without it,
// or with another, gets 401 before anything else is looked at. The token
// travels in clear: serve the node API on a private network or under TLS.
//
// # Wire format, version 1
//
// JSON over HTTP under /v1/admin/. Request bodies are not used; a body
// over MaxBody is refused (413). The answers are the types of wire.go,
// whose JSON tags are the format. Paths name a bucket, key ID or node ID
// as one path segment, percent-encoded; an object key is the rest of the
// path, percent-encoded as one segment: its slashes as %2F and its dots as
// %2E, as Client does, so that no proxy or mux cleans "//", "." or ".."
// out of it and any key can be named.
//
//	GET    /v1/admin/status                   Status (also when the metadata
//	                                          store cannot answer: then with
//	                                          layout_error and a warning)
//	GET    /v1/admin/nodes                    []Node (503 when the layout
//	                                          cannot be read)
//	POST   /v1/admin/nodes/{id}/approve       LayoutChange
//	POST   /v1/admin/nodes/{id}/remove        LayoutChange
//	GET    /v1/admin/buckets                  []Bucket
//	PUT    /v1/admin/buckets/{name}           Bucket (201)
//	DELETE /v1/admin/buckets/{name}           204
//	GET    /v1/admin/keys                     []Key (no secrets)
//	POST   /v1/admin/keys                     NewKey (201): the only time
//	                                          the secret is shown
//	DELETE /v1/admin/keys/{id}                204
//	GET    /v1/admin/objects/{bucket}/{key}   Object
//
// An error answer is
//
//	{"error": "NoSuchBucket", "message": "bucket \"photos\" does not exist"}
//
// with one of these codes:
//
//	400 BadRequest, InvalidArgument, InvalidBucketName
//	401 Unauthorized
//	404 NoSuchRoute, NoSuchBucket, NoSuchKey, NoSuchAccessKey, NoSuchNode
//	405 MethodNotAllowed (with Allow)
//	409 BucketAlreadyExists, BucketNotEmpty, NodeAlreadyInLayout,
//	    NodeNotApprovable, LastNode
//	413 RequestTooLarge
//	503 ServiceUnavailable: the metadata store has no leader, did not
//	    answer in time, or the layout has not been created yet
//	500 InternalError: anything else (the detail is in the node's log)
//
// Fields may be added to answers within version 1; any other change is
// version 2, under /v2/admin/.
package admin
