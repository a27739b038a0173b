// Command chats-svc serves chats and their members: the public HTTP API behind the gateway
// and chats.v1 over gRPC for messages-svc.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/chats-svc/internal/service"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chats-svc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env := config.FromOS()
	base := config.LoadBase(env, service.Name,
		discovery.DefaultHTTPAddr(service.Name), discovery.DefaultGRPCAddr(service.Name))
	settings := service.LoadSettings(env)
	if err := env.Err(); err != nil {
		return err
	}
	deps, err := server.NewDeps(ctx, base)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, deps, settings)
	if err != nil {
		deps.Close()
		return err
	}
	defer svc.Close()
	return server.Run(ctx, svc.RunParams())
}
