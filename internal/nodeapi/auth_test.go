package nodeapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"cairn/erasure"
	"cairn/internal/nodeapi"
	"cairn/internal/nodeauth"
)

// TestOtherSecret: a client with another cluster secret gets an error
// wrapping nodeauth.ErrUnauthorized from every route, and stores or
// deletes nothing.
func TestOtherSecret(t *testing.T) {
	ctx := context.Background()
	ds := openDir(t)
	url := serve(t, ds, nil)
	held, heldData := shard(t, 1, 1000)
	if err := ds.Put(ctx, held, heldData); err != nil {
		t.Fatal(err)
	}
	fresh, freshData := shard(t, 2, 1000)
	bad := dial(t, url, func(c *nodeapi.ClientConfig) { c.Signer = signer(t, otherSecret) })
	calls := map[string]func() error{
		"Put": func() error { return bad.Put(ctx, fresh, freshData) },
		"Get": func() error {
			got, err := bad.Get(ctx, held, nil)
			if len(got) != 0 {
				t.Errorf("Get returned %d bytes", len(got))
			}
			return err
		},
		"Has": func() error {
			ok, err := bad.Has(ctx, held)
			if ok {
				t.Error("Has = true")
			}
			return err
		},
		"Delete": func() error { return bad.Delete(ctx, held) },
		"Walk": func() error {
			return bad.Walk(ctx, func(id cid.Cid, _ int64) error {
				t.Errorf("Walk saw %s", id)
				return nil
			})
		},
		"Usage":  func() error { _, err := bad.Usage(ctx); return err },
		"Status": func() error { _, err := bad.Status(ctx); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, nodeauth.ErrUnauthorized) {
			t.Errorf("%s with another secret = %v, want ErrUnauthorized", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if ok, _ := ds.Has(ctx, fresh); ok {
		t.Error("a Put with another secret stored the shard")
	}
	if ok, _ := ds.Has(ctx, held); !ok {
		t.Error("a Delete with another secret deleted the shard")
	}
}

// rawRequest builds a request to the node at url; sign, if not nil, signs
// it with the given body hash.
func rawRequest(t *testing.T, method, url string, body []byte, s *nodeauth.Signer, bodyHash string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		s.Sign(req, bodyHash)
	}
	return req
}

func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestUnsigned: raw requests without a signature get 401, on every route
// and on paths that are no route, and touch nothing.
func TestUnsigned(t *testing.T) {
	ctx := context.Background()
	ds := openDir(t)
	url := serve(t, ds, nil)
	held, heldData := shard(t, 1, 1000)
	if err := ds.Put(ctx, held, heldData); err != nil {
		t.Fatal(err)
	}
	fresh, freshData := shard(t, 2, 1000)
	for _, c := range []struct {
		method, path string
		body         []byte
	}{
		{"PUT", "/v1/shards/" + fresh.String(), freshData},
		{"GET", "/v1/shards/" + held.String(), nil},
		{"HEAD", "/v1/shards/" + held.String(), nil},
		{"DELETE", "/v1/shards/" + held.String(), nil},
		{"GET", "/v1/shards?limit=10", nil},
		{"GET", "/v1/status", nil},
		{"GET", "/v1/nothing", nil},
		{"POST", "/v1/shards/" + held.String(), nil},
	} {
		resp, body := send(t, rawRequest(t, c.method, url+c.path, c.body, nil, ""))
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Cairn-Error") != "Unauthorized" {
			t.Errorf("unsigned %s %s: %d %s %q", c.method, c.path, resp.StatusCode, resp.Header.Get("X-Cairn-Error"), body)
		}
		if c.method == "GET" && bytes.Contains([]byte(body), heldData[:16]) {
			t.Errorf("unsigned %s %s leaked shard bytes", c.method, c.path)
		}
	}
	if ok, _ := ds.Has(ctx, fresh); ok {
		t.Error("an unsigned PUT stored the shard")
	}
	if ok, _ := ds.Has(ctx, held); !ok {
		t.Error("an unsigned DELETE deleted the shard")
	}
}

// TestBodySigning: a PUT whose body does not match its signed hash is
// refused; a CID whose hash cannot authenticate the body needs a signed
// body, which the client sends.
func TestBodySigning(t *testing.T) {
	ctx := context.Background()
	ds := openDir(t)
	url := serve(t, ds, nil)
	s := signer(t, secret)
	id, data := shard(t, 3, 500)
	_, other := shard(t, 4, 500)

	req := rawRequest(t, "PUT", url+"/v1/shards/"+id.String(), data, s, nodeauth.BodyHash(other))
	if resp, body := send(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PUT with a body not matching its signed hash: %d %s", resp.StatusCode, body)
	}
	// An identity-hash CID contains its content: anyone could make one
	// for a body of their choice, so it does not authenticate the body.
	weak, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: mh.IDENTITY, MhLength: -1}.Sum([]byte("tiny"))
	if err != nil {
		t.Fatal(err)
	}
	req = rawRequest(t, "PUT", url+"/v1/shards/"+weak.String(), []byte("tiny"), s, nodeauth.UnsignedPayload)
	if resp, body := send(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned-payload PUT of an identity CID: %d %s", resp.StatusCode, body)
	}
	if ok, _ := ds.Has(ctx, id); ok {
		t.Fatal("a refused PUT stored the shard")
	}
	c := dial(t, url, nil)
	if err := c.Put(ctx, weak, []byte("tiny")); err != nil {
		t.Fatalf("client Put of an identity CID (signed body): %v", err)
	}
	// A shard name carries no hash at all: its body must be signed, with
	// either form of body hash.
	named, err := erasure.ShardName(erasure.ChunkCID([]byte("chunk")), 4, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	req = rawRequest(t, "PUT", url+"/v1/shards/"+named.String(), data, s, nodeauth.UnsignedPayload)
	if resp, body := send(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned-payload PUT of a shard name: %d %s", resp.StatusCode, body)
	}
	req = rawRequest(t, "PUT", url+"/v1/shards/"+named.String(), data, s, nodeauth.BodyHashBLAKE3(other))
	if resp, body := send(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PUT of a shard name whose body does not match its signed BLAKE3: %d %s", resp.StatusCode, body)
	}
	if ok, _ := ds.Has(ctx, named); ok {
		t.Fatal("a refused PUT stored the named shard")
	}
	if err := c.Put(ctx, named, data); err != nil {
		t.Fatalf("client Put of a shard name (signed body): %v", err)
	}
	if got, err := c.Get(ctx, named, nil); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get of the named shard: %d bytes, %v", len(got), err)
	}
	if c.VerifiesReads(named) || !c.VerifiesReads(id) {
		t.Error("the client vouches for a shard name, or not for a content address")
	}
	// The signed hash of a request without a body must be the empty one.
	req = rawRequest(t, "GET", url+"/v1/status", nil, s, nodeauth.BodyHash([]byte("x")))
	if resp, body := send(t, req); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET signing a non-empty body: %d %s", resp.StatusCode, body)
	}
}
