package layout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"cairn/internal/meta"
)

// Store keeps the layout's versions: *meta.Store, and *metarpc.Client
// from any node.
type Store interface {
	Layout(ctx context.Context) (*meta.Layout, error)
	SetLayout(ctx context.Context, l *meta.Layout) error
}

// ErrNoLayout is Change's error on a cluster that has no layout yet.
var ErrNoLayout = errors.New("layout: the cluster has no layout yet")

// ChangeRetries is how many times Change reads the layout and tries to
// store the next one when another writer (the leader's steward, an
// operator, the auditor, nodes enrolling together) stored a version
// first. Between two tries it waits a short random pause, so that
// writers racing each other spread out.
const ChangeRetries = 20

// Change stores change(cur) as the next layout version, cur being the
// current layout read from st: the compare-and-set by which approve,
// remove, drain and the auditor's ejections change the layout. When
// another writer stored a version first (meta.ErrStaleLayout) it reads
// the layout again and calls change again, up to ChangeRetries times.
// change returns cur itself when there is nothing to change; then
// nothing is stored. Change returns the layout in force afterwards (the
// one stored, or cur) and whether it stored it. Each call to st is
// bounded by timeout. Errors: ErrNoLayout, change's own (as it returned
// them), st's.
//
// Change is this package's one function with I/O; the decisions it
// stores are the pure functions above.
func Change(ctx context.Context, st Store, timeout time.Duration, change func(cur *meta.Layout) (*meta.Layout, error)) (*meta.Layout, bool, error) {
	var err error
	for attempt := range ChangeRetries {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, false, fmt.Errorf("%w (last: %w)", context.Cause(ctx), err)
			case <-time.After(time.Duration(10+rand.IntN(50)) * time.Millisecond):
			}
		}
		var cur, next *meta.Layout
		rctx, cancel := context.WithTimeout(ctx, timeout)
		cur, err = st.Layout(rctx)
		cancel()
		if err != nil {
			return nil, false, err
		}
		if cur == nil {
			return nil, false, ErrNoLayout
		}
		if next, err = change(cur); err != nil {
			return nil, false, err
		}
		if next == cur {
			return cur, false, nil
		}
		sctx, cancel := context.WithTimeout(ctx, timeout)
		err = st.SetLayout(sctx, next)
		cancel()
		if err == nil {
			return next, true, nil
		}
		if !errors.Is(err, meta.ErrStaleLayout) {
			return nil, false, err
		}
	}
	return nil, false, fmt.Errorf("the layout changed under each of %d attempts: %w", ChangeRetries, err)
}
