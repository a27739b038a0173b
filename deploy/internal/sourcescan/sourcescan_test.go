package sourcescan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return root
}

func TestEnvVars(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"go.mod": "module example.com/svc\n",
		"cmd/svc/main.go": `package main

import (
	goos "os"
	"strings"
)

const mediaKey = "MEDIA_UDP_ADDR"

func main() {
	var env interface{ String(string, string) string; Int(string, int) int }
	_ = env.String("HTTP_ADDR", "127.0.0.1:8101")
	_ = env.Int("WS_SEND_QUEUE", 64)
	_ = env.String(mediaKey, defaultMedia)
	_ = goos.Getenv("NAT_1TO1_IP")
	var b strings.Builder
	_ = b.String()
	_ = env.String("lower_case", "x")
}
`,
		"cmd/svc/consts.go":      "package main\n\nconst defaultMedia = \"0.0.0.0:7881\"\n",
		"cmd/svc/main_test.go":   "package main\n\nimport \"os\"\n\nvar _ = os.Getenv(\"ONLY_IN_TESTS\")\n",
		"testdata/x.go":          "package x\n\nimport \"os\"\n\nvar _ = os.Getenv(\"IN_TESTDATA\")\n",
		"nested/go.mod":          "module example.com/nested\n",
		"nested/n.go":            "package n\n\nimport \"os\"\n\nvar _ = os.Getenv(\"IN_NESTED_MODULE\")\n",
		"internal/cfg/cfg.go":    "package cfg\n\nimport \"os\"\n\nfunc f() { _, _ = os.LookupEnv(\"CONSUL_HTTP_ADDR\") }\n",
		"internal/cfg/README.md": "os.Getenv(\"NOT_GO\")\n",
	})
	vars, err := EnvVars(root)
	require.NoError(t, err)
	require.Equal(t, []string{"CONSUL_HTTP_ADDR", "HTTP_ADDR", "MEDIA_UDP_ADDR", "NAT_1TO1_IP", "WS_SEND_QUEUE"}, vars.Names())

	tests := []struct {
		name, def string
	}{
		{"HTTP_ADDR", "127.0.0.1:8101"},
		{"MEDIA_UDP_ADDR", "0.0.0.0:7881"},
		{"WS_SEND_QUEUE", ""},
		{"NAT_1TO1_IP", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.def, vars[tt.name].Default, tt.name)
		require.NotEmpty(t, vars[tt.name].Where, tt.name)
	}
}

func TestEnvVarsErrors(t *testing.T) {
	t.Parallel()
	broken := writeTree(t, map[string]string{"a.go": "package a\n\nfunc {"})
	file := writeTree(t, map[string]string{"f.go": "package f\n"})
	tests := []struct {
		name string
		dir  string
	}{
		{"missing directory", filepath.Join(t.TempDir(), "nope")},
		{"syntax error", broken},
		{"a file, not a directory", filepath.Join(file, "f.go")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EnvVars(tt.dir)
			require.Error(t, err)
		})
	}
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"metrics.go": `package m

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

const roomsName = "rooms_open"

var (
	_ = promauto.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "x"}, nil)
	_ = promauto.NewGauge(prometheus.GaugeOpts{Namespace: "sfu", Name: roomsName})
	_ = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "grpc", Subsystem: "server", Name: "handling_seconds"}, nil)
	_ = &prometheus.SummaryOpts{Name: "gc_pause_seconds"}
	_ = prometheus.CounterOpts{Help: "no name: not a declaration"}
	_ = prometheus.Labels{"name": "not options"}
)
`,
		"metrics_test.go": "package m\n\nimport \"github.com/prometheus/client_golang/prometheus\"\n\nvar _ = prometheus.GaugeOpts{Name: \"only_in_tests\"}\n",
	})
	m, err := MetricNames(root)
	require.NoError(t, err)
	require.Len(t, m, 4)
	require.Equal(t, "gauge", m["sfu_rooms_open"].Kind)
	require.Equal(t, "histogram", m["grpc_server_handling_seconds"].Kind)
	require.Equal(t, []string{
		"gc_pause_seconds", "gc_pause_seconds_count", "gc_pause_seconds_sum",
		"grpc_server_handling_seconds_bucket", "grpc_server_handling_seconds_count", "grpc_server_handling_seconds_sum",
		"http_requests_total", "sfu_rooms_open",
	}, m.Series())

	_, err = MetricNames(filepath.Join(root, "missing"))
	require.Error(t, err)
}
