// Command whoami runs the whoami backend (internal/whoami) for the gateway benchmark.
// Env: HTTP_ADDR (default 127.0.0.1:8190), INTERNAL_AUTH_SECRET, LOG_FORMAT, LOG_LEVEL, and
// BENCH_SIGNING_SEED (base64 Ed25519 seed): when set, whoami also serves the JWKS of that
// key, so that the gateway can verify the load tool's tokens without users-svc.
package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/convene/convene/gateway/internal/whoami"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "whoami:", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	base := config.LoadBase(env, "whoami", "127.0.0.1:8190", "")
	seed := env.String("BENCH_SIGNING_SEED", "")
	if err := env.Err(); err != nil {
		return err
	}
	var jwks *authn.JWKS
	if seed != "" {
		key, err := whoami.SigningKey(seed)
		if err != nil {
			return err
		}
		jwks = &authn.JWKS{Keys: []authn.JWK{authn.NewEd25519JWK(whoami.KeyID, key.Public().(ed25519.PublicKey))}}
	}
	// whoami only stands in for a service in benchmarks: no Consul registration.
	base.ConsulAddr = ""
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	deps, err := server.NewDeps(ctx, base)
	if err != nil {
		return err
	}
	return server.Run(ctx, server.RunParams{Deps: deps, HTTP: whoami.NewHandler(deps.Log, deps.Signer, jwks), DrainDelay: 1})
}
