package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/grpcx"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/testkit"
)

// A request in flight when the process is told to stop still completes; the instance is
// registered in Consul while it runs and gone from it before it stops accepting.
func TestRunRegistersAndDrains(t *testing.T) {
	consulAddr := testkit.RequireConsul(t)
	service := "runtest-" + testkit.RandomHex(4)
	cfg := config.LoadBase(config.FromMap(map[string]string{
		"HTTP_ADDR":            testkit.FreeAddr(t),
		"GRPC_ADDR":            testkit.FreeAddr(t),
		"CONSUL_HTTP_ADDR":     consulAddr,
		"INTERNAL_AUTH_SECRET": testkit.Secret,
		"SQLITE_PATH":          t.TempDir() + "/x.db",
	}), service, "", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deps, err := NewDeps(ctx, cfg)
	require.NoError(t, err)
	deps.Log = slog.New(slog.DiscardHandler)

	started := make(chan struct{})
	engine := httpx.NewEngine(deps.Log, deps.Health, 1<<10)
	engine.GET("/slow", func(c *gin.Context) {
		close(started)
		time.Sleep(700 * time.Millisecond)
		c.String(http.StatusOK, "done")
	})

	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(ctx, RunParams{
			Deps: deps, HTTP: engine, GRPC: grpcx.NewServer(deps.Log, deps.Signer),
			DrainDelay: 200 * time.Millisecond,
		})
	}()

	client, err := api.NewClient(&api.Config{Address: consulAddr})
	require.NoError(t, err)
	passing := func() int {
		entries, _, err := client.Health().Service(service, "", true, nil)
		require.NoError(t, err)
		return len(entries)
	}
	require.Eventually(t, func() bool { return passing() == 1 }, 10*time.Second, 50*time.Millisecond)

	result := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + cfg.HTTPAddr + "/slow")
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		result <- string(b)
	}()
	<-started
	cancel()
	require.Equal(t, "done", <-result, "the in-flight request completes")
	require.NoError(t, <-runErr)
	require.Equal(t, 0, passing(), "deregistered")
	_, err = http.Get("http://" + cfg.HTTPAddr + "/healthz")
	require.Error(t, err, "no longer accepting")
}
