package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"cairn/internal/admin"
	"cairn/internal/console"
	"cairn/internal/gateway"
)

// startConsole serves the web console on cfg.ConsoleAddr (or
// cfg.ConsoleListener) when one is set, and returns its URL ("" for
// none): HTTPS with the S3 certificate when S3 has one (--s3-cert), plain
// HTTP otherwise. The console calls the admin API in-process,
// samples reg for its charts (a goroutine of wg, until ctx ends), and
// reaches the store through gw once the gateway has one.
func startConsole(ctx context.Context, wg *sync.WaitGroup, cfg Config, adminSrv http.Handler, reg prometheus.Gatherer,
	gw *atomic.Pointer[gateway.Gateway], serve func(http.Handler, net.Listener, time.Duration), log *slog.Logger) (string, error) {
	ln := cfg.ConsoleListener
	if ln == nil && cfg.ConsoleAddr == "" {
		return "", nil
	}
	if adminSrv == nil {
		return "", errors.New("--console needs the admin API, which only a node with the cluster secret serves")
	}
	token, err := admin.Token(cfg.Secret)
	if err != nil {
		return "", err
	}
	srv, err := console.New(console.Config{
		Admin:      adminSrv,
		AdminToken: token,
		Gateway: func() console.Gateway {
			if g := gw.Load(); g != nil {
				return g
			}
			return nil
		},
		Metrics: reg,
		Logger:  log.With("component", "console"),
	})
	if err != nil {
		return "", err
	}
	var cert tls.Certificate
	if cfg.S3CertFile != "" {
		if cert, err = tls.LoadX509KeyPair(cfg.S3CertFile, cfg.S3KeyFile); err != nil {
			return "", fmt.Errorf("S3 certificate, for the console: %w", err)
		}
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.ConsoleAddr); err != nil {
			return "", fmt.Errorf("listen for the console on %s: %w", cfg.ConsoleAddr, err)
		}
	}
	url := "http://" + ln.Addr().String()
	if cfg.S3CertFile != "" {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		url = "https://" + ln.Addr().String()
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Run(ctx) }()
	serve(srv, ln, 10*time.Second)
	return url, nil
}
