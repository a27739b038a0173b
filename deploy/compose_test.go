package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/deploy/internal/compose"
	"github.com/convene/convene/deploy/internal/policy"
)

// loadCompose returns docker-compose.yml interpolated with .env.example, the same file with
// every variable left as ${NAME} (where values come from), the raw bytes and the example.
func loadCompose(t *testing.T, root string) (f, refs *compose.File, raw []byte, example map[string]string) {
	t.Helper()
	raw = readFile(t, filepath.Join(root, "docker-compose.yml"))
	example, err := compose.ReadEnvFile(filepath.Join(root, ".env.example"))
	require.NoError(t, err)
	f, err = compose.Parse(raw, example)
	require.NoError(t, err)
	self := map[string]string{}
	for _, v := range compose.Variables(raw) {
		self[v] = "${" + v + "}"
	}
	refs, err = compose.Parse(raw, self)
	require.NoError(t, err)
	return f, refs, raw, example
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	comps := components(t)
	f, refs, raw, example := loadCompose(t, root)

	requireNoViolations(t, policy.CheckCompose(comps, reads(t, root, comps), f, refs))
	requireNoViolations(t, policy.CheckDependencies(comps, f))
	requireNoViolations(t, policy.CheckEnvExample(compose.Variables(raw), example))
	requireNoViolations(t, policy.CheckPrometheus(comps, f, readFile(t, filepath.Join(root, "deploy", "compose", "prometheus.yml"))))

	// Every file the compose file mounts from the repository exists.
	for name, s := range f.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, "./") {
				_, err := os.Stat(filepath.Join(root, src))
				require.NoError(t, err, "service %s mounts %s", name, src)
			}
		}
	}
	// Secrets in the example are placeholders that say so.
	for _, k := range []string{"INTERNAL_AUTH_SECRET", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "TURN_CREDENTIAL"} {
		require.Contains(t, example[k], "change-me", ".env.example: %s must be an obvious placeholder", k)
	}
}

// TestComposeConfig validates docker-compose.yml with Docker Compose itself (Debian's
// docker-compose package: `config` needs no engine): the example .env must pass with every
// profile, and an empty one must fail on the required secrets.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CONVENE_REQUIRE_DOCKER_COMPOSE") == "1" {
			t.Fatal("docker-compose is not installed (apt-get install -y docker-compose)")
		}
		t.Skip("docker-compose is not installed (apt-get install -y docker-compose); set CONVENE_REQUIRE_DOCKER_COMPOSE=1 to make this a failure")
	}
	root := repoRoot(t)
	empty := filepath.Join(t.TempDir(), "empty.env")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tests := []struct {
		name    string
		envFile string
		wantErr string
	}{
		{name: "example env, every profile", envFile: filepath.Join(root, ".env.example")},
		{name: "no secrets", envFile: empty, wantErr: "Missing mandatory value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, "--project-directory", root, "-f", filepath.Join(root, "docker-compose.yml"),
				"--env-file", tt.envFile, "--profile", "observability", "--profile", "coturn", "config", "-q")
			// Only what Compose needs: the host's variables must not fill in for .env.
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if tt.wantErr == "" {
				require.NoError(t, err, stderr.String())
				return
			}
			require.Error(t, err)
			require.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}
