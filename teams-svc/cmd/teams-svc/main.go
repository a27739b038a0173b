// Command teams-svc serves teams, join requests, members, posts and comments. With no
// DATABASE_URL, REDIS_URL or CONSUL_HTTP_ADDR it runs on SQLite under var/ with an
// in-process cache and static addresses.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/server"
	"github.com/convene/convene/teams-svc/internal/service"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "teams-svc:", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	base := config.LoadBase(env, service.Name, discovery.DefaultHTTPAddr(service.Name), discovery.DefaultGRPCAddr(service.Name))
	cfg := service.LoadConfig(env, base)
	if err := env.Err(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	svc, err := service.New(ctx, service.Params{Config: cfg})
	if err != nil {
		return err
	}
	return server.Run(ctx, svc.RunParams())
}
