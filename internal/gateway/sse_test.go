package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/ipfs/go-cid"

	"cairn/erasure"
	"cairn/s3gw"
)

func customerPut(key []byte) s3gw.PutOptions {
	return s3gw.PutOptions{SSE: s3gw.Encryption{CustomerKey: key, CustomerKeyCheck: s3gw.NewCustomerKeyCheck(key)}}
}

// readWith reads bucket b's key with a customer key (nil: none).
func (e *env) readWith(t *testing.T, key string, ck []byte, off, n int64) ([]byte, error) {
	t.Helper()
	ctx := s3gw.WithCustomerKey(context.Background(), ck)
	o, err := e.g.GetObject(ctx, "b", key)
	if err != nil {
		return nil, err
	}
	r, err := o.Open(ctx, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// TestSSECustomer: an object written with a customer key is sealed under
// it (stripes only, no inline chunk, no plaintext CID anywhere), reads
// back, ranges too, only with that key, and deduplicates with nothing
// written under another key or none.
func TestSSECustomer(t *testing.T) {
	e, _ := newSealedEnv(t, 4096)
	ctx := context.Background()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	for _, n := range []int{1, 4096, 3*4096 + 17} {
		data := bytes.Repeat([]byte("plaintext canary "), n/17+1)[:n]
		info, err := e.g.PutObject(ctx, "b", "c1", bytes.NewReader(data), int64(n), customerPut(k1))
		if err != nil {
			t.Fatal(err)
		}
		if info.CID != "" || info.SSE.CustomerKeyCheck == nil || info.SSE.CustomerKey != nil {
			t.Fatalf("%d bytes: info %+v", n, info)
		}
		if sum := md5.Sum(data); info.ETag == hex.EncodeToString(sum[:]) || len(info.ETag) != 32 {
			t.Fatalf("%d bytes: the ETag %s of an SSE-C object is its plaintext's MD5", n, info.ETag)
		}
		if again, _ := e.g.PutObject(ctx, "b", "c1", bytes.NewReader(data), int64(n), customerPut(k1)); again.ETag != info.ETag {
			t.Fatalf("%d bytes: the same bytes under the same key have ETags %s and %s", n, info.ETag, again.ETag)
		}
		if _, err := e.g.PutObject(ctx, "b", "c2", bytes.NewReader(data), int64(n), customerPut(k2)); err != nil {
			t.Fatal(err)
		}
		e.put(t, "plain", data)
		m1, _ := e.ms.GetObject(ctx, "b", "c1")
		m2, _ := e.ms.GetObject(ctx, "b", "c2")
		mp, _ := e.ms.GetObject(ctx, "b", "plain")
		if m1.CID != "" || m1.SSE == nil || m1.SSE.CustomerKeyCheck == nil || bytes.Contains(m1.SSE.CustomerKeyCheck, k1) {
			t.Fatalf("%d bytes: manifest CID %q, SSE %+v", n, m1.CID, m1.SSE)
		}
		for i, c := range m1.Chunks {
			if c.Inline() || c.Stripe.Seal != erasure.SealCustomer || !bytes.Equal(c.CID, c.Stripe.Name) {
				t.Fatalf("%d bytes, chunk %d: inline %v, seal %d", n, i, c.Inline(), c.Stripe.Seal)
			}
			plainCID := erasure.ChunkCID(data[i*4096 : min((i+1)*4096, n)])
			if bytes.Equal(c.CID, plainCID.Bytes()) || bytes.Equal(c.CID, m2.Chunks[i].CID) ||
				bytes.Equal(c.CID, mp.Chunks[i].CID) || bytes.Equal(c.Stripe.Name, mp.Chunks[i].Stripe.Name) {
				t.Fatalf("%d bytes, chunk %d: named like the chunk under another key or none", n, i)
			}
			for j, raw := range c.Stripe.Shards {
				sid, _ := cid.Cast(raw)
				held, err := e.nodes[c.Stripe.Nodes[j]].Get(ctx, sid, nil)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(held, []byte("plaintext canary")) {
					t.Fatalf("%d bytes, chunk %d shard %d holds plaintext", n, i, j)
				}
			}
		}
		if got, err := e.readWith(t, "c1", k1, 0, int64(n)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes with the key: %v", n, err)
		}
		if n > 10 {
			if got, err := e.readWith(t, "c1", k1, 3, int64(n)-5); err != nil || !bytes.Equal(got, data[3:n-2]) {
				t.Fatalf("%d bytes, a range with the key: %v", n, err)
			}
		}
		if _, err := e.readWith(t, "c1", k2, 0, int64(n)); !errors.Is(err, s3gw.ErrCustomerKeyMismatch) {
			t.Fatalf("read with another key: %v", err)
		}
		if _, err := e.readWith(t, "c1", nil, 0, int64(n)); !errors.Is(err, s3gw.ErrCustomerKeyRequired) {
			t.Fatalf("read without the key: %v", err)
		}
		if _, err := e.readWith(t, "plain", k1, 0, int64(n)); !errors.Is(err, s3gw.ErrCustomerKeyNotApplicable) {
			t.Fatalf("read of a plain object with a key: %v", err)
		}
		if _, err := e.g.CopyObject(ctx, "b", "c1", "b", "copy", s3gw.CopyOptions{}); !errors.Is(err, s3gw.ErrCustomerKeyRequired) {
			t.Fatalf("chunk-sharing copy of an SSE-C object: %v", err)
		}
	}
}

// TestSSES3 keeps an SSE-S3 object whole in sealed stripes, and records
// the request, which a copy does not inherit.
func TestSSES3(t *testing.T) {
	e, _ := newSealedEnv(t, 4096)
	ctx := context.Background()
	if !e.g.EncryptsAtRest() || !e.g.CustomerKeys() {
		t.Fatal("a sealing gateway does not say it encrypts")
	}
	info, err := e.g.PutObject(ctx, "b", "s3", bytes.NewReader([]byte("small")), 5, s3gw.PutOptions{SSE: s3gw.Encryption{S3: true}})
	if err != nil || !info.SSE.S3 {
		t.Fatalf("put: %+v %v", info, err)
	}
	m, _ := e.ms.GetObject(ctx, "b", "s3")
	if c := m.Chunks[0]; c.Inline() || c.Stripe.Seal != erasure.SealV1 {
		t.Fatalf("SSE-S3 chunk: inline %v, seal %d", c.Inline(), c.Stripe.Seal)
	}
	cp, err := e.g.CopyObject(ctx, "b", "s3", "b", "copy", s3gw.CopyOptions{})
	if err != nil || cp.SSE.S3 {
		t.Fatalf("copy without SSE: %+v %v", cp, err)
	}
	e.put(t, "plain", []byte("small"))
	if _, err := e.g.CopyObject(ctx, "b", "plain", "b", "x", s3gw.CopyOptions{SSES3: true}); err == nil {
		t.Fatal("a chunk-sharing copy to SSE-S3 of an object written without it succeeded")
	}
	unsealed, err := New(ctx, func() Config { c := e.cfg; c.Seal = false; return c }())
	if err != nil {
		t.Fatal(err)
	}
	if unsealed.EncryptsAtRest() {
		t.Fatal("a gateway with Seal off says it encrypts at rest")
	}
	if _, err := unsealed.PutObject(ctx, "b", "y", bytes.NewReader([]byte("x")), 1, s3gw.PutOptions{SSE: s3gw.Encryption{S3: true}}); err == nil {
		t.Fatal("a gateway with Seal off stored an SSE-S3 object")
	}
}
