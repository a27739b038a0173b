// Command messages-svc serves chat messages, read receipts and the realtime socket.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/messages-svc/internal/service"
	"github.com/convene/convene/platform/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "messages-svc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := service.LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	svc, err := service.New(ctx, cfg)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
