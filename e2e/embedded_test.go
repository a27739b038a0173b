package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// TestEmbeddedDefaults starts the stack the way `make run` does — no DATABASE_URL, REDIS_URL
// or CONSUL_HTTP_ADDR: SQLite files, in-process cache and bus, static addresses — and goes
// through register, login and /users/me at the gateway.
func TestEmbeddedDefaults(t *testing.T) {
	dataDir := t.TempDir()
	logPath := filepath.Join(dataDir, "stack.log")
	logs, err := os.Create(logPath)
	require.NoError(t, err)
	st, err := stack.Start(context.Background(), stack.Options{
		BinDir:       binDir,
		Mode:         stack.Embedded,
		DataDir:      dataDir,
		Logs:         logs,
		ReadyTimeout: 90 * time.Second,
	})
	t.Cleanup(func() {
		if st != nil {
			st.Stop()
		}
		logs.Close()
		if t.Failed() {
			dumpTail(t, logPath, 100)
		}
	})
	require.NoError(t, err)

	c := newClient(st)
	u := newUser(t, c)
	var me struct {
		User struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"user"`
	}
	c.do(t, http.MethodGet, "/api/v1/users/me", u.Access, nil).expect(t, http.StatusOK).json(t, &me)
	require.Equal(t, u.ID, me.User.ID)
	require.Equal(t, u.Username, me.User.Username)

	for _, svc := range stack.Available(mustRoot(t)) {
		_, err := os.Stat(filepath.Join(dataDir, svc+".db"))
		require.NoError(t, err, "%s keeps its data in a SQLite file of its own", svc)
	}
}

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := stack.FindRoot()
	require.NoError(t, err)
	return root
}
