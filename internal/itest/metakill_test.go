//go:build integration

package itest

import (
	"syscall"
	"testing"
	"time"
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

	// Writers on every gateway: whichever runs keeps the log growing.
	ws := c.startWriters(ctx, "meta-kill", 0, 4, 10*time.Second, c.gateways, func(i int) int64 { return int64(i*7919) % 20000 })
	defer ws.Stop()

	premise := false
	for round := 0; round < rounds; round++ {
		time.Sleep(300 * time.Millisecond)
		t.Logf("round %d", round)
		// The leader, its followers paused, appends entries no follower
		// has; it is killed, the new leader overwrites them, it restarts
		// and truncates them (checked: raft's "clearing log suffix"), and
		// is killed again at once (see truncateAndKillAgain).
		c.truncateAndKillAgain(t, ctx)
		premise = true
		// And a follower, killed and restarted at once.
		for _, n := range c.metaNodes() {
			if n != c.leader(ctx) {
				n.kill()
				c.start(n, c.joinOthers(n))
				break
			}
		}
	}
	all := ws.Stop()
	if !premise {
		t.Fatal("no round ran")
	}
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
