package node

import (
	"context"
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
// cfg.ConsoleListener) when one is set, and returns the address it
// listens on ("" for none). The console calls the admin API in-process,
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
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.ConsoleAddr); err != nil {
			return "", fmt.Errorf("listen for the console on %s: %w", cfg.ConsoleAddr, err)
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Run(ctx) }()
	serve(srv, ln, 10*time.Second)
	return ln.Addr().String(), nil
}
