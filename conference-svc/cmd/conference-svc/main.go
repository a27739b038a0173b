// Command conference-svc serves scheduled team conferences, their signaling socket and the
// SFU that carries their media.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/conference-svc/internal/service"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "conference-svc:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := service.LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	deps, err := server.NewDeps(ctx, cfg.Base)
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, cfg, deps)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
