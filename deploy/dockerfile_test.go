package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/deploy/internal/dockerfile"
	"github.com/convene/convene/deploy/internal/policy"
)

func TestDockerfiles(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	comps := components(t)
	want := map[string]bool{}
	for _, c := range comps {
		want[filepath.Base(c.Dockerfile())] = true
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			f, err := dockerfile.Load(filepath.Join(root, c.Dockerfile()))
			require.NoError(t, err)
			requireNoViolations(t, policy.CheckImage(c, f))
		})
	}
	files, err := filepath.Glob(filepath.Join(root, "deploy", "docker", "*"))
	require.NoError(t, err)
	for _, f := range files {
		require.True(t, want[filepath.Base(f)], "%s builds no Convene component", f)
	}
}

// TestDockerignore: the build context keeps everything the Dockerfiles copy and leaves out
// version control, local state, secrets and the host's node_modules.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	require.NoError(t, err)
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	excluded := func(p string) bool {
		m, err := pm.MatchesOrParentMatches(p)
		require.NoError(t, err)
		return m
	}

	for _, c := range components(t) {
		df, err := dockerfile.Load(filepath.Join(root, c.Dockerfile()))
		require.NoError(t, err)
		for _, st := range df.Stages {
			for _, in := range st.All("COPY") {
				if _, ok := in.Flag("from"); ok {
					continue
				}
				for _, src := range in.Args[:len(in.Args)-1] {
					src = strings.TrimSuffix(src, "/")
					require.False(t, excluded(src), "%s copies %s, which .dockerignore excludes", c.Dockerfile(), src)
					_, err := os.Stat(filepath.Join(root, src))
					require.NoError(t, err, "%s copies %s, which does not exist", c.Dockerfile(), src)
				}
			}
		}
	}
	for _, p := range []string{".git", ".env", "frontend/node_modules", "frontend/dist", "var/users-svc.db", "users-svc/var/x.db", ".cache/bin/consul", "platform/db/db_test.go"} {
		require.True(t, excluded(p), ".dockerignore must exclude %s", p)
	}
	require.False(t, excluded(".env.example"))
}

// TestImageBuilds replays every go build of every Dockerfile on the host, with the
// Dockerfile's own environment and flags (CGO_ENABLED=0, GOWORK=off, -mod=mod, GOPROXY=off,
// -trimpath, -ldflags "-s -w") from the module directory it runs in: a module that does not
// build on its own (missing replace line, incomplete go.sum, a dependency not in the module
// cache) fails here as it would in docker build.
func TestImageBuilds(t *testing.T) {
	root := repoRoot(t)
	out := t.TempDir()
	seen := map[string]bool{}
	for _, c := range components(t) {
		f, err := dockerfile.Load(filepath.Join(root, c.Dockerfile()))
		require.NoError(t, err)
		builds, err := policy.GoBuilds(f)
		require.NoError(t, err)
		require.NotEmpty(t, builds)
		for _, b := range builds {
			key := b.Module + " " + b.Package
			if seen[key] {
				continue // the health probe is the same build in every image
			}
			seen[key] = true
			t.Run(key, func(t *testing.T) {
				bin := filepath.Join(out, filepath.Base(b.Output))
				args := slices.Clone(b.Args)
				i := slices.Index(args, "-o")
				require.GreaterOrEqual(t, i, 0)
				args[i+1] = bin
				env := hostEnv(b.Env)
				if b.Package == "./cmd/healthprobe" {
					// The images build the probe with no download step: prove it needs
					// nothing from the module cache.
					env = append(env, "GOMODCACHE="+t.TempDir())
				}
				cmd := exec.Command("go", append([]string{"build"}, args...)...)
				cmd.Dir = filepath.Join(root, b.Module)
				cmd.Env = env
				outb, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s:%d: go build %s\n%s", f.Path, b.Line, strings.Join(args, " "), outb)
				requireStatic(t, bin)
			})
		}
	}
}

// hostEnv is the host's environment with the Dockerfile's build variables on top; the
// host's own Go settings that the image does not have are dropped.
func hostEnv(build map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, override := build[k]; override || k == "GOFLAGS" || k == "GOWORK" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range build {
		env = append(env, k+"="+v)
	}
	return env
}

// requireStatic checks that the binary runs in a distroless static image: no dynamic
// loader requested.
func requireStatic(t *testing.T, bin string) {
	t.Helper()
	b, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.True(t, len(b) > 4 && string(b[:4]) == "\x7fELF", "%s is not an ELF binary", bin)
	require.NotContains(t, string(b), "/lib64/ld-linux", "%s is dynamically linked", bin)
}
