package deploy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/convene/convene/deploy/internal/kube"
	"github.com/convene/convene/deploy/internal/policy"
)

// TestKubeOverlays renders every overlay with kustomize and checks it: one Deployment and
// Service per component, images of the Dockerfiles, ports and environment matching the
// services' code, probes, limits, non-root read-only pods, PDBs, HPAs, the SFU's media
// Service, external Postgres and Redis, and no committed Secret.
func TestKubeOverlays(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	comps := components(t)
	r := reads(t, root, comps)
	overlays := map[string]policy.KubeExpect{
		"dev":  {MinReplicas: 1},
		"prod": {MinReplicas: 2},
	}
	dirs, err := os.ReadDir(filepath.Join(root, "deploy", "k8s", "overlays"))
	require.NoError(t, err)
	for _, d := range dirs {
		require.Contains(t, overlays, d.Name(), "overlay %s has no expectations in this test", d.Name())
	}
	for name, want := range overlays {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs, err := kube.Render(filepath.Join(root, "deploy", "k8s", "overlays", name))
			require.NoError(t, err)
			requireNoViolations(t, policy.CheckKube(comps, r, objs, want))
		})
	}
}

// TestConsulValues: the Helm values the docs install Consul with run client agents, which
// the Deployments reach at $(HOST_IP):8500.
func TestConsulValues(t *testing.T) {
	t.Parallel()
	raw := readFile(t, filepath.Join(repoRoot(t), "deploy", "k8s", "consul-values.yaml"))
	var v struct {
		Global struct {
			Image string `yaml:"image"`
		} `yaml:"global"`
		Client struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"client"`
		Server struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"server"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &v))
	require.True(t, v.Client.Enabled, "services register with the agent of their node")
	require.GreaterOrEqual(t, v.Server.Replicas, 3, "a Consul quorum survives one server down")
	require.Contains(t, v.Global.Image, "hashicorp/consul:1.11")
}
