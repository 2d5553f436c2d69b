//go:build integration

package itest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// writers PUT objects through the gateways that run, in the background,
// and keep those acknowledged.
type writers struct {
	mu    sync.Mutex
	acked []clusterObject
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// startWriters starts n writers; writer w's i-th object is
// prefix/w-i, of size(i) bytes, through gateway gws()[(i+w) % len]. Each
// PUT has timeout; a refused or lost one is not acknowledged.
func (c *testCluster) startWriters(ctx context.Context, prefix string, seed uint64, n int, timeout time.Duration,
	gws func() []*clusterNode, size func(i int) int64) *writers {
	ws := &writers{stop: make(chan struct{})}
	for w := range n {
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-ws.stop:
					return
				default:
				}
				g := gws()
				if len(g) == 0 || !g[(i+w)%len(g)].reachable() {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				gw := g[(i+w)%len(g)]
				o := clusterObject{key: fmt.Sprintf("%s/%d-%05d", prefix, w, i), seed: seed + uint64(w)<<32 + uint64(i), size: size(i)}
				h := sha256.New()
				wctx, cancel := context.WithTimeout(ctx, timeout)
				_, err := c.s3(gw).PutObject(wctx, clusterBucket, o.key, io.TeeReader(newPayload(o.seed, o.size), h), o.size, minio.PutObjectOptions{})
				cancel()
				if err == nil {
					copy(o.sum[:], h.Sum(nil))
					ws.mu.Lock()
					ws.acked = append(ws.acked, o)
					ws.mu.Unlock()
				}
			}
		}()
	}
	return ws
}

// Stop stops the writers, waits for them, and returns what was
// acknowledged. Later calls return the same.
func (ws *writers) Stop() []clusterObject {
	ws.once.Do(func() { close(ws.stop); ws.wg.Wait() })
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]clusterObject(nil), ws.acked...)
}

// joinOthers is the --join list of n: every other node's gossip address.
func (c *testCluster) joinOthers(n *clusterNode) []string {
	var j []string
	for _, o := range c.nodes {
		if o != n {
			j = append(j, o.gossip)
		}
	}
	return j
}

// healEvery makes the meta nodes pass over the chunk table every d (and
// gives them any more flags), for tests that wait for healing.
func (c *testCluster) healEvery(d string, more ...string) {
	for _, n := range c.nodes {
		if n.meta {
			n.extra = append(n.extra, append([]string{"--heal-interval", d}, more...)...)
		}
	}
}
