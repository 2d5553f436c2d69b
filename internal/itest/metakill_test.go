//go:build integration

package itest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
	truncations := func(n *clusterNode) int {
		b, _ := os.ReadFile(n.logPath)
		return strings.Count(string(b), "clearing log suffix")
	}

	premise := false
	for round := 0; round < rounds; round++ {
		time.Sleep(300 * time.Millisecond)
		lead := c.leader(ctx)
		before := truncations(lead)
		// Pause the followers: the leader goes on appending the writes
		// that reach it (small objects go to the metadata alone) but
		// commits none of them, until its lease runs out.
		var followers []*clusterNode
		for _, n := range c.metaNodes() {
			if n != lead {
				followers = append(followers, n)
				n.signal(syscall.SIGSTOP)
			}
		}
		// Writes straight to the leader meanwhile (the writers above may
		// all be waiting on a paused gateway), through the admin API: its
		// bucket and key creations go to the log at once, where an S3
		// request first reads its key, which needs a quorum.
		adm := c.admin(lead)
		var bwg sync.WaitGroup
		for range 8 {
			bwg.Add(1)
			go func() {
				defer bwg.Done()
				bctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
				defer cancel()
				_, _ = adm.CreateKey(bctx)
			}()
		}
		bwg.Wait()
		t.Logf("round %d: killing the leader %s, its followers paused", round, lead.name)
		lead.kill()
		for _, n := range followers {
			n.signal(syscall.SIGCONT)
		}
		if nl := c.leader(ctx); nl == lead {
			t.Fatal("the killed node is still the leader")
		}
		c.start(lead, join(lead))
		waitFor(t, 20*time.Second, lead.name+" truncates the tail the new leader overwrote", func() error {
			if truncations(lead) > before {
				return nil
			}
			return errors.New("no \"clearing log suffix\" in its log yet")
		})
		premise = true
		// The second kill, right after the truncation.
		lead.kill()
		c.start(lead, join(lead))
		// And a follower, killed and restarted at once.
		for _, n := range c.metaNodes() {
			if n != lead && n != c.leader(ctx) {
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
