package durable

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// A Group makes the writes of many writers durable together: every
// writer that calls Sync is covered by one sync of the whole file system
// (syncfs(2)) that starts after its call, and as many writers as arrive
// while a sync runs share the next one. Under concurrency a file system
// sync per batch replaces an fsync per file (and per directory), which on
// a disk where a sync costs a millisecond or more is most of a small
// write's cost.
//
// A Group syncs a whole file system, other files included: use one for a
// file system that holds mostly the caller's data.
type Group struct {
	f *os.File // any directory of the file system, kept open

	mu      sync.Mutex
	next    *batch // the batch new callers join; nil when none waits
	running bool
}

type batch struct {
	done chan struct{}
	err  error
}

var (
	groupsMu sync.Mutex
	groups   = map[uint64]*Group{}
)

// GroupFor returns the process's Group for the file system that holds dir,
// or nil where the platform cannot sync one file system (callers then
// fsync each file). Stores on one file system share a Group, so that one
// sync covers all of their writes.
func GroupFor(dir string) (*Group, error) {
	if !canSyncFS {
		return nil, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("durable: group: %w", err)
	}
	dev, err := deviceOf(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("durable: group: %w", err)
	}
	groupsMu.Lock()
	defer groupsMu.Unlock()
	if g, ok := groups[dev]; ok {
		f.Close()
		return g, nil
	}
	g := &Group{f: f}
	groups[dev] = g
	return g, nil
}

// Sync returns once everything written to the file system before the call
// is durable, or the sync's error. If ctx ends first it returns ctx's
// error, and the writes are not known to be durable.
func (g *Group) Sync(ctx context.Context) error {
	g.mu.Lock()
	b := g.next
	if b == nil {
		b = &batch{done: make(chan struct{})}
		g.next = b
	}
	if !g.running {
		g.running = true
		go g.run()
	}
	g.mu.Unlock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run syncs batch after batch while callers wait. A batch is taken (under
// the lock) before its sync starts, so every caller in it had finished
// writing when the sync began.
func (g *Group) run() {
	for {
		g.mu.Lock()
		b := g.next
		if b == nil {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.next = nil
		g.mu.Unlock()
		if err := syncFS(g.f); err != nil {
			b.err = fmt.Errorf("durable: sync file system: %w", err)
		}
		close(b.done)
	}
}
