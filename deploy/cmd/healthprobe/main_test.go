package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(http.StatusOK)
		case "/draining":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	live := "0.0.0.0:" + u.Port()

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{name: "ready from HTTP_ADDR", env: map[string]string{"HTTP_ADDR": live}, want: 0},
		{name: "flag overrides env", args: []string{"-addr", live}, env: map[string]string{"HTTP_ADDR": "0.0.0.0:1"}, want: 0},
		{name: "not ready", args: []string{"-path", "/draining"}, env: map[string]string{"HTTP_ADDR": live}, want: 1},
		{name: "unknown path", args: []string{"-path", "/nope"}, env: map[string]string{"HTTP_ADDR": live}, want: 1},
		{name: "nothing listening", env: map[string]string{"HTTP_ADDR": "127.0.0.1:1"}, want: 1},
		{name: "no address", want: 2},
		{name: "address without port", env: map[string]string{"HTTP_ADDR": "0.0.0.0"}, want: 2},
		{name: "ephemeral port", env: map[string]string{"HTTP_ADDR": "127.0.0.1:0"}, want: 2},
		{name: "relative path", args: []string{"-path", "readyz"}, env: map[string]string{"HTTP_ADDR": live}, want: 2},
		{name: "unknown flag", args: []string{"-bogus"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			got := run(tt.args, func(k string) string { return tt.env[k] }, &stderr)
			require.Equal(t, tt.want, got, "stderr: %s", stderr.String())
			if tt.want != 0 {
				require.NotEmpty(t, stderr.String(), "a failed probe must say why")
			}
		})
	}
}
