package deploy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/deploy/internal/policy"
	"github.com/convene/convene/deploy/internal/sourcescan"
)

// repoRoot is the repository, one level above this module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.work"), "the deploy module must sit at the repository root")
	return root
}

func components(t *testing.T) []policy.Component {
	t.Helper()
	comps, err := policy.Components()
	require.NoError(t, err)
	require.Len(t, comps, 6, "the gateway and five services")
	return comps
}

func reads(t *testing.T, root string, comps []policy.Component) map[string]sourcescan.Vars {
	t.Helper()
	r, err := policy.Reads(root, comps)
	require.NoError(t, err)
	for _, c := range comps {
		require.Contains(t, r[c.Name], "INTERNAL_AUTH_SECRET", "%s: platform/config must be scanned", c.Name)
	}
	return r
}

// requireNoViolations fails with every violation, one per line.
func requireNoViolations(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
