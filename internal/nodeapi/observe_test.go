package nodeapi_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"cairn/internal/blob"
	"cairn/internal/nodeapi"
)

// shardEvents is a ShardObserver that keeps what it is told.
type shardEvents struct {
	mu     sync.Mutex
	events []string // "op result bytes"
}

func (e *shardEvents) ObserveShard(op nodeapi.ShardOp, result nodeapi.ShardResult, bytes int64, elapsed time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if elapsed <= 0 {
		bytes = -1 // shows up as a mismatch
	}
	e.events = append(e.events, fmt.Sprintf("%s %s %d", op, result, bytes))
}

// wait returns the events, sorted, once there are n, and a moment later
// for any more: the server reports an operation after its response, which
// the client may have by then.
func (e *shardEvents) wait(t *testing.T, n int) []string {
	t.Helper()
	get := func() []string {
		e.mu.Lock()
		defer e.mu.Unlock()
		return slices.Clone(e.events)
	}
	for deadline := time.Now().Add(5 * time.Second); len(get()) < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	got := get()
	slices.Sort(got)
	return got
}

// faultStore fails Get with err, when set.
type faultStore struct {
	blob.Store
	mu  sync.Mutex
	err error
}

func (f *faultStore) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *faultStore) Get(ctx context.Context, id cid.Cid, dst []byte) ([]byte, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return dst[:0], err
	}
	return f.Store.Get(ctx, id, dst)
}

func TestShardObserver(t *testing.T) {
	ctx := context.Background()
	ev := &shardEvents{}
	st := &faultStore{Store: openDir(t)}
	url := serve(t, st, func(c *nodeapi.ServerConfig) { c.Observer = ev })
	c := dial(t, url, nil)
	id, data := shard(t, 1, 5000)
	missing, _ := shard(t, 2, 10)

	if err := c.Put(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, id, nil); err != nil || len(got) != len(data) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}
	if ok, err := c.Has(ctx, id); !ok || err != nil {
		t.Fatalf("Has: %v %v", ok, err)
	}
	if ok, err := c.Has(ctx, missing); ok || err != nil {
		t.Fatalf("Has of a missing shard: %v %v", ok, err)
	}
	if _, err := c.Get(ctx, missing, nil); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of a missing shard: %v", err)
	}
	for _, err := range []error{blob.ErrCorrupt, context.Canceled, errors.New("disk on fire")} {
		st.setErr(fmt.Errorf("read the shard: %w", err))
		if _, err := c.Get(ctx, id, nil); err == nil {
			t.Fatal("a failing Get succeeded")
		}
	}
	st.setErr(nil)
	other := dial(t, url, func(cc *nodeapi.ClientConfig) { cc.Signer = signer(t, otherSecret) })
	if err := other.Put(ctx, missing, data[:10]); err == nil {
		t.Fatal("a PUT signed with another secret succeeded")
	}
	if err := c.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx); err != nil { // not a shard operation: not observed
		t.Fatal(err)
	}

	want := []string{
		fmt.Sprintf("put ok %d", len(data)),
		fmt.Sprintf("get ok %d", len(data)),
		"head ok 0",
		"head not_found 0",
		"get not_found 0",
		"get corrupt 0",
		"get canceled 0",
		"get error 0",
		"put refused 0",
		"delete ok 0",
	}
	slices.Sort(want)
	got := ev.wait(t, len(want))
	if !slices.Equal(got, want) {
		t.Errorf("observed:\n%q\nwant:\n%q", got, want)
	}
}

// TestResultOf checks the classification of store errors, which callers
// of a store in their own process use too.
func TestResultOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want nodeapi.ShardResult
	}{
		{nil, nodeapi.ResultOK},
		{fmt.Errorf("x: %w", blob.ErrNotFound), nodeapi.ResultNotFound},
		{fmt.Errorf("x: %w", blob.ErrCorrupt), nodeapi.ResultCorrupt},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), nodeapi.ResultCanceled},
		{errors.New("no space left on device"), nodeapi.ResultError},
	} {
		if got := nodeapi.ResultOf(c.err); got != c.want {
			t.Errorf("ResultOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	names := map[string]bool{}
	for _, r := range nodeapi.ShardResults() {
		names[r.String()] = true
	}
	for _, o := range nodeapi.ShardOps() {
		names[o.String()] = true
	}
	if len(names) != 10 || names["unknown"] {
		t.Errorf("ops and results need distinct names: %v", names)
	}
}
