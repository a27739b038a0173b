// Command gateway is Convene's public entry: it verifies access tokens and proxies
// /api/v1 to the services, and serves the web client.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/gateway/internal/config"
	"github.com/convene/convene/gateway/internal/logbatch"
	"github.com/convene/convene/gateway/internal/service"
	platformconfig "github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/logging"
	"github.com/convene/convene/platform/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load(platformconfig.FromOS())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	deps, err := server.NewDeps(ctx, cfg.Base)
	if err != nil {
		return err
	}
	// One access line per request, written in batches rather than a write call each;
	// Close (when run returns) writes what is left and every later line directly.
	logs := logbatch.New(logbatch.Params{Out: os.Stdout})
	defer logs.Close()
	deps.Log, deps.LogLevel = logging.New(logs, cfg.Service, cfg.Instance, cfg.LogFormat, cfg.LogLevel)
	gw, err := service.New(ctx, cfg, deps)
	if err != nil {
		return err
	}
	return server.Run(ctx, server.RunParams{
		Deps:         deps,
		HTTP:         gw.HTTP,
		LiveSettings: gw.LiveSettings,
		OnShutdown:   func(context.Context) { gw.Close() },
	})
}
