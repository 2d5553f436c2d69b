package nodeapi_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"cairn/internal/blob"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
)

// A storage node serves its DirStore; a gateway reaches it with a Client,
// which is a blob.Store.
func Example() {
	dir, err := os.MkdirTemp("", "cairn-node")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	clusterSecret := []byte("the cluster secret, shared by all nodes")

	// On the storage node.
	store, err := blob.OpenDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	nodeSigner, err := nodeauth.NewSigner(clusterSecret, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := nodeapi.NewServer(nodeapi.ServerConfig{Store: store, Signer: nodeSigner, NodeID: "n1", Zone: "z1", Weight: 1})
	if err != nil {
		log.Fatal(err)
	}
	node := httptest.NewServer(srv) // in production: the node's internal listener
	defer node.Close()

	// On the gateway: one transport shared by the clients of all nodes.
	gwSigner, err := nodeauth.NewSigner(clusterSecret, nil)
	if err != nil {
		log.Fatal(err)
	}
	hc := &http.Client{Transport: nodeapi.NewTransport()}
	c, err := nodeapi.NewClient(nodeapi.ClientConfig{BaseURL: node.URL, Signer: gwSigner, HTTP: hc})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	data := []byte("a shard")
	id, _ := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: mh.SHA2_256, MhLength: -1}.Sum(data)
	if err := c.Put(ctx, id, data); err != nil {
		log.Fatal(err)
	}
	got, err := c.Get(ctx, id, nil)
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d shard(s); got %q\n", st.NodeID, st.Usage.Shards, got)
	// Output: n1: 1 shard(s); got "a shard"
}
