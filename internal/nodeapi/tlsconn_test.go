package nodeapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cairn/internal/pki"
)

type tlsPair struct {
	server, client *tls.Config
}

// tlsPair returns mutual TLS 1.3 configurations of two tenant nodes of
// one cluster CA: n-srv serves, n-cli calls.
func newTLSPair(t testing.TB) tlsPair {
	t.Helper()
	ca, err := pki.DeriveCA(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pki.NewTenantIdentity(ca, "n-srv")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := pki.NewTenantIdentity(ca, "n-cli")
	if err != nil {
		t.Fatal(err)
	}
	return tlsPair{server: pki.ServerTLS(srv, nil), client: pki.ClientTLS(cli, pki.RequireNode("n-srv"))}
}

type ctxConnKey struct{}

// serveTLS serves h over NewTLSListener on loopback, recording each
// request's connection under ctxConnKey; it returns the base URL.
func serveTLS(t *testing.T, cfg *tls.Config, h http.Handler, log *slog.Logger) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxConnKey{}, c)
		}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(NewTLSListener(ln, cfg, log))
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return "https://" + ln.Addr().String()
}

// peerName is the common name of the verified peer in r.TLS, which must
// be the state of r's connection after its handshake.
func peerName(r *http.Request) (string, error) {
	if _, ok := r.Context().Value(ctxConnKey{}).(*TLSConn); !ok {
		return "", errors.New("the connection is not a *TLSConn")
	}
	cs := r.TLS
	switch {
	case cs == nil:
		return "", errors.New("no r.TLS")
	case !cs.HandshakeComplete || len(cs.PeerCertificates) == 0:
		return "", fmt.Errorf("r.TLS: handshake complete %v, %d peer certificates", cs.HandshakeComplete, len(cs.PeerCertificates))
	case cs.Version != tls.VersionTLS13:
		return "", fmt.Errorf("TLS version %x", cs.Version)
	}
	return cs.PeerCertificates[0].Subject.CommonName, nil
}

// TestTLSConnRoundTrips: bodies of every size from empty to several
// coalesced sends cross a TLSConn both ways intact, over connections
// kept alive between requests, and the server sees the verified peer.
func TestTLSConnRoundTrips(t *testing.T) {
	pair := newTLSPair(t)
	blobs := map[string][]byte{}
	var mu sync.Mutex
	base := serveTLS(t, pair.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := peerName(r)
		if err != nil || name != "n-cli" {
			http.Error(w, fmt.Sprintf("peer %q: %v", name, err), http.StatusForbidden)
			return
		}
		switch r.Method {
		case http.MethodPut:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			blobs[r.URL.Path] = b
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			mu.Lock()
			b := blobs[r.URL.Path]
			mu.Unlock()
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
		}
	}), nil)
	tr := NewTLSTransport(pair.client)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	sizes := []int{0, 1, 100, 16<<10 - 1, 16 << 10, 16<<10 + 1, 256 << 10, 256<<10 + 17, coalesceSize + 1, 3<<20 + 5}
	for round := range 2 { // the second round over kept-alive connections
		for _, n := range sizes {
			want := make([]byte, n)
			rand.Read(want)
			path := fmt.Sprintf("%s/b%d", base, n)
			req, err := http.NewRequest(http.MethodPut, path, bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("round %d, PUT %d bytes: %v", round, n, err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("round %d, PUT %d bytes: %s %s", round, n, resp.Status, msg)
			}
			resp, err = hc.Get(path)
			if err != nil {
				t.Fatalf("round %d, GET %d bytes: %v", round, n, err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("round %d, GET %d bytes: %v", round, n, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d, GET %d bytes: got %d bytes, not what was PUT", round, n, len(got))
			}
		}
	}
}

// TestTLSConnFlushes: what a handler flushes reaches the client while the
// handler still runs (the client's answer is what lets it finish), and a
// client's CloseWrite delivers close_notify at once: nothing sits in
// TLSConn's buffer waiting for a later write.
func TestTLSConnFlushes(t *testing.T) {
	pair := newTLSPair(t)
	proceed := make(chan struct{})
	base := serveTLS(t, pair.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-proceed:
			_, _ = io.WriteString(w, "second\n")
		case <-time.After(5 * time.Second):
			_, _ = io.WriteString(w, "timed out\n")
		}
	}), nil)
	tr := NewTLSTransport(pair.client)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make([]byte, len("first\n"))
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "first\n" {
		t.Fatalf("first flushed line: %q, %v", line, err)
	}
	close(proceed)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest of the response: %q, %v", rest, err)
	}

	// close_notify from CloseWrite, on a connection that stays open.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan error, 1)
	go func() {
		c, err := NewTLSListener(ln, pair.server, nil).Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if err == nil && string(b) != "bye" {
			err = fmt.Errorf("read %q", b)
		}
		got <- err
	}()
	conn, err := tr.DialTLSContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "bye"); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*TLSConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("server read to close_notify: %v", err)
	}
}

// TestTLSConnRefuses: the listener and the transport verify as tls.Conn
// does: a client without a certificate, or with one of another cluster's
// CA, never reaches the handler, and a client refuses a server that is
// not the node it expects.
func TestTLSConnRefuses(t *testing.T) {
	pair := newTLSPair(t)
	var served sync.Mutex
	calls := 0
	var logged bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logged}, nil))
	base := serveTLS(t, pair.server, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Lock()
		calls++
		served.Unlock()
	}), log)
	otherCA, err := pki.DeriveCA(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := pki.NewTenantIdentity(otherCA, "n-cli")
	if err != nil {
		t.Fatal(err)
	}
	noCert := pair.client.Clone()
	noCert.Certificates = nil
	srvCA, err := pki.DeriveCA(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := pki.NewTenantIdentity(srvCA, "n-cli")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*tls.Config{
		"no client certificate":      noCert,
		"another CA's certificate":   pki.ClientTLS(stranger, nil),
		"server is not the expected": pki.ClientTLS(cli, pki.RequireNode("n-other")),
	} {
		tr := NewTLSTransport(cfg)
		resp, err := (&http.Client{Transport: tr}).Get(base + "/x")
		tr.CloseIdleConnections()
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: got %s, want an error", name, resp.Status)
		}
	}
	// Plain HTTP gets net/http's canned answer from a TLS port.
	resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "/x")
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "HTTP request to an HTTPS server") {
		t.Errorf("plain HTTP: %s %q, want 400", resp.Status, msg)
	}
	served.Lock()
	defer served.Unlock()
	if calls != 0 {
		t.Errorf("the handler served %d refused requests", calls)
	}
	// Each refusal is logged, by the server's side of the connection,
	// which may finish after the client has given up.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		logMu.Lock()
		text := logged.String()
		logMu.Unlock()
		n := strings.Count(text, "TLS handshake error")
		if n == 4 {
			break
		}
		if n > 4 || time.Now().After(deadline) {
			t.Fatalf("%d handshake errors logged, want 4 (3 refused clients, plain HTTP):\n%s", n, text)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// BenchmarkTLSShard moves 256 KiB shards over mutual TLS 1.3 on loopback,
// client and server in this process, through net/http: "tls" is a
// tls.Conn straight on the socket (tls.NewListener and
// Transport.TLSClientConfig), "buffered" is TLSConn. Besides MB/s it
// reports the process's CPU per MiB moved, user and system (getrusage),
// which is what TLSConn is to lower.
func BenchmarkTLSShard(b *testing.B) {
	pair := newTLSPair(b)
	shard := make([]byte, 256<<10)
	rand.Read(shard)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			buf := make([]byte, 0, len(shard))
			if _, err := readLimited(r.Body, buf, r.ContentLength, int64(len(shard))); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(shard)))
		_, _ = w.Write(shard)
	})
	kinds := []struct {
		name      string
		listen    func(net.Listener) net.Listener
		transport func() *http.Transport
	}{
		{"tls", func(ln net.Listener) net.Listener { return tls.NewListener(ln, pair.server) },
			func() *http.Transport { tr := NewTransport(); tr.TLSClientConfig = pair.client; return tr }},
		{"buffered", func(ln net.Listener) net.Listener { return NewTLSListener(ln, pair.server, nil) },
			func() *http.Transport { return NewTLSTransport(pair.client) }},
	}
	for _, method := range []string{http.MethodPut, http.MethodGet} {
		for _, k := range kinds {
			b.Run(method+"/"+k.name, func(b *testing.B) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				srv := &http.Server{Handler: h}
				go func() { _ = srv.Serve(k.listen(ln)) }()
				defer srv.Close()
				tr := k.transport()
				defer tr.CloseIdleConnections()
				hc := &http.Client{Transport: tr}
				url := "https://" + ln.Addr().String() + "/s"
				b.SetBytes(int64(len(shard)))
				b.SetParallelism(2)
				var u0, s0 syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u0)
				s0 = u0
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					buf := make([]byte, 0, len(shard))
					for pb.Next() {
						var body io.Reader
						if method == http.MethodPut {
							body = bytes.NewReader(shard)
						}
						req, err := http.NewRequest(method, url, body)
						if err != nil {
							b.Error(err)
							return
						}
						resp, err := hc.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, err = readLimited(resp.Body, buf, resp.ContentLength, int64(len(shard)))
						resp.Body.Close()
						if err != nil || resp.StatusCode/100 != 2 {
							b.Errorf("%s: %v", resp.Status, err)
							return
						}
					}
				})
				b.StopTimer()
				var s1 syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s1)
				mib := float64(b.N) * float64(len(shard)) / (1 << 20)
				user := time.Duration(s1.Utime.Nano() - s0.Utime.Nano())
				sys := time.Duration(s1.Stime.Nano() - s0.Stime.Nano())
				b.ReportMetric(float64(user.Microseconds())/1000/mib, "user-ms/MiB")
				b.ReportMetric(float64(sys.Microseconds())/1000/mib, "sys-ms/MiB")
			})
		}
	}
}

// TestLimitedWriter: a body written through ReadFrom's WriterTo path stops
// at the length net/http declared, and says so when it had more.
func TestLimitedWriter(t *testing.T) {
	for _, tc := range []struct {
		body  string
		limit int64
		want  string
		err   error
	}{
		{"abcdef", 6, "abcdef", nil},
		{"abcdef", 10, "abcdef", nil},
		{"abcdef", 4, "abcd", errPastLimit},
		{"abcdef", 0, "", errPastLimit},
		{"", 0, "", nil},
	} {
		var got bytes.Buffer
		lw := &limitedWriter{w: &got, n: tc.limit}
		n, err := strings.NewReader(tc.body).WriteTo(lw)
		if got.String() != tc.want || n != int64(len(tc.want)) || !errors.Is(err, tc.err) {
			t.Errorf("%q limited to %d: wrote %q (n %d), err %v; want %q, %v", tc.body, tc.limit, got.String(), n, err, tc.want, tc.err)
		}
		if wantLeft := tc.limit - int64(len(tc.want)); lw.n != wantLeft {
			t.Errorf("%q limited to %d: %d left, want %d", tc.body, tc.limit, lw.n, wantLeft)
		}
	}
}
