package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/convene/convene/tools/devstack/stack"
)

// startStack builds and starts users-svc, chats-svc and instances × messages-svc behind a
// gateway, on free ports with Postgres, Redis and a Consul agent of its own, and points p
// at it. Registration is not rate limited: the tool creates its users from one IP.
// Processes started here inherit this process's descriptor limit (scripts/bench-chat.sh
// raises it).
func startStack(ctx context.Context, p *Params, instances int, log io.Writer) (*stack.Stack, error) {
	root, err := stack.FindRoot()
	if err != nil {
		return nil, err
	}
	services := []string{"users-svc", "chats-svc", "messages-svc"}
	binDir := filepath.Join(root, ".cache", "bin", "chatload")
	if err := stack.Build(ctx, root, binDir, services, log); err != nil {
		return nil, err
	}
	messagesEnv := map[string]string{}
	if p.PprofMessages != "" {
		// Set for messages-svc only: the gateway reads PPROF_ADDR too.
		messagesEnv["PPROF_ADDR"] = p.PprofMessages
	}
	logFile, err := os.CreateTemp("", "chatload-stack-*.log")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "stack logs: %s\n", logFile.Name())
	st, err := stack.Start(ctx, stack.Options{
		Root:             root,
		BinDir:           binDir,
		Services:         services,
		Instances:        map[string]int{"messages-svc": instances},
		Mode:             stack.Full,
		DataDir:          os.TempDir(),
		PostgresAdminURL: envOr("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		RedisURL:         envOr("REDIS_URL", "redis://127.0.0.1:6379/0"),
		Logs:             logFile,
		ReadyTimeout:     90 * time.Second,
		Env:              map[string]string{"LOG_LEVEL": "warn"},
		ServiceEnv: map[string]map[string]string{
			"gateway": {"AUTH_RATE_LIMIT": "1000000", "AUTH_RATE_BURST": "100000"},
			// The cheapest password hash users-svc accepts: the run measures the chat, and at
			// the default cost registering and logging in 10,000 users takes a quarter of an
			// hour of both cores.
			"users-svc":    {"ARGON2_MEMORY_KIB": "8192", "ARGON2_ITERATIONS": "1"},
			"messages-svc": messagesEnv,
		},
	})
	if err != nil {
		return nil, err
	}
	p.Gateway = st.GatewayURL
	p.Metrics = []string{st.GatewayURL + "/metrics"}
	p.MetricsNames = []string{"gateway"}
	for i := range instances {
		p.Metrics = append(p.Metrics, "http://"+st.Proc("messages-svc", i).HTTPAddr+"/metrics")
		p.MetricsNames = append(p.MetricsNames, fmt.Sprintf("messages-svc %d", i))
	}
	// chats-svc holds no socket; it is measured for the CPU its part of the load costs.
	p.Metrics = append(p.Metrics, "http://"+st.Proc("chats-svc", 0).HTTPAddr+"/metrics")
	p.MetricsNames = append(p.MetricsNames, "chats-svc")
	return st, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
