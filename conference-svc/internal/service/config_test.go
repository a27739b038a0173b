package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/config"
)

func TestLoadConfigTURNAndReconnect(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		publicIP string
		grace    time.Duration
		err      string
	}{
		{"defaults", nil, "127.0.0.1", 15 * time.Second, ""},
		{"public IP from the UDP listener", map[string]string{"TURN_UDP_ADDR": "10.0.0.5:3478"}, "10.0.0.5", 15 * time.Second, ""},
		{"explicit public IP", map[string]string{"TURN_UDP_ADDR": "0.0.0.0:3478", "TURN_PUBLIC_IP": "203.0.113.7"}, "203.0.113.7", 15 * time.Second, ""},
		{"every address needs a public IP", map[string]string{"TURN_ENABLED": "true", "TURN_UDP_ADDR": "0.0.0.0:3478"}, "", 0, "TURN_PUBLIC_IP"},
		{"grace off", map[string]string{"RECONNECT_GRACE": "0s"}, "127.0.0.1", 0, ""},
		{"malformed grace", map[string]string{"RECONNECT_GRACE": "soon"}, "", 0, "RECONNECT_GRACE"},
		{"malformed switch", map[string]string{"TURN_ENABLED": "maybe"}, "", 0, "TURN_ENABLED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"INTERNAL_AUTH_SECRET": "0123456789abcdef0123"}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := LoadConfig(config.FromMap(env))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.publicIP, c.TURN.PublicIP)
			require.Equal(t, tc.grace, c.ReconnectGrace)
			require.Equal(t, 12*time.Hour, c.TURN.CredentialTTL)
		})
	}
}
