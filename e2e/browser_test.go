package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/tools/devstack/stack"
)

// TestBrowser runs the web client's end-to-end script (frontend/e2e/run.mjs: two users in
// two Chromium contexts through teams, chat and a conference) against a full stack. The
// built client (frontend/dist) is served by the gateway, as in production.
func TestBrowser(t *testing.T) {
	root, err := stack.FindRoot()
	require.NoError(t, err)
	script := filepath.Join(root, "frontend", "e2e", "run.mjs")
	_, err = os.Stat(filepath.Join(root, "frontend", "dist", "index.html"))
	require.NoError(t, err, "frontend/dist is built by `make test` before the e2e suite (scripts/frontend.sh build)")
	_, err = os.Stat("/usr/bin/chromium")
	require.NoError(t, err, "Chromium is installed by scripts/browser.sh")

	st := startStack(t, stack.Options{Root: root})
	shots := filepath.Join(root, "frontend", "e2e", "screenshots")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = filepath.Join(root, "frontend")
	cmd.Env = append(os.Environ(), "BASE_URL="+st.GatewayURL, "SCREENSHOT_DIR="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("browser run:\n%s", out)
	require.NoError(t, err, "the browser run failed")
}
