package compose

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInterpolate(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SET": "v", "EMPTY": ""}
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${SET}", want: "v"},
		{in: "$SET/x", want: "v/x"},
		{in: "a-${UNSET}-b", want: "a--b"},
		{in: "${UNSET:-def}", want: "def"},
		{in: "${EMPTY:-def}", want: "def"},
		{in: "${EMPTY-def}", want: ""},
		{in: "${UNSET-def}", want: "def"},
		{in: "${SET:?must}", want: "v"},
		{in: "${EMPTY:?must be set}", err: "EMPTY is missing a value: must be set"},
		{in: "${UNSET?gone}", err: "UNSET is missing: gone"},
		{in: "${EMPTY?fine}", want: ""},
		{in: "cost: $$5", want: "cost: $5"},
		{in: "redis://:${SET:?x}@redis:6379/0", want: "redis://:v@redis:6379/0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Interpolate(tt.in, env)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

const sample = `
x-env: &env
  SHARED: ${SECRET:?set it}
x-app: &app
  read_only: true
  depends_on: &deps
    db:
      condition: service_healthy
services:
  db:
    image: postgres:15
    environment:
      - POSTGRES_PASSWORD=${SECRET}
      - EMPTY_IN_LIST=
  api:
    <<: *app
    image: convene/api:${TAG:-latest}
    environment:
      <<: *env
      OWN: "1"
      NULL_VALUE:
    depends_on: *deps
  worker:
    image: convene/api:${TAG:-latest}
    depends_on: [db, api]
`

func TestParse(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte(sample), map[string]string{"SECRET": "s3"})
	require.NoError(t, err)
	require.Len(t, f.Services, 3)

	api := f.Services["api"]
	require.True(t, api.ReadOnly, "merge keys apply")
	require.Equal(t, "convene/api:latest", api.Image)
	require.Equal(t, Environment{"SHARED": "s3", "OWN": "1", "NULL_VALUE": ""}, api.Environment)
	require.Equal(t, DependsOn{"db": "service_healthy"}, api.DependsOn)

	require.Equal(t, Environment{"POSTGRES_PASSWORD": "s3", "EMPTY_IN_LIST": ""}, f.Services["db"].Environment)
	require.Equal(t, DependsOn{"db": "service_started", "api": "service_started"}, f.Services["worker"].DependsOn)
	require.Equal(t, []string{"SECRET", "TAG"}, Variables([]byte(sample)))
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, err string
	}{
		{"required variable", sample, "SECRET is missing a value"},
		{"no services", "volumes: {}\n", "no services"},
		{"bad yaml", "services: [\n", "yaml"},
		{"environment scalar", "services:\n  a:\n    environment: FOO\n", "environment must be a map or a list"},
		{"depends_on scalar", "services:\n  a:\n    depends_on: db\n", "depends_on must be a map or a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.src), map[string]string{})
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestReadEnvFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.env")
	require.NoError(t, os.WriteFile(good, []byte("# comment\n\nA=1\nB= spaced value \nC=\nD=x=y\n"), 0o600))
	env, err := ReadEnvFile(good)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"A": "1", "B": " spaced value", "C": "", "D": "x=y"}, env)

	bad := filepath.Join(dir, "bad.env")
	require.NoError(t, os.WriteFile(bad, []byte("A=1\nnot an assignment\n"), 0o600))
	_, err = ReadEnvFile(bad)
	require.ErrorContains(t, err, "bad.env:2")

	_, err = ReadEnvFile(filepath.Join(dir, "missing.env"))
	require.Error(t, err)
}
