//go:build integration

package itest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// chaosRounds is how many kills TestChaos makes: CAIRN_CHAOS_ROUNDS, or
// 20 (make chaos runs more).
func chaosRounds(t *testing.T) int {
	if v := os.Getenv("CAIRN_CHAOS_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_CHAOS_ROUNDS=%q: want a positive count", v)
		}
		return n
	}
	return 20
}

// TestChaos: while clients write and healing moves shards to a node that
// just joined, random storage and metadata processes are SIGKILLed and
// restarted, one at a time; one round is the sequence that bricked a
// metadata node on raft-wal (a leader killed with an uncommitted tail,
// restarted so that it truncates it, killed again at once). Every restart
// succeeds, every acknowledged object reads back byte-identical, and the
// cluster then reaches all-healthy.
func TestChaos(t *testing.T) {
	rounds := chaosRounds(t)
	c := newTestCluster(t, nil)
	for _, n := range c.nodes {
		if n.meta {
			n.extra = append(n.extra, "--heal-interval", "2s")
		}
	}
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 7))
	base := c.putObjects(ctx, c.nodes[0], "chaos-base", seed, clusterSizes(rng)[:60])

	var (
		mu    sync.Mutex
		acked = append([]clusterObject(nil), base...)
		stop  = make(chan struct{})
		done  sync.WaitGroup
	)
	gws := []*clusterNode{c.nodes[0], c.nodes[2], c.nodes[4]}
	for w := range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				gw := gws[(i+w)%len(gws)]
				if !gw.reachable() {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				o := clusterObject{key: fmt.Sprintf("chaos/%d-%05d", w, i), seed: seed + uint64(w)<<32 + uint64(i),
					size: []int64{100, 70_000, 1_500_000, 3*MiB + 7}[i%4]}
				h := sha256.New()
				wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
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
	stopWriters := sync.OnceFunc(func() { close(stop); done.Wait() })
	defer stopWriters()

	// A node joins: healing rebalances towards it all through the kills.
	c.addNode("zone-b")
	join := func(n *clusterNode) []string {
		var j []string
		for _, o := range c.nodes {
			if o != n {
				j = append(j, o.gossip)
			}
		}
		return j
	}
	bricking := rng.IntN(rounds)
	for round := range rounds {
		if round == bricking {
			t.Logf("round %d: the raft-wal sequence", round)
			c.truncateAndKillAgain(t, ctx, join)
			continue
		}
		n := c.nodes[rng.IntN(len(c.nodes))]
		down := time.Duration(rng.IntN(3000)) * time.Millisecond
		t.Logf("round %d: SIGKILL %s (meta %v), back after %v", round, n.name, n.meta, down)
		n.kill()
		time.Sleep(down)
		c.start(n, join(n))
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
	}
	stopWriters()
	mu.Lock()
	all := append([]clusterObject(nil), acked...)
	mu.Unlock()
	t.Logf("%d objects acknowledged", len(all))
	if len(all) <= len(base) {
		t.Fatal("no write was acknowledged during the kills")
	}
	c.waitGossip(ctx)
	h := c.waitHealthy(ctx, 4*time.Minute, "healthy after the kills")
	t.Logf("healing: %s; repaired %v B, moved %v B", h, h.repairedBytes, h.movedBytes)
	c.checkEverywhere(ctx, all)
}

// truncateAndKillAgain is the sequence that bricked a metadata node on
// raft-wal: the leader's followers are paused while it appends entries
// (admin key creations go straight to the log), it is killed, the new
// leader overwrites its tail, it restarts and truncates it, and is killed
// again at once; then it must start. Under load the leader may step down
// before it appends anything: the sequence is tried again then, up to
// five times.
func (c *testCluster) truncateAndKillAgain(t *testing.T, ctx context.Context, join func(*clusterNode) []string) {
	t.Helper()
	for attempt := 1; attempt <= 5; attempt++ {
		lead := c.leader(ctx)
		before := strings.Count(readLog(lead), "clearing log suffix")
		adm := c.admin(lead)
		stopBurst := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stopBurst:
						return
					default:
					}
					bctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
					_, _ = adm.CreateKey(bctx)
					cancel()
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		var followers []*clusterNode
		for _, n := range c.metaNodes() {
			if n != lead {
				followers = append(followers, n)
				n.signal(syscall.SIGSTOP)
			}
		}
		time.Sleep(300 * time.Millisecond)
		close(stopBurst)
		wg.Wait()
		lead.kill()
		for _, n := range followers {
			n.signal(syscall.SIGCONT)
		}
		c.leader(ctx)
		c.start(lead, join(lead))
		truncated := false
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if strings.Count(readLog(lead), "clearing log suffix") > before {
				truncated = true
				break
			}
		}
		if !truncated {
			t.Logf("attempt %d: %s had no uncommitted tail to truncate; again", attempt, lead.name)
			continue
		}
		lead.kill()
		c.start(lead, join(lead))
		return
	}
	t.Fatal("in five attempts no killed leader had an uncommitted tail: the raft-wal sequence did not run")
}

func readLog(n *clusterNode) string {
	b, _ := os.ReadFile(n.logPath)
	return string(b)
}
