package metarpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"cairn/internal/meta"

	"github.com/hashicorp/raft"
)

// deadURL returns the URL of a listener that is closed: connections to
// it are refused, so a request to it is never sent.
func deadURL(t *testing.T) string {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	return s.URL
}

// TestRetryBeforeSend: a write whose connection fails before the request
// is sent is sent again, to the leader named next, and applied once.
func TestRetryBeforeSend(t *testing.T) {
	nd := newDev(t, nil)
	dead := deadURL(t)
	var asked atomic.Int64
	c := newClient(t, testSecret, func() string {
		if asked.Add(1) == 1 {
			return dead
		}
		return nd.http.URL
	}, nil)
	must(t, c.CreateBucket(bg, "b", time.Now()))
	if asked.Load() != 2 || nd.hits.Load() != 1 {
		t.Errorf("Leader asked %d times, leader got %d requests", asked.Load(), nd.hits.Load())
	}
	wantErr(t, nd.s.CreateBucket(bg, "b", time.Now()), meta.ErrBucketExists)
}

// dropAnswers serves h, but for the first n requests it throws the
// answer away and closes the connection: the call took effect, the
// caller never hears of it.
func dropAnswers(h http.Handler, n int64) (http.Handler, *atomic.Int64) {
	var seen atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) > n {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_ = conn.Close()
	}), &seen
}

// TestLostAnswer: a write whose answer is lost is not sent again; the
// error says its outcome is unknown. A read is sent again.
func TestLostAnswer(t *testing.T) {
	nd := newDev(t, nil)
	h, seen := dropAnswers(nd.srv, 1)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newClient(t, testSecret, fixed(srv.URL), nil)

	err := c.CreateBucket(bg, "b", time.Now())
	if !errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, meta.ErrBucketExists) || errors.Is(err, meta.ErrNotLeader) {
		t.Fatalf("write with a lost answer: %v", err)
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("the write was sent %d times", n)
	}
	if _, err := nd.s.GetBucket(bg, "b"); err != nil {
		t.Fatalf("the write whose answer was lost was not applied: %v", err)
	}
	// CreateBucket is not idempotent: the caller's own retry finds the
	// bucket it created.
	wantErr(t, c.CreateBucket(bg, "b", time.Now()), meta.ErrBucketExists)

	h, seen = dropAnswers(nd.srv, 1)
	srv2 := httptest.NewServer(h)
	defer srv2.Close()
	c = newClient(t, testSecret, fixed(srv2.URL), nil)
	if _, err := c.GetBucket(bg, "b"); err != nil {
		t.Fatalf("read with a lost first answer: %v", err)
	}
	if n := seen.Load(); n != 2 {
		t.Errorf("the read was sent %d times, want 2", n)
	}
}

// fakeAPI answers every call with err, counting them.
type fakeAPI struct {
	API
	err   error
	calls atomic.Int64
}

func (f *fakeAPI) PutObject(context.Context, *meta.Object) error {
	f.calls.Add(1)
	return f.err
}

func (f *fakeAPI) GetObject(context.Context, string, string) (*meta.Object, error) {
	f.calls.Add(1)
	return nil, f.err
}

// TestIndeterminateAnswers: a leader that lost its leadership after
// proposing, or whose write timed out, answers so; the client does not
// send the write again and says its outcome is unknown.
func TestIndeterminateAnswers(t *testing.T) {
	for name, serr := range map[string]error{
		"leadership lost": fmt.Errorf("put object b/k: meta: leadership lost, the outcome is unknown: %w", raft.ErrLeadershipLost),
		"apply timeout":   fmt.Errorf("put object b/k: meta: raft entry not applied yet, it may still be: %w", context.DeadlineExceeded),
	} {
		f := &fakeAPI{err: serr}
		s, err := newServer(ServerConfig{Signer: newSigner(t, testSecret)}, f)
		must(t, err)
		hs := httptest.NewServer(s)
		c := newClient(t, testSecret, fixed(hs.URL), nil)
		err = c.PutObject(bg, object("b", "k"))
		if !errors.Is(err, ErrOutcomeUnknown) || f.calls.Load() != 1 || err.Error() != serr.Error() {
			t.Errorf("%s: %v after %d calls", name, err, f.calls.Load())
		}
		hs.Close()
	}
}

// TestNoLeader: while no leader is known the client tries again with
// backoff until its Timeout or the caller's context ends, then fails with
// an error wrapping meta.ErrNotLeader and the context's error.
func TestNoLeader(t *testing.T) {
	var asked atomic.Int64
	c := newClient(t, testSecret, func() string { asked.Add(1); return "" }, func(cfg *ClientConfig) {
		cfg.Timeout = 200 * time.Millisecond
	})
	start := time.Now()
	err := c.PutObject(bg, object("b", "k"))
	if !errors.Is(err, meta.ErrNotLeader) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("no leader: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %s, Timeout is 200ms", d)
	}
	if n := asked.Load(); n < 3 || n > 30 {
		t.Errorf("Leader asked %d times in 200ms", n)
	}

	// The caller's context bounds the call too.
	ctx, cancel := context.WithCancel(bg)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	c = newClient(t, testSecret, fixed(deadURL(t)), nil)
	_, err = c.GetObject(ctx, "b", "k")
	if !errors.Is(err, meta.ErrNotLeader) || !errors.Is(err, context.Canceled) {
		t.Errorf("dead leader, canceled: %v", err)
	}

	// A context that ended before the call is not a leader problem.
	_, err = c.GetObject(ctx, "b", "k")
	if !errors.Is(err, context.Canceled) || errors.Is(err, meta.ErrNotLeader) {
		t.Errorf("canceled before the call: %v", err)
	}
}

// TestRedirectLoop: two nodes that each name the other as leader (stale
// views) do not make the client spin: it follows a redirect at once only
// once in a row, then backs off.
func TestRedirectLoop(t *testing.T) {
	var urls [2]string
	var hits [2]atomic.Int64
	for i := range 2 {
		f := &fakeAPI{err: &meta.NotLeaderError{LeaderID: fmt.Sprint("n", 1-i), LeaderAddr: fmt.Sprint("raft", 1-i)}}
		s, err := newServer(ServerConfig{Signer: newSigner(t, testSecret), LeaderAPI: func(string) string { return urls[1-i] }}, f)
		must(t, err)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			s.ServeHTTP(w, r)
		}))
		defer hs.Close()
		urls[i] = hs.URL
	}
	c := newClient(t, testSecret, fixed(urls[0]), func(cfg *ClientConfig) { cfg.Timeout = 300 * time.Millisecond })
	_, err := c.GetObject(bg, "b", "k")
	var nle *meta.NotLeaderError
	if !errors.Is(err, meta.ErrNotLeader) || !errors.As(err, &nle) {
		t.Errorf("redirect loop: %v", err)
	}
	n0, n1 := hits[0].Load(), hits[1].Load()
	if n0 < 2 || n1 < 2 || n0+n1 > 40 {
		t.Errorf("%d and %d requests in 300ms", n0, n1)
	}
}

// TestAnswerTooLarge: the client bounds what it reads.
func TestAnswerTooLarge(t *testing.T) {
	nd := newDev(t, nil)
	must(t, nd.s.CreateBucket(bg, "b", time.Now()))
	must(t, nd.s.PutObject(bg, object("b", "k", "c1", "c2", "c3")))
	c := newClient(t, testSecret, fixed(nd.http.URL), func(cfg *ClientConfig) { cfg.MaxBody = 512 })
	_, err := c.GetObject(bg, "b", "k")
	var re *Error
	if !errors.As(err, &re) || re.Code != codeTooLarge {
		t.Errorf("large answer: %v", err)
	}
	if _, err := c.GetBucket(bg, "b"); err != nil {
		t.Errorf("small answer: %v", err)
	}
}

// TestStaleConnection: a write on a keep-alive connection that the
// server has closed meanwhile is not taken for a write whose answer was
// lost: its body was never asked for (Expect: 100-continue), so the
// client sends it again.
func TestStaleConnection(t *testing.T) {
	nd := newDev(t, nil)
	must(t, nd.s.CreateBucket(bg, "b", time.Now()))
	var handled atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
		nd.srv.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newClient(t, testSecret, fixed(srv.URL), nil)
	for i := range 30 {
		srv.CloseClientConnections()
		must(t, c.PutObject(bg, object("b", fmt.Sprint("k", i), "c")))
	}
	if n, err := nd.s.ChunkRefs(bg, cid("c")); err != nil || n != 30 {
		t.Errorf("refs of c = %d, %v; want 30", n, err)
	}
	t.Logf("%d requests handled for 30 writes", handled.Load())
}
