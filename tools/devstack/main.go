// Command devstack builds and starts the whole Convene stack for `make run` (embedded
// defaults) and `make run-full` (Postgres, Redis, Consul), with every process's log lines
// in one terminal, prefixed by process. Ctrl-C stops everything cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/convene/convene/tools/devstack/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run() error {
	full := flag.Bool("full", false, "use Postgres, Redis and Consul (DATABASE_ADMIN_URL, REDIS_URL, CONSUL_HTTP_ADDR)")
	build := flag.Bool("build", true, "build the binaries first")
	instances := flag.String("instances", "", "instances per service, e.g. messages-svc=2,conference-svc=2 (with -full)")
	flag.Parse()

	root, err := stack.FindRoot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	services := stack.Available(root)
	opts := stack.Options{
		Root:       root,
		Services:   services,
		FixedPorts: true,
		Logs:       os.Stdout,
		Instances:  map[string]int{},
		Secret:     os.Getenv("INTERNAL_AUTH_SECRET"),
	}
	for _, kv := range strings.Split(*instances, ",") {
		name, n, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		var count int
		if _, err := fmt.Sscan(n, &count); err != nil || count < 1 {
			return fmt.Errorf("-instances %q: want service=count", kv)
		}
		opts.Instances[name] = count
	}
	if *full {
		opts.Mode = stack.Full
		opts.PostgresAdminURL = envOr("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
		opts.DatabasePrefix = "convene"
		opts.RedisURL = envOr("REDIS_URL", "redis://127.0.0.1:6379/0")
		opts.ConsulAddr = envOr("CONSUL_HTTP_ADDR", "127.0.0.1:8500")
	} else if len(opts.Instances) > 0 {
		return fmt.Errorf("-instances needs -full: in-process cache and bus cannot span processes")
	}
	if *build {
		fmt.Printf("devstack: building gateway and %s...\n", strings.Join(services, ", "))
		if err := stack.Build(ctx, root, opts.Root+"/.cache/bin/stack", services, os.Stdout); err != nil {
			return err
		}
	}
	st, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("devstack: Convene is up at %s (Ctrl-C stops it)\n", st.GatewayURL)
	<-ctx.Done()
	fmt.Println("devstack: stopping...")
	st.Stop()
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
