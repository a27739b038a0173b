package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/config"
)

func TestLoad(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{"defaults", map[string]string{"INTERNAL_AUTH_SECRET": secret}, "", func(t *testing.T, c Config) {
			require.Equal(t, "127.0.0.1:8080", c.HTTPAddr)
			require.Equal(t, "frontend/dist", c.FrontendDir)
			require.Empty(t, c.CORSOrigins)
			require.Equal(t, "convene", c.JWTIssuer)
			require.Equal(t, "convene-api", c.JWTAudience)
			require.EqualValues(t, 1<<20, c.MaxBody)
			require.Equal(t, 20, c.AuthRateLimit)
			require.Contains(t, c.Instance, "gateway-")
		}},
		{"overrides", map[string]string{
			"INTERNAL_AUTH_SECRET": secret, "HTTP_ADDR": ":9999", "CORS_ORIGINS": "https://a.example, https://b.example",
			"MAX_BODY_BYTES": "2048", "UPSTREAM_TIMEOUT": "3s", "INSTANCE_ID": "gw-1",
		}, "", func(t *testing.T, c Config) {
			require.Equal(t, ":9999", c.HTTPAddr)
			require.Equal(t, []string{"https://a.example", "https://b.example"}, c.CORSOrigins)
			require.EqualValues(t, 2048, c.MaxBody)
			require.Equal(t, 3*time.Second, c.UpstreamTimeout)
			require.Equal(t, "gw-1", c.Instance)
		}},
		{"no secret", map[string]string{}, "INTERNAL_AUTH_SECRET", nil},
		{"malformed duration", map[string]string{"INTERNAL_AUTH_SECRET": secret, "JWT_LEEWAY": "soon"}, "JWT_LEEWAY", nil},
		{"zero body limit", map[string]string{"INTERNAL_AUTH_SECRET": secret, "MAX_BODY_BYTES": "0"}, "MAX_BODY_BYTES", nil},
		{"negative rate", map[string]string{"INTERNAL_AUTH_SECRET": secret, "AUTH_RATE_LIMIT": "-1"}, "AUTH_RATE_LIMIT", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(config.FromMap(tc.env))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}
