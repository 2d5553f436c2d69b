package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/serf/serf"

	"cairn/internal/testnet"
)

// announced strips what the observer adds, leaving what the member said.
func announced(m Member) Member {
	m.Gossip, m.Status, m.Since = "", "", time.Time{}
	return m
}

func TestThreeNodesJoin(t *testing.T) {
	t0 := time.Now()
	cfgA := testConfig(t, "a", RoleStorage, RoleMeta)
	a := start(t, cfgA)
	drain(a)

	cfgB := testConfig(t, "b", RoleGateway)
	cfgB.Join = []string{a.GossipAddr()}
	b := start(t, cfgB)
	cfgC := testConfig(t, "c", RoleStorage, RoleGateway, RoleMeta)
	cfgC.Self.Zone = "" // the default zone
	cfgC.Join = []string{a.GossipAddr()}
	c := start(t, cfgC)

	nodes := []*Cluster{a, b, c}
	want := []Member{cfgA.Self, cfgB.Self, cfgC.Self} // sorted by ID
	for _, n := range nodes {
		eventually(t, func() error {
			got := n.Members()
			if len(got) != len(want) {
				return fmt.Errorf("%s sees %d members, want %d", n.Self().ID, len(got), len(want))
			}
			for i, m := range got {
				if m.Status != StatusAlive {
					return fmt.Errorf("%s sees %s %s", n.Self().ID, m.ID, m.Status)
				}
				if gossip := nodes[i].GossipAddr(); m.Gossip != gossip {
					return fmt.Errorf("%s sees %s at %s, want %s", n.Self().ID, m.ID, m.Gossip, gossip)
				}
				if m.Since.Before(t0) || m.Since.After(time.Now()) {
					return fmt.Errorf("%s: %s alive since %v", n.Self().ID, m.ID, m.Since)
				}
				if !reflect.DeepEqual(announced(m), want[i]) {
					return fmt.Errorf("%s sees\n %+v, want\n %+v", n.Self().ID, announced(m), want[i])
				}
			}
			return nil
		})
	}
	waitEvent(t, a)

	for i, n := range nodes {
		self := n.Self()
		if self.Status != StatusAlive || !reflect.DeepEqual(announced(self), want[i]) {
			t.Errorf("Self() = %+v, want %+v alive", self, want[i])
		}
	}
}

func TestFailAndLeave(t *testing.T) {
	cfgA := testConfig(t, "a", RoleMeta)
	logA := newTestLog(t)
	cfgA.Logger = logA.logger(slog.LevelInfo)
	a := start(t, cfgA)
	var others []*Cluster
	for _, id := range []string{"b", "c", "d"} {
		cfg := testConfig(t, id, RoleStorage)
		cfg.Join = []string{a.GossipAddr()}
		others = append(others, start(t, cfg))
	}
	b, c, d := others[0], others[1], others[2]
	for _, n := range []*Cluster{a, b, c, d} {
		eventually(t, func() error {
			if got := len(n.Members()); got != 4 {
				return fmt.Errorf("%s sees %d members", n.Self().ID, got)
			}
			return nil
		})
	}

	// b is killed: the others see it fail.
	drain(a)
	aliveSince, _ := member(a, "b")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Cluster{a, c, d} {
		eventually(t, func() error { return hasStatus(n, "b", StatusFailed) })
	}
	waitEvent(t, a)
	if m, _ := member(a, "b"); !m.Since.After(aliveSince.Since) {
		t.Errorf("b failed since %v, alive since %v", m.Since, aliveSince.Since)
	}
	select {
	case <-b.Done():
	default:
		t.Error("Done not closed after Close")
	}
	if err := b.Err(); err != nil {
		t.Errorf("Err after Close = %v", err)
	}
	// The failure is a warning, once failGrace passed without a leave.
	eventually(t, func() error {
		if !logA.contains(`level=WARN msg="member failed" id=b `) {
			return errors.New("a did not warn that b failed")
		}
		return nil
	})

	// c leaves: the others see it leave.
	drain(a)
	if err := c.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Cluster{a, d} {
		eventually(t, func() error { return hasStatus(n, "c", StatusLeft) })
	}
	waitEvent(t, a)
	if s := c.Self().Status; s != StatusLeft {
		t.Errorf("c sees itself %s after Leave, want left", s)
	}
	time.Sleep(failGrace + 500*time.Millisecond)
	if logA.contains(`msg="member failed" id=c `) {
		t.Error("a logged c failed; c left")
	}
	if err := c.Leave(context.Background()); err != nil {
		t.Errorf("second Leave: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join([]string{a.GossipAddr()}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close: %v, want ErrClosed", err)
	}
	if err := c.Leave(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Close: %v, want ErrClosed", err)
	}
}

// TestFailureThenLeave checks the order gossip may deliver a graceful
// leave in: memberlist's "left" before serf's leave intent, which serf
// reports as a failure, then a leave. That is no warning; a failure
// followed by anything else, or by nothing for failGrace, is.
func TestFailureThenLeave(t *testing.T) {
	log := newTestLog(t)
	c := &Cluster{log: log.logger(slog.LevelInfo), notify: make(chan struct{}, 1), seen: make(map[string]seen)}
	ev := func(typ serf.EventType, id string, status serf.MemberStatus) serf.Event {
		tags := encodeTags(Member{ID: id, Zone: "z", Roles: []Role{RoleStorage}, APIAddr: "127.0.0.1:7000", Weight: 1})
		return serf.MemberEvent{Type: typ, Members: []serf.Member{{Name: id, Addr: net.IPv4(127, 0, 0, 1), Port: 7946, Tags: tags, Status: status}}}
	}
	pending := make(map[string]failure)
	c.handle(ev(serf.EventMemberFailed, "b", serf.StatusFailed), pending)
	if _, ok := pending["b"]; !ok {
		t.Fatal("a failure was not held back")
	}
	c.handle(ev(serf.EventMemberLeave, "b", serf.StatusLeft), pending)
	c.handle(ev(serf.EventMemberFailed, "c", serf.StatusFailed), pending)
	c.handle(ev(serf.EventMemberJoin, "c", serf.StatusAlive), pending) // it flapped
	c.handle(ev(serf.EventMemberFailed, "d", serf.StatusFailed), pending)
	if log.contains(`msg="member failed" id=b `) {
		t.Error("b left, but was logged failed")
	}
	if !log.contains(`level=WARN msg="member failed" id=c `) {
		t.Error("c failed and came back, without a warning")
	}
	if log.contains(`msg="member failed" id=d `) {
		t.Error("d's failure was logged before failGrace")
	}
	if _, ok := pending["d"]; !ok || len(pending) != 1 {
		t.Errorf("pending = %v, want d only", pending)
	}
}

// TestAlive: Alive follows membership events by itself (nothing here
// lists the members of a until the end), for this node, for a member that
// joins and fails and leaves, and for one gossip never heard of.
func TestAlive(t *testing.T) {
	a := start(t, testConfig(t, "a", RoleMeta))
	if !a.Alive("a") || a.Alive("b") || a.Alive("nobody") {
		t.Fatalf("at start: Alive(a)=%v Alive(b)=%v Alive(nobody)=%v", a.Alive("a"), a.Alive("b"), a.Alive("nobody"))
	}
	var others []*Cluster
	for _, id := range []string{"b", "c"} {
		cfg := testConfig(t, id, RoleStorage)
		cfg.Join = []string{a.GossipAddr()}
		others = append(others, start(t, cfg))
	}
	b, c := others[0], others[1]
	alive := func(id string, want bool) func() error {
		return func() error {
			if got := a.Alive(id); got != want {
				return fmt.Errorf("a: Alive(%s) = %v, want %v", id, got, want)
			}
			return nil
		}
	}
	eventually(t, alive("b", true))
	eventually(t, alive("c", true))
	if err := b.Close(); err != nil { // killed: it fails
		t.Fatal(err)
	}
	eventually(t, alive("b", false))
	if err := c.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, alive("c", false))
	if !a.Alive("a") || a.Alive("nobody") {
		t.Fatal("a's view of itself or of a stranger changed")
	}
	// Members agrees.
	for id, want := range map[string]Status{"b": StatusFailed, "c": StatusLeft} {
		if err := hasStatus(a, id, want); err != nil {
			t.Error(err)
		}
	}
}

// TestReaped checks that failed and departed members are forgotten after
// their timeouts, with an event.
func TestReaped(t *testing.T) {
	cfgA := testConfig(t, "a", RoleMeta)
	cfgA.ReconnectTimeout = time.Second
	cfgA.TombstoneTimeout = time.Second
	a := start(t, cfgA)
	cfgB := testConfig(t, "b", RoleMeta)
	cfgB.Join = []string{a.GossipAddr()}
	b := start(t, cfgB)
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		if m, ok := member(a, "b"); ok {
			return fmt.Errorf("a still lists b (%s)", m.Status)
		}
		return nil
	})
}

// TestRestartAtNewAddress checks that a node that comes back with the
// same ID from another port takes its place back.
func TestRestartAtNewAddress(t *testing.T) {
	a := start(t, testConfig(t, "a", RoleMeta))
	cfgB := testConfig(t, "b", RoleStorage)
	cfgB.Join = []string{a.GossipAddr()}
	b := start(t, cfgB)
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })
	old := b.GossipAddr()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error { return hasStatus(a, "b", StatusFailed) })

	b2 := start(t, cfgB) // port 0: another port
	if b2.GossipAddr() == old {
		t.Skip("the kernel gave the same port again")
	}
	eventually(t, func() error {
		m, ok := member(a, "b")
		if !ok || m.Status != StatusAlive || m.Gossip != b2.GossipAddr() {
			return fmt.Errorf("a sees b %+v, want alive at %s", m, b2.GossipAddr())
		}
		return nil
	})
}

func TestNameConflict(t *testing.T) {
	a := start(t, testConfig(t, "a", RoleMeta))
	cfgB := testConfig(t, "b", RoleStorage)
	cfgB.Join = []string{a.GossipAddr()}
	b := start(t, cfgB)
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })

	impostor := testConfig(t, "b", RoleGateway)
	impostor.Join = []string{a.GossipAddr()}
	c, err := Start(impostor)
	if err == nil {
		c.Close()
		t.Fatal("a second node named b started")
	}
	if !errors.Is(err, ErrNameConflict) {
		t.Fatalf("Start: %v, want ErrNameConflict", err)
	}
	t.Log(err)
	consistently(t, time.Second, func() error {
		m, ok := member(a, "b")
		if !ok || m.Status != StatusAlive || m.Gossip != b.GossipAddr() || !m.HasRole(RoleStorage) {
			return fmt.Errorf("a sees b as %+v, want the first b", m)
		}
		return b.Err()
	})
}

func TestJoinRetriesUntilAPeerStarts(t *testing.T) {
	addr := freePort(t)
	cfgB := testConfig(t, "b", RoleStorage)
	cfgB.Join = []string{addr}
	cfgB.JoinTimeout = 30 * time.Second
	log := newTestLog(t)
	cfgB.Logger = log.logger(slog.LevelInfo).With("node", "b")
	type result struct {
		c   *Cluster
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := Start(cfgB)
		res <- result{c, err}
	}()
	eventually(t, func() error {
		if !log.contains("retrying") {
			return errors.New("b has not retried yet")
		}
		return nil
	})

	cfgA := testConfig(t, "a", RoleMeta)
	cfgA.BindAddr = addr
	a := start(t, cfgA)
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close() })
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })
}

// TestJoinedWhileRetrying: a node whose join addresses are all down stops
// retrying when another node joins it.
func TestJoinedWhileRetrying(t *testing.T) {
	cfgB := testConfig(t, "b", RoleStorage)
	cfgB.BindAddr = freePort(t)
	cfgB.Join = []string{freePort(t)} // nobody, ever
	cfgB.JoinTimeout = time.Minute
	res := make(chan error, 1)
	go func() {
		c, err := Start(cfgB)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		res <- err
	}()
	cfgA := testConfig(t, "a", RoleMeta)
	cfgA.Join = []string{cfgB.BindAddr}
	a := start(t, cfgA)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })
}

func TestJoinGivesUp(t *testing.T) {
	cfg := testConfig(t, "b", RoleStorage)
	cfg.Join = []string{freePort(t)}
	cfg.JoinTimeout = 0 // once
	c, err := Start(cfg)
	if err == nil {
		c.Close()
		t.Fatal("joined nobody")
	}
	t.Log(err)

	c = start(t, testConfig(t, "c", RoleStorage))
	if n, err := c.Join([]string{freePort(t)}); err == nil || n != 0 {
		t.Fatalf("Join = %d, %v", n, err)
	}
	if _, err := c.Join(nil); err == nil {
		t.Fatal("Join(nil) succeeded")
	}
}

func TestLeaveCancelled(t *testing.T) {
	a := start(t, testConfig(t, "a", RoleMeta))
	cfgB := testConfig(t, "b", RoleMeta)
	cfgB.Join = []string{a.GossipAddr()}
	b := start(t, cfgB)
	eventually(t, func() error { return hasStatus(a, "b", StatusAlive) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Leave(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // waits for the leave
		t.Fatal(err)
	}
}

// TestUndecodableMember checks that a serf member without Cairn tags is
// left out, with a warning.
func TestUndecodableMember(t *testing.T) {
	cfgA := testConfig(t, "a", RoleMeta)
	log := newTestLog(t)
	cfgA.Logger = log.logger(slog.LevelInfo)
	a := start(t, cfgA)

	cfgX := testConfig(t, "x", RoleMeta)
	cfgX.Join = []string{a.GossipAddr()}
	cfgX.testHook = func(sc *serf.Config) { sc.Tags = map[string]string{"v": "99", "api": "x:1"} }
	x := start(t, cfgX)

	eventually(t, func() error {
		for _, m := range a.serf.Members() {
			if m.Name == "x" && m.Status == serf.StatusAlive {
				return nil
			}
		}
		return errors.New("serf on a does not know x yet")
	})
	eventually(t, func() error {
		if !log.contains("tags do not decode") {
			return errors.New("no warning")
		}
		return nil
	})
	if _, ok := member(a, "x"); ok {
		t.Error("a lists x")
	}
	if got := len(x.Members()); got != 1 { // x sees a only
		t.Errorf("x lists %d members, want 1", got)
	}
}

// freePort returns a loopback address whose TCP and UDP ports were free a
// moment ago, outside the ephemeral range so that no outgoing connection
// takes it before the test binds it.
func freePort(t *testing.T) string {
	t.Helper()
	return testnet.FreeAddr(t, "127.0.0.1")
}
