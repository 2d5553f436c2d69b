package nodeapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Node-to-node TLS with fewer system calls.
//
// crypto/tls hands each record (at most 16 KiB of plaintext) to the
// connection beneath it in a write of its own, and reads into a buffer
// about one record long, so a 256 KiB shard crosses the kernel in some
// sixteen sends, each a loopback skb, a wakeup and a softirq on the other
// side. TLSConn puts a buffer under the tls.Conn: the records of one
// Write leave in one send when the Write returns. (Reads are not
// buffered: reading ahead into a buffer of 256 KiB cost more in copies
// than it saved in receives, BenchmarkTLSShard.)
//
// What bytes may sit in the buffer, and for how long, is the whole
// contract:
//   - TLSConn.Write, ReadFrom, Handshake, HandshakeContext and CloseWrite
//     send what is buffered before they return.
//   - Anything crypto/tls writes on its own (handshake flights, session
//     tickets, a KeyUpdate answer, alerts) goes out before the connection
//     next waits for bytes from the peer, and at Close: those writes are
//     made by the goroutine that then reads, or closes.
//   - Setting a write deadline sends what is pending first, under the
//     deadline it was written under (crypto/tls sends close_notify, then
//     sets the deadline to now).
//   - Close sends close_notify (when no Write is in progress) and closes
//     the socket without waiting for a send that is stuck.
//
// Deadlines set on the TLSConn apply to every send, buffered or not.

// Buffer sizes of bufConn.
const (
	// coalesceSize is how many bytes of records one send carries: 16 full
	// records (256 KiB of plaintext, a default shard) and their overhead.
	coalesceSize = 256<<10 + 16<<10
	// plainChunk is how much of a request body ReadFrom encrypts at once
	// (what net/http would otherwise copy through 32 KiB).
	plainChunk = 256 << 10
)

// Buffers are pooled and held only while in use: a send's buffer from
// the first buffered record to the send. An idle connection holds none.
var (
	coalescePool = sync.Pool{New: func() any { b := make([]byte, 0, coalesceSize); return &b }}
	plainPool    = sync.Pool{New: func() any { b := make([]byte, plainChunk); return &b }}
)

// bufConn is the TCP connection beneath a tls.Conn: it holds records until
// flush.
type bufConn struct {
	net.Conn

	// mu orders sends: appends to wbuf, and the system calls that send it.
	mu   sync.Mutex
	wbuf *[]byte // pending records; nil when none
	werr error   // sticky: the first failed send
}

// Write buffers p, sending what is pending first when p would not fit.
func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if c.wbuf != nil && len(*c.wbuf)+len(p) > cap(*c.wbuf) {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) > coalesceSize {
		return c.send(p)
	}
	if c.wbuf == nil {
		c.wbuf = coalescePool.Get().(*[]byte)
	}
	*c.wbuf = append(*c.wbuf, p...)
	return len(p), nil
}

// flush sends what is pending.
func (c *bufConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *bufConn) flushLocked() error {
	if c.werr != nil {
		return c.werr
	}
	if c.wbuf == nil {
		return nil
	}
	_, err := c.send(*c.wbuf)
	*c.wbuf = (*c.wbuf)[:0]
	coalescePool.Put(c.wbuf)
	c.wbuf = nil
	return err
}

// send writes p to the socket; a failure sticks.
func (c *bufConn) send(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.werr = err
	}
	return n, err
}

// Read sends what crypto/tls wrote on its own (it may be about to wait
// for the answer), then reads from the socket.
func (c *bufConn) Read(p []byte) (int, error) {
	// A writer holding mu sends what it buffered itself; crypto/tls's own
	// writes come from this goroutine, so they are never left behind.
	if c.mu.TryLock() {
		err := c.flushLocked()
		c.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

// SetWriteDeadline sends what is pending under the deadline in force when
// it was written, then sets t. crypto/tls relies on that: it sends
// close_notify under a 5 s deadline, then sets the deadline to now so
// that later writes fail. A send in progress is not waited for.
func (c *bufConn) SetWriteDeadline(t time.Time) error {
	if c.mu.TryLock() {
		defer c.mu.Unlock()
		_ = c.flushLocked() // a failure sticks, for the next write
	}
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline is SetWriteDeadline and SetReadDeadline.
func (c *bufConn) SetDeadline(t time.Time) error {
	if c.mu.TryLock() {
		defer c.mu.Unlock()
		_ = c.flushLocked()
	}
	return c.Conn.SetDeadline(t)
}

// Close sends what is pending (unless a send is in progress, which Close
// cuts off instead) and closes the socket.
func (c *bufConn) Close() error {
	if c.mu.TryLock() {
		_ = c.flushLocked() // best effort: the socket closes either way
		c.mu.Unlock()
	}
	return c.Conn.Close()
}

// TLSConn is a TLS connection over a bufConn; see the top of this file.
// Its ConnectionState, deadlines and the rest are the tls.Conn's.
type TLSConn struct {
	*tls.Conn
	raw     *bufConn
	writing atomic.Int32 // Writes (and flushes) in progress

	server    bool
	handshake sync.Once    // server: ConnectionState's handshake
	log       *slog.Logger // server: where a failed handshake is told
}

// ServerHandshakeTimeout bounds a server TLSConn's handshake when
// ConnectionState runs it.
const ServerHandshakeTimeout = 10 * time.Second

var _ io.ReaderFrom = (*TLSConn)(nil)

func newTLSConn(raw net.Conn, cfg *tls.Config, server bool) *TLSConn {
	bc := &bufConn{Conn: raw}
	c := &TLSConn{raw: bc, server: server}
	if server {
		c.Conn = tls.Server(bc, cfg)
	} else {
		c.Conn = tls.Client(bc, cfg)
	}
	return c
}

// Write encrypts p and sends it before returning.
func (c *TLSConn) Write(p []byte) (int, error) {
	c.writing.Add(1)
	defer c.writing.Add(-1)
	n, err := c.Conn.Write(p)
	if ferr := c.raw.flush(); err == nil && ferr != nil {
		return 0, ferr
	}
	return n, err
}

// ReadFrom sends what r yields in pieces of up to 256 KiB, each in one
// Write: net/http hands a request body to ReadFrom, and would otherwise
// copy it through 32 KiB. It never holds bytes while r blocks. A body of
// known length comes as an io.LimitedReader; when the body under it can
// write itself (a bytes.Reader, the client's shard bodies), its bytes are
// encrypted where they lie rather than copied into a buffer first (a
// copy that was 1.6% of a cluster PUT's CPU).
func (c *TLSConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if wt, ok := lr.R.(io.WriterTo); ok {
			lw := &limitedWriter{w: c, n: lr.N}
			n, err := wt.WriteTo(lw)
			lr.N = lw.n
			return n, err
		}
	}
	bp := plainPool.Get().(*[]byte)
	defer plainPool.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			m, err := c.Write(buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// limitedWriter passes at most n bytes on to w, and fails a write past
// them: what ReadFrom's io.LimitedReader would have let through.
type limitedWriter struct {
	w io.Writer
	n int64
}

// errPastLimit is a body that has more bytes than its declared length.
var errPastLimit = errors.New("nodeapi: body longer than its declared length")

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= l.n {
		n, err := l.w.Write(p)
		l.n -= int64(n)
		return n, err
	}
	n, err := l.w.Write(p[:l.n])
	l.n -= int64(n)
	if err == nil {
		err = errPastLimit
	}
	return n, err
}

// ConnectionState returns the connection's TLS state. On a server
// connection it first completes the handshake, within
// ServerHandshakeTimeout (deadlines are cleared after it): http.Server
// takes Request.TLS from a connection that is not a *tls.Conn by calling
// ConnectionState once, before it reads the first request, and would
// otherwise keep the state of a handshake not yet begun. After a failed
// handshake the state says HandshakeComplete false and holds no peer (and
// the connection fails its first read); a client that sent plain HTTP
// gets net/http's canned 400.
func (c *TLSConn) ConnectionState() tls.ConnectionState {
	if c.server {
		c.handshake.Do(c.serverHandshake)
	}
	return c.Conn.ConnectionState()
}

// serverHandshake runs a server connection's handshake within
// ServerHandshakeTimeout and, as http.Server does for a *tls.Conn, answers
// a plain HTTP request with a 400 and logs a failure.
func (c *TLSConn) serverHandshake() {
	_ = c.Conn.SetDeadline(time.Now().Add(ServerHandshakeTimeout))
	err := c.HandshakeContext(context.Background())
	if err == nil {
		_ = c.Conn.SetDeadline(time.Time{})
		return
	}
	reason := err.Error()
	if re, ok := errors.AsType[tls.RecordHeaderError](err); ok && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
		_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		_ = re.Conn.Close()
		reason = "client sent an HTTP request to an HTTPS server"
	}
	if c.log != nil {
		c.log.Warn("nodeapi: TLS handshake error", "remote", c.RemoteAddr().String(), "err", reason)
	}
}

// looksLikeHTTP reports whether a TLS record header is the start of an
// HTTP request (net/http's test).
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// Handshake is HandshakeContext without a context.
func (c *TLSConn) Handshake() error { return c.HandshakeContext(context.Background()) }

// HandshakeContext runs the handshake and sends its last flight, or the
// alert that ended it.
func (c *TLSConn) HandshakeContext(ctx context.Context) error {
	err := c.Conn.HandshakeContext(ctx)
	if ferr := c.raw.flush(); err == nil {
		err = ferr
	}
	return err
}

// CloseWrite sends close_notify.
func (c *TLSConn) CloseWrite() error {
	if err := c.Conn.CloseWrite(); err != nil {
		return err
	}
	return c.raw.flush()
}

// Close sends close_notify and closes the connection. If a Write is in
// progress, it only closes the socket, which ends the Write (as
// tls.Conn.Close does for its own Writes).
func (c *TLSConn) Close() error {
	if c.writing.Load() > 0 {
		err := c.raw.Conn.Close()
		_ = c.Conn.Close() // releases the tls.Conn; its alert cannot go out
		return err
	}
	return c.Conn.Close()
}

// NewTLSListener returns a listener whose connections are *TLSConn
// servers over ln's, configured by cfg. The handshake runs in the
// connection's own goroutine, not in Accept: http.Server asks for the
// ConnectionState, which completes it (within ServerHandshakeTimeout), and
// sets every Request.TLS from it, as for a *tls.Conn.
// A failed handshake is logged to log (Warn) unless log is nil.
func NewTLSListener(ln net.Listener, cfg *tls.Config, log *slog.Logger) net.Listener {
	return &tlsListener{Listener: ln, cfg: nodeTLS(cfg), log: log}
}

type tlsListener struct {
	net.Listener
	cfg *tls.Config
	log *slog.Logger
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := newTLSConn(c, l.cfg, true)
	tc.log = l.log
	return tc, nil
}

// nodeTLS is cfg with full-size records from the first byte: dynamic
// record sizing starts a connection with small records for browsers'
// first paint, which node-to-node transfers do not need.
func nodeTLS(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	cfg.DynamicRecordSizingDisabled = true
	return cfg
}

// NewTLSTransport is NewTransport over *TLSConn connections configured by
// cfg (https URLs only). The handshake is bounded by 5 s and the
// request's context. Responses' TLS field is nil.
func NewTLSTransport(cfg *tls.Config) *http.Transport {
	tr := NewTransport()
	cfg = nodeTLS(cfg)
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	handshakeTimeout := tr.TLSHandshakeTimeout
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conf := cfg
		if conf.ServerName == "" && !conf.InsecureSkipVerify {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				raw.Close()
				return nil, fmt.Errorf("nodeapi: dial %s: %w", addr, err)
			}
			conf = conf.Clone()
			conf.ServerName = host
		}
		c := newTLSConn(raw, conf, false)
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
		if err := c.HandshakeContext(hctx); err != nil {
			c.Close()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return nil, fmt.Errorf("nodeapi: TLS handshake with %s: timed out after %v: %w", addr, handshakeTimeout, err)
			}
			return nil, err
		}
		return c, nil
	}
	return tr
}
