package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"cairn/internal/cluster"
	"cairn/internal/meta"
	"cairn/internal/metarpc"
	"cairn/internal/nodeauth"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

var testSecret = []byte("cluster secret for node tests!!")

// TestClusterInProcess starts a meta+gateway node and five storage nodes
// in three zones, over real HTTP, gossip and Raft on loopback, and stores
// and reads an object through the gateway.
func TestClusterInProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var nodes []Config
	var firstGossip string
	// Listeners are handed over; the ports gossip and Raft bind themselves
	// stay reserved until the nodes start, so that no other test of the
	// run takes one in between.
	var reserved []net.Listener
	reserve := func() string {
		l := listen(t)
		reserved = append(reserved, l)
		return l.Addr().String()
	}
	for i := range 6 {
		c := DefaultConfig()
		dir := t.TempDir()
		c.DataDir, c.StorageDir = filepath.Join(dir, "data"), filepath.Join(dir, "shards")
		c.Zone = fmt.Sprintf("zone-%d", i%3)
		c.Weight = 1
		c.APIListener = listen(t)
		c.APIAddr, c.GossipAddr = c.APIListener.Addr().String(), reserve()
		c.Secret = testSecret
		c.GossipProfile = cluster.ProfileTest
		c.Out = io.Discard
		if i == 0 {
			c.Meta, c.RaftAddr = true, reserve()
			c.S3Listener = listen(t)
			c.S3Addr = c.S3Listener.Addr().String()
			firstGossip = c.GossipAddr
		} else {
			c.Join = []string{firstGossip}
		}
		nodes = append(nodes, c)
	}
	for _, l := range reserved {
		l.Close()
	}
	done := make(chan error, len(nodes))
	for _, c := range nodes {
		go func() { done <- Run(ctx, c) }()
	}
	defer func() {
		cancel()
		for range nodes {
			if err := <-done; err != nil {
				t.Errorf("node stopped with: %v", err)
			}
		}
	}()

	// An access key, written straight through the metadata API.
	signer, _ := nodeauth.NewSigner(testSecret, nil)
	mc, err := metarpc.NewClient(metarpc.ClientConfig{Leader: func() string { return "http://" + nodes[0].APIAddr }, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		l, err := mc.Layout(ctx)
		if err != nil {
			return err
		}
		if l == nil || len(l.Nodes) != 6 {
			return fmt.Errorf("layout %+v", l)
		}
		return mc.PutKey(ctx, &meta.Key{V: 1, ID: "AKIATEST", Secret: "secretsecret", Created: time.Now()})
	})

	s3, err := minio.New(nodes[0].S3Addr, &minio.Options{Creds: credentials.NewStaticV4("AKIATEST", "secretsecret", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error { return s3.MakeBucket(ctx, "cluster", minio.MakeBucketOptions{}) })
	data := make([]byte, 3<<20+5)
	rand.NewChaCha8([32]byte{1}).Read(data)
	if _, err := s3.PutObject(ctx, "cluster", "k", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := s3.GetObject(ctx, "cluster", "k", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, err %v", len(got), err)
	}
}

func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 60s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
