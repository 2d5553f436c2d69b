package meta

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// tlsStream is raft's stream layer over TLS: the listener completes a
// TLS handshake (server's config) on every connection it accepts, and Dial
// connects with the client's config. Who may speak Raft is what the two
// configs let through.
type tlsStream struct {
	ln        net.Listener
	advertise net.Addr
	client    *tls.Config
}

func (t *tlsStream) Accept() (net.Conn, error) { return t.ln.Accept() }
func (t *tlsStream) Close() error              { return t.ln.Close() }
func (t *tlsStream) Addr() net.Addr            { return t.advertise }

// Dial connects and completes the handshake within timeout, so that a
// peer that accepts TCP but never finishes TLS does not hold raft up.
func (t *tlsStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", string(address), t.client)
	if err != nil {
		return nil, fmt.Errorf("raft over TLS to %s: %w", address, err)
	}
	return conn, nil
}

// newTLSTransport is raft.NewTCPTransportWithLogger over TLS.
func newTLSTransport(bind string, advertise net.Addr, server, client *tls.Config, logger hclog.Logger) (*raft.NetworkTransport, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	if a, ok := advertise.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, errors.New("local bind address is not advertisable")
	}
	stream := &tlsStream{ln: tls.NewListener(ln, server), advertise: advertise, client: client}
	return raft.NewNetworkTransportWithLogger(stream, 3, 10*time.Second, logger), nil
}
