//go:build integration

package itest

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chaosRounds is how many kills TestChaos makes: CAIRN_CHAOS_ROUNDS, or
// 12 (make chaos runs more).
func chaosRounds(t *testing.T) int {
	if v := os.Getenv("CAIRN_CHAOS_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_CHAOS_ROUNDS=%q: want a positive count", v)
		}
		return n
	}
	return 12
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
	c.healEvery("2s")
	ctx := ctxT(t)
	c.bringUp(ctx)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 7))
	base := c.putObjects(ctx, c.nodes[0], "chaos-base", seed, clusterSizes(rng)[:60])

	gws := []*clusterNode{c.nodes[0], c.nodes[2], c.nodes[4]}
	ws := c.startWriters(ctx, "chaos", seed, 2, 20*time.Second, func() []*clusterNode { return gws },
		func(i int) int64 { return []int64{100, 70_000, 1_500_000, 3*MiB + 7}[i%4] })
	defer ws.Stop()

	// A node joins: healing rebalances towards it all through the kills.
	c.addNode("zone-b")
	bricking := rng.IntN(rounds)
	for round := range rounds {
		if round == bricking {
			t.Logf("round %d: the raft-wal sequence", round)
			c.truncateAndKillAgain(t, ctx)
			continue
		}
		n := c.nodes[rng.IntN(len(c.nodes))]
		down := time.Duration(rng.IntN(3000)) * time.Millisecond
		t.Logf("round %d: SIGKILL %s (meta %v), back after %v", round, n.name, n.meta, down)
		n.kill()
		time.Sleep(down)
		c.start(n, c.joinOthers(n))
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
	}
	all := append(base, ws.Stop()...)
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
func (c *testCluster) truncateAndKillAgain(t *testing.T, ctx context.Context) {
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
					_, _ = adm.CreateKey(bctx, nil)
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
		c.start(lead, c.joinOthers(lead))
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
		c.start(lead, c.joinOthers(lead))
		return
	}
	t.Fatal("in five attempts no killed leader had an uncommitted tail: the raft-wal sequence did not run")
}

func readLog(n *clusterNode) string {
	b, _ := os.ReadFile(n.logPath)
	return string(b)
}
