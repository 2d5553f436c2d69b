package nodeapi

import (
	"net"
	"net/http"
	"time"
)

// Transport bounds of NewTransport.
const (
	maxConnsPerHost     = 64 // concurrent connections to one node, busy or idle
	maxIdleConnsPerHost = 32
	maxIdleConns        = 1024 // idle connections over all nodes
	dialTimeout         = 5 * time.Second
)

// NewTransport returns an http.Transport for node-to-node traffic, to be
// shared by the clients of all nodes: at most 64 connections per node (a
// request past that waits for one, within its deadline) and 32 idle ones
// kept per node; 5 s to dial and to finish a TLS handshake; 30 s from the
// end of a request to its response headers (a shard PUT answers after
// its fsync); TCP keep-alives; no proxy from the environment, and no
// transparent compression (shards are incompressible, and lengths stay
// what the node declared). It speaks HTTP/1.1.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxConnsPerHost:       maxConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		MaxIdleConns:          maxIdleConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}
