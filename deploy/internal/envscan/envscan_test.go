package envscan

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

func TestDirs(t *testing.T) {
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
	vars, err := Dirs(root)
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

func TestDirsErrors(t *testing.T) {
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
			_, err := Dirs(tt.dir)
			require.Error(t, err)
		})
	}
}
