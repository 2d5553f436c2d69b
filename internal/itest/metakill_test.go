//go:build integration

package itest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// TestMetaKillRestart SIGKILLs metadata nodes under writes in the sequence
// that bricked a node on raft-wal (hashicorp/raft-wal#31): a leader killed
// with entries it had appended but not committed, restarted so that the
// new leader makes it truncate that tail, then killed again at once. Every
// restart must succeed, and every acknowledged write must read back.
//
// The premise — the restarted node truncated its log ("clearing log
// suffix", raft's warning) before its second kill — is made certain by
// pausing (SIGSTOP) the followers while the leader appends, and checked.
func TestMetaKillRestart(t *testing.T) {
	const rounds = 3
	c := newTestCluster(t, nil)
	ctx := ctxT(t)
	c.bringUp(ctx)

	var (
		mu    sync.Mutex
		acked []clusterObject
		stop  = make(chan struct{})
		done  = make(chan struct{})
	)
	// Writers on every gateway: whichever runs keeps the log growing, so
	// that a killed leader has appended entries no follower has yet.
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					gws := c.gateways()
					if len(gws) == 0 {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					gw := gws[(i+w)%len(gws)]
					o := clusterObject{key: fmt.Sprintf("meta-kill/%d-%05d", w, i), seed: uint64(w)<<32 | uint64(i), size: int64(i*7919) % 20000}
					h := sha256.New()
					wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					_, err := c.s3(gw).PutObject(wctx, clusterBucket, o.key, io.TeeReader(newPayload(o.seed, o.size), h), o.size, minio.PutObjectOptions{})
					cancel()
					if err == nil {
						copy(o.sum[:], h.Sum(nil))
						mu.Lock()
						acked = append(acked, o)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
	}()
	stopWriters := sync.OnceFunc(func() { close(stop); <-done })
	defer stopWriters()

	join := func(n *clusterNode) []string {
		var j []string
		for _, o := range c.nodes {
			if o != n {
				j = append(j, o.gossip)
			}
		}
		return j
	}

	premise := false
	for round := 0; round < rounds; round++ {
		time.Sleep(300 * time.Millisecond)
		t.Logf("round %d", round)
		// The leader, its followers paused, appends entries no follower
		// has; it is killed, the new leader overwrites them, it restarts
		// and truncates them (checked: raft's "clearing log suffix"), and
		// is killed again at once (see truncateAndKillAgain).
		c.truncateAndKillAgain(t, ctx, join)
		premise = true
		// And a follower, killed and restarted at once.
		for _, n := range c.metaNodes() {
			if n != c.leader(ctx) {
				n.kill()
				c.start(n, join(n))
				break
			}
		}
	}
	stopWriters()
	if !premise {
		t.Fatal("no round ran")
	}
	mu.Lock()
	all := append([]clusterObject(nil), acked...)
	mu.Unlock()
	if len(all) < 20 {
		t.Fatalf("only %d writes acknowledged", len(all))
	}
	t.Logf("%d writes acknowledged through the kills", len(all))
	c.waitGossip(ctx)
	c.checkEverywhere(ctx, all)
}

// signal sends sig to the node's process, if it runs.
func (n *clusterNode) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(sig)
	}
}
