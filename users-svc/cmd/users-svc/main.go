// Command users-svc serves accounts, login and tokens: the users part of the public API
// over HTTP (behind the gateway), users.v1 over gRPC, and the JWKS the gateway verifies
// access tokens with. Configuration comes from the environment only (see
// internal/service/config.go); without DATABASE_URL, REDIS_URL and CONSUL_HTTP_ADDR it runs
// on SQLite under var/ with in-process stand-ins.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/users-svc/internal/service"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "users-svc:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := service.LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	deps, err := server.NewDeps(ctx, cfg.Base)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, cfg, deps)
	if err != nil {
		deps.Close()
		return err
	}
	return server.Run(ctx, server.RunParams{
		Deps:         deps,
		HTTP:         svc.HTTP,
		GRPC:         svc.GRPC,
		LiveSettings: svc.LiveSettings,
		OnShutdown:   svc.Close,
	})
}
