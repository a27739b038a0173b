package deploy_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/convene/convene/deploy/internal/policy"
	"github.com/convene/convene/deploy/internal/sourcescan"
)

// grpcMetricsModule exports the grpc_server_* metrics platform/grpcx registers.
const grpcMetricsModule = "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"

// TestDashboard: every metric the Grafana dashboard queries is declared in the code of a
// Convene process or of the gRPC metrics library platform/grpcx uses, and the panels the
// operations issue asks for exist.
func TestDashboard(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	dirs := []string{filepath.Join(root, "platform")}
	for _, c := range components(t) {
		dirs = append(dirs, filepath.Join(root, c.Name))
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", grpcMetricsModule)
	cmd.Dir = filepath.Join(root, "platform")
	out, err := cmd.Output()
	require.NoError(t, err, "locating %s", grpcMetricsModule)
	dirs = append(dirs, strings.TrimSpace(string(out)))

	metrics, err := sourcescan.MetricNames(dirs...)
	require.NoError(t, err)
	series := metrics.Series()
	for _, m := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "grpc_server_handled_total"} {
		require.Contains(t, series, m)
	}
	raw := readFile(t, filepath.Join(root, "deploy", "compose", "grafana", "dashboards", "convene.json"))
	requireNoViolations(t, policy.CheckDashboard(raw, series, []string{
		"Request rate", "Error rate (5xx share)", "Latency", "gRPC calls by code",
		"Open WebSockets", "Forwarded RTP packets",
	}))
}

// TestGrafanaProvisioning: the dashboard's data source is provisioned, and the dashboard
// provider reads the directory compose mounts the dashboards at.
func TestGrafanaProvisioning(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	grafana := filepath.Join(root, "deploy", "compose", "grafana")

	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(grafana, "provisioning", "datasources", "datasources.yml")), &ds))
	uids := map[string]string{}
	for _, d := range ds.Datasources {
		uids[d.UID] = d.URL
	}
	require.Equal(t, "http://prometheus:9090", uids["prometheus"])
	require.Equal(t, "http://jaeger:16686", uids["jaeger"])

	var dash struct {
		Panels []struct {
			Type       string `json:"type"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(grafana, "dashboards", "convene.json")), &dash))
	for _, p := range dash.Panels {
		if p.Type != "row" {
			require.Contains(t, uids, p.Datasource.UID)
		}
	}

	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(grafana, "provisioning", "dashboards", "dashboards.yml")), &prov))
	require.Len(t, prov.Providers, 1)
	f, _, _, _ := loadCompose(t, root)
	require.True(t, slices.Contains(f.Services["grafana"].Volumes, "./deploy/compose/grafana/dashboards:"+prov.Providers[0].Options.Path+":ro"),
		"compose must mount the dashboards where the provider reads them (%s)", prov.Providers[0].Options.Path)
}
