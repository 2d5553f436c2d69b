package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/serf/serf"

	"cairn/internal/nodeauth"
)

var (
	// ErrNameConflict means another member already gossips under this
	// node's ID from another address. IDs must be unique.
	ErrNameConflict = errors.New("cluster: node ID already used by another member")
	// ErrWrongSecret means a member answered the join with gossip this
	// node cannot decrypt: it belongs to a cluster with another secret.
	ErrWrongSecret = errors.New("cluster: the member holds another cluster secret")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("cluster: closed")
	// ErrStopped is what Err returns when gossip stopped without Close
	// for a reason other than a name conflict.
	ErrStopped = errors.New("cluster: gossip stopped")
)

// eventBuffer is the capacity of the channel serf delivers events on.
// Serf sends on it blocking, from a goroutine that exits on shutdown only
// between sends, so it must rarely fill: the Cluster drains it
// continuously and keeps only a coalesced notification.
const eventBuffer = 1024

// Cluster is this node's membership in the cluster. Safe for concurrent
// use.
type Cluster struct {
	serf   *serf.Serf
	log    *slog.Logger
	events chan serf.Event // from serf; drained by run
	notify chan struct{}   // Events: cap 1, coalescing
	done   chan struct{}   // closed when run returns

	conflicts atomic.Int64           // name conflicts serf reported
	conflict  atomic.Pointer[string] // address of the last conflicting node

	mu     sync.Mutex
	seen   map[string]seen                 // node ID → last status seen and since when
	alive  atomic.Pointer[map[string]bool] // IDs seen alive last: Alive's snapshot of seen
	closed bool
	err    error // why gossip stopped on its own; nil after Close

	wg        sync.WaitGroup // run
	leaves    sync.WaitGroup // Leave goroutines
	closeOnce sync.Once
	closeErr  error
}

type seen struct {
	status Status
	since  time.Time
}

// GossipKey derives the gossip key from the cluster secret: what a node
// that does not hold the secret is given to take part in membership.
func GossipKey(secret []byte) ([]byte, error) {
	return nodeauth.DeriveKey(secret, "gossip")
}

// Start creates this node's serf agent, bound to cfg.BindAddr, and, if
// cfg.Join is set, joins the cluster through them, retrying for up to
// cfg.JoinTimeout when no address answers (see Config.JoinTimeout): Start
// may block that long, and returns an error if it fails. A name conflict
// (ErrNameConflict) or a member with another secret (ErrWrongSecret) is
// not fixed by waiting: Start fails at once.
func Start(cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key := cfg.GossipKey
	if cfg.Secret != nil {
		var err error
		if key, err = GossipKey(cfg.Secret); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{
		log:    logger,
		events: make(chan serf.Event, eventBuffer),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		seen:   make(map[string]seen),
	}
	sc, err := cfg.serfConfig(key, c.events, newSerfLogger(logger, c.noteConflict))
	if err != nil {
		return nil, err
	}
	s, err := serf.Create(sc)
	if err != nil {
		return nil, fmt.Errorf("cluster: start gossip on %s: %w", cfg.BindAddr, err)
	}
	c.serf = s
	c.Members() // Alive knows this node from the start
	c.wg.Add(1)
	go c.run()
	c.log.Info("gossip started", "id", cfg.Self.ID, "gossip", c.GossipAddr())

	if len(cfg.Join) > 0 {
		if err := c.joinRetry(cfg.Join, cfg.JoinTimeout); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// joinRetry joins through addrs, retrying with backoff until one
// answers, another member joins this node, or timeout passes.
func (c *Cluster) joinRetry(addrs []string, timeout time.Duration) error {
	const maxWait = 5 * time.Second
	deadline := time.Now().Add(timeout)
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := c.Join(addrs)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrNameConflict) || errors.Is(err, ErrWrongSecret) || errors.Is(err, ErrClosed):
			return err
		case c.othersAlive():
			c.log.Info("joined by another member while retrying the join addresses", "join", addrs)
			return nil
		case time.Now().Add(wait).After(deadline):
			return fmt.Errorf("%w (gave up after %d tries in %v)", err, attempt, timeout)
		}
		c.log.Info("no member answered the join; retrying", "join", addrs, "in", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-c.done:
			return ErrClosed
		}
		wait = min(2*wait, maxWait)
	}
}

// othersAlive reports whether serf knows another alive member.
func (c *Cluster) othersAlive() bool {
	self := c.serf.LocalMember().Name
	for _, m := range c.serf.Members() {
		if m.Name != self && m.Status == serf.StatusAlive {
			return true
		}
	}
	return false
}

// Join joins the cluster through addrs (gossip host:port of any members),
// once, without retrying, and returns how many of them answered. It
// fails if none did (ErrWrongSecret if one answered with gossip this node
// cannot decrypt), or if this node's ID turns out to be taken
// (ErrNameConflict): serf then holds a vote among the members, and the
// loser stops gossiping (see Done and Err), normally the newcomer.
func (c *Cluster) Join(addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, errors.New("cluster: join: no addresses")
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	before := c.conflicts.Load()
	n, err := c.serf.Join(addrs, true)
	if c.conflicts.Load() != before {
		return n, c.conflictErr()
	}
	if err != nil {
		why := joinReasons(err)
		// memberlist's only sign that the answer was sealed with another key.
		if strings.Contains(why, "no installed keys could decrypt") {
			return n, fmt.Errorf("%w: join via %s: %s", ErrWrongSecret, strings.Join(addrs, ", "), why)
		}
		return n, fmt.Errorf("cluster: join via %s: no member answered: %s", strings.Join(addrs, ", "), why)
	}
	return n, nil
}

// joinReasons flattens memberlist's multi-line error (a go-multierror,
// one error per address) into one line.
func joinReasons(err error) string {
	var multi interface{ WrappedErrors() []error }
	if !errors.As(err, &multi) {
		return err.Error()
	}
	var why []string
	for _, e := range multi.WrappedErrors() {
		why = append(why, e.Error())
	}
	return strings.Join(why, "; ")
}

func (c *Cluster) noteConflict(other string) {
	c.conflict.Store(&other)
	c.conflicts.Add(1)
}

func (c *Cluster) conflictErr() error {
	other := "another address"
	if p := c.conflict.Load(); p != nil {
		other = *p
	}
	return fmt.Errorf("%w: %q is already the name of the member at %s", ErrNameConflict, c.serf.LocalMember().Name, other)
}

// Members returns every member this node knows, itself included, sorted
// by ID: alive ones, and failed or departed ones until serf forgets them
// (Config.ReconnectTimeout, Config.TombstoneTimeout). A member whose tags
// do not decode (not a Cairn node, or a newer tag format) is left out;
// the Cluster logs a warning when it appears.
func (c *Cluster) Members() []Member {
	sms := c.serf.Members()
	now := time.Now()
	out := make([]Member, 0, len(sms))
	c.mu.Lock()
	for _, sm := range sms {
		if m, ok := c.member(sm, now); ok {
			out = append(out, m)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Self returns this node as the cluster sees it: Config.Self with its
// gossip address and status.
func (c *Cluster) Self() Member {
	sm := c.serf.LocalMember()
	c.mu.Lock()
	defer c.mu.Unlock()
	m, _ := c.member(sm, time.Now())
	return m
}

// member converts a serf member, recording a status change seen at now.
// c.mu must be held.
func (c *Cluster) member(sm serf.Member, now time.Time) (Member, bool) {
	status, ok := statusOf(sm.Status)
	if !ok {
		return Member{}, false
	}
	m, err := decodeTags(sm.Name, sm.Tags)
	if err != nil {
		return Member{}, false
	}
	s, ok := c.seen[sm.Name]
	if !ok || s.status != status {
		s = seen{status, now}
		c.seen[sm.Name] = s
		c.publishAlive()
	}
	m.Gossip = net.JoinHostPort(sm.Addr.String(), strconv.Itoa(int(sm.Port)))
	m.Status, m.Since = status, s.since
	return m, true
}

// Alive reports whether the member with this ID is alive in this node's
// view: its status was alive when last seen. A member that failed, is
// leaving or left is not, nor is one gossip does not know (never seen, or
// forgotten). It reads a snapshot that membership events and Members
// keep current, without a lock, so it is cheap enough to ask for every
// node on every write: the gateway's "known to be down" is !Alive.
func (c *Cluster) Alive(id string) bool {
	m := c.alive.Load()
	return m != nil && (*m)[id]
}

// publishAlive replaces Alive's snapshot with the alive members of seen.
// c.mu must be held.
func (c *Cluster) publishAlive() {
	m := make(map[string]bool, len(c.seen))
	for id, s := range c.seen {
		if s.status == StatusAlive {
			m[id] = true
		}
	}
	c.alive.Store(&m)
}

func statusOf(s serf.MemberStatus) (Status, bool) {
	switch s {
	case serf.StatusAlive:
		return StatusAlive, true
	case serf.StatusLeaving:
		return StatusLeaving, true
	case serf.StatusLeft:
		return StatusLeft, true
	case serf.StatusFailed:
		return StatusFailed, true
	}
	return "", false
}

// Events returns a channel that receives a value after the membership
// changes: a member joined, failed, left, was forgotten or changed its
// tags, or gossip stopped. Notifications coalesce (capacity 1): the
// receiver reads Members, which is the state to act on, not the events.
// The channel is never closed; see Done.
func (c *Cluster) Events() <-chan struct{} { return c.notify }

func (c *Cluster) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Done is closed when gossip has stopped: after Close, or on its own
// (this node lost a name conflict), in which case Err says why.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Err returns why gossip stopped without Close (ErrNameConflict, or
// ErrStopped), or nil.
func (c *Cluster) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// GossipAddr returns the ip:port other members reach this node's gossip
// at: the advertised address, with the actual port when BindAddr asked
// for port 0.
func (c *Cluster) GossipAddr() string {
	n := c.serf.Memberlist().LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Leave leaves the cluster gracefully: the others see this node Left
// rather than Failed. It waits for the leave to be broadcast, which serf
// bounds (about twice BroadcastTimeout, 5s, plus LeavePropagateDelay, 1s,
// outside ProfileTest); if ctx ends first, Leave returns ctx.Err() and
// the leave goes on until Close, which waits for it. Call Close after
// Leave. Calling Leave again once it returned is harmless.
func (c *Cluster) Leave(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.leaves.Add(1)
	c.mu.Unlock()
	res := make(chan error, 1)
	go func() {
		defer c.leaves.Done()
		res <- c.serf.Leave()
	}()
	select {
	case err := <-res:
		if err != nil {
			return fmt.Errorf("cluster: leave: %w", err)
		}
		c.log.Info("left the cluster")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: leave: %w", ctx.Err())
	}
}

// Close stops gossip and waits for every goroutine the Cluster started.
// Without a Leave first, the other members see this node Failed, as if it
// had crashed. A Leave still in progress (its ctx ended) is waited for
// first, since memberlist panics on a leave after shutdown. Closing twice
// is harmless.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true // no new Leave from here
		c.mu.Unlock()
		c.leaves.Wait()
		if err := c.serf.Shutdown(); err != nil {
			c.closeErr = fmt.Errorf("cluster: shut down gossip: %w", err)
		}
	})
	c.wg.Wait()
	return c.closeErr
}

// failGrace is how long a member's failure waits before it is logged
// as a warning. A member that leaves gracefully sends two messages:
// serf's leave intent, then memberlist's own "left". They travel by
// gossip separately, so a member may hear the second first; serf then
// reports the member failed, and left once the intent arrives. A
// failure that turns into a leave within failGrace was a leave.
const failGrace = 3 * time.Second

// failure is a member's failure not yet logged: see failGrace.
type failure struct {
	attrs []any
	at    time.Time
}

// run turns serf's events into status records, logs and notifications,
// until serf shuts down.
func (c *Cluster) run() {
	defer c.wg.Done()
	defer close(c.done)
	shutdown := c.serf.ShutdownCh()
	pending := make(map[string]failure) // run's own
	grace := time.NewTimer(failGrace)
	grace.Stop()
	defer grace.Stop()
	armed := false // grace runs: it fires by the time the oldest pending failure is due
	for {
		select {
		case e := <-c.events:
			c.handle(e, pending)
			if len(pending) > 0 && !armed {
				grace.Reset(failGrace)
				armed = true
			}
		case now := <-grace.C:
			armed = false
			next := time.Duration(0)
			for id, f := range pending {
				if wait := failGrace - now.Sub(f.at); wait > 0 {
					if next == 0 || wait < next {
						next = wait
					}
					continue
				}
				c.log.Warn("member failed", f.attrs...)
				delete(pending, id)
			}
			if next > 0 {
				grace.Reset(next)
				armed = true
			}
		case <-shutdown:
		drain:
			for {
				select {
				case e := <-c.events:
					c.handle(e, pending)
				default:
					break drain
				}
			}
			c.mu.Lock()
			if !c.closed {
				c.err = ErrStopped
				if c.conflicts.Load() > 0 {
					c.err = c.conflictErr()
				}
				c.log.Error("gossip stopped on its own", "err", c.err)
			}
			c.mu.Unlock()
			for _, f := range pending {
				// Not confirmed: this node stopped listening first.
				c.log.Info("member failed", f.attrs...)
			}
			c.signal()
			return
		}
	}
}

// handle records a member event, logs it and notifies Events' readers.
// A failure is not logged at once but added to pending (see failGrace);
// a leave of a pending member drops it, any other event of a pending
// member logs it first.
func (c *Cluster) handle(e serf.Event, pending map[string]failure) {
	me, ok := e.(serf.MemberEvent)
	if !ok {
		return // user events and queries: unused
	}
	now := time.Now()
	c.mu.Lock()
	for _, sm := range me.Members {
		if me.Type == serf.EventMemberReap {
			delete(c.seen, sm.Name)
		} else if st, ok := statusOf(sm.Status); ok {
			if s, ok := c.seen[sm.Name]; !ok || s.status != st {
				c.seen[sm.Name] = seen{st, now}
			}
		}
	}
	c.publishAlive()
	c.mu.Unlock()

	for _, sm := range me.Members {
		gossip := net.JoinHostPort(sm.Addr.String(), strconv.Itoa(int(sm.Port)))
		m, err := decodeTags(sm.Name, sm.Tags)
		if err != nil {
			if me.Type == serf.EventMemberJoin || me.Type == serf.EventMemberUpdate {
				c.log.Warn("ignoring a member whose tags do not decode", "id", sm.Name, "gossip", gossip, "err", err)
			}
			continue
		}
		attrs := []any{"id", m.ID, "gossip", gossip, "zone", m.Zone, "roles", m.Roles}
		if f, ok := pending[sm.Name]; ok {
			delete(pending, sm.Name)
			if me.Type != serf.EventMemberLeave {
				c.log.Warn("member failed", f.attrs...)
			}
		}
		switch me.Type {
		case serf.EventMemberJoin:
			c.log.Info("member joined", attrs...)
		case serf.EventMemberUpdate:
			c.log.Info("member updated", attrs...)
		case serf.EventMemberLeave:
			c.log.Info("member left", attrs...)
		case serf.EventMemberFailed:
			pending[sm.Name] = failure{attrs, now}
		case serf.EventMemberReap:
			c.log.Info("member forgotten", attrs...)
		}
	}
	c.signal()
}
