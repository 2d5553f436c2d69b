// Package admin is the server of the operator API of a Cairn cluster:
// cluster status, node approval, removal and drain, healing status, the
// seal migration, buckets, access keys, where the shards of an object
// are, and the storage nodes' scrubs. Every storaged node serves it
// (Server) on its node API port under adminapi.PathPrefix. The client
// (storectl's), the wire types and the error codes are package adminapi,
// which documents the wire format; this package answers with its types.
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
//	mux.Handle(adminapi.PathPrefix, srv)
//
// From a tool, with package adminapi only:
//
//	c, err := adminapi.NewClient("http://10.0.0.1:7070", token, nil)
//	st, err := c.Status(ctx)
//
// # Guarantees
//
// The API holds no state of its own: every answer is read from the
// metadata store (forwarded to its leader), the leader's healer, the
// node's gossip view and the storage nodes at the time of the request, so any node of a cluster
// answers the same thing up to gossip's delay. A scrub start is passed
// on to every live storage node, which starts its pass on its own. Writes (approve, remove,
// buckets, keys) are the metadata store's, with its guarantees; a layout
// change (approve, remove, drain) is a compare-and-set on the layout version, retried a few times
// when the leader's steward changes the layout at the same moment.
//
// Healing runs on the metadata leader (package heal); Config.Heal reaches
// it, from whichever node is asked, and HealStatus is the one conversion
// of its status to the wire, so that the API says what the leader's
// cairn_heal_* metrics say. Status includes it, and answers without it
// (with heal_error) when the leader's healer does not answer. The seal
// migration is a flag in the metadata store (POST seal/migrate sets it
// and kicks the healer); GET seal answers the flag with the healer's
// counts of sealed and unsealed stripes.
//
// Where an object's shards are is computed with layout.Ring, the ring the
// gateway writes and reads with; status counts the nodes that take data
// with layout.Nodes.
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
// # Answers
//
// Requests are parsed first (parseOp) into an operation, then served;
// errors of the layers below are translated into the wire format's codes
// in one table (errors.go), and written in one place (writeError). A
// request body over MaxBody is refused (413).
package admin
