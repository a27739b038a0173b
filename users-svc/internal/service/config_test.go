package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/users-svc/internal/adapters"
	"github.com/convene/convene/users-svc/internal/service"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef"
	cfg, err := service.LoadConfig(config.FromMap(map[string]string{"INTERNAL_AUTH_SECRET": secret}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8101", cfg.HTTPAddr)
	require.Equal(t, "127.0.0.1:9101", cfg.GRPCAddr)
	require.Equal(t, "var/users-svc.db", cfg.SQLitePath)
	require.Equal(t, 15*time.Minute, cfg.AccessTTL)
	require.Equal(t, "convene", cfg.Issuer)
	require.Equal(t, "convene-api", cfg.Audience)
	require.Equal(t, 24*time.Hour, cfg.KeyRotation)
	require.Equal(t, adapters.DefaultArgon2Params, cfg.Argon2)

	bad := []map[string]string{
		{},
		{"ACCESS_TOKEN_TTL": "5s"},
		{"ACCESS_TOKEN_TTL": "soon"},
		{"REFRESH_TOKEN_TTL": "1m"},
		{"SIGNING_KEY_ROTATION": "10ms"},
		{"SIGNING_KEY_RELOAD": "0s"},
		{"LOGIN_ATTEMPTS_PER_MINUTE": "-1"},
		{"ARGON2_MEMORY_KIB": "1024"},
		{"ARGON2_ITERATIONS": "0"},
		{"ARGON2_PARALLELISM": "300"},
	}
	for _, env := range bad {
		if len(env) > 0 {
			env["INTERNAL_AUTH_SECRET"] = secret
		}
		_, err := service.LoadConfig(config.FromMap(env))
		require.Error(t, err, env)
	}
}
