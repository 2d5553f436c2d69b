package layout

import (
	"context"
	"errors"
	"testing"
	"time"

	"cairn/internal/meta"
)

// racyStore is a layout store where another writer stores a version
// between each read and write, the first races times.
type racyStore struct {
	cur   *meta.Layout
	races int
	sets  int
}

func (s *racyStore) Layout(context.Context) (*meta.Layout, error) { return s.cur, nil }

func (s *racyStore) SetLayout(_ context.Context, l *meta.Layout) error {
	s.sets++
	if s.races > 0 {
		s.races--
		other := *s.cur
		other.Version++
		s.cur = &other
	}
	if l.Version <= s.cur.Version {
		return meta.ErrStaleLayout
	}
	s.cur = l
	return nil
}

func TestChange(t *testing.T) {
	ctx := context.Background()
	l := Initial([]byte("k"))
	l.Version = 3
	l, _ = Approve(l, alive("a", "z1"))
	l, _ = Approve(l, alive("b", "z2"))
	remove := func(cur *meta.Layout) (*meta.Layout, error) { return Remove(cur, "a") }

	st := &racyStore{cur: l, races: 2}
	got, stored, err := Change(ctx, st, time.Second, remove)
	if err != nil || !stored || st.sets != 3 || got != st.cur || !eq(ids(got), "a(removed)", "b") {
		t.Fatalf("after two races: %v stored %v after %d tries, %v", ids(got), stored, st.sets, err)
	}
	// Nothing to change: nothing stored.
	same, stored, err := Change(ctx, st, time.Second, func(cur *meta.Layout) (*meta.Layout, error) { return cur, nil })
	if err != nil || stored || same != st.cur {
		t.Fatalf("no change: stored %v, %v", stored, err)
	}
	// change's own error comes back as it is.
	if _, _, err := Change(ctx, st, time.Second, remove); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("removing a removed node: %v", err)
	}
	st.races = ChangeRetries
	if _, _, err := Change(ctx, st, time.Second, func(cur *meta.Layout) (*meta.Layout, error) { return Remove(cur, "b") }); !errors.Is(err, meta.ErrStaleLayout) {
		t.Fatalf("racing every try: %v, want ErrStaleLayout", err)
	}
	if _, _, err := Change(ctx, &racyStore{}, time.Second, remove); !errors.Is(err, ErrNoLayout) {
		t.Fatalf("no layout: %v", err)
	}
}
