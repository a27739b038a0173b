package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/chats-svc/internal/service"
	"github.com/convene/convene/platform/config"
	"github.com/convene/convene/platform/server"
)

func TestSettings(t *testing.T) {
	env := config.FromMap(map[string]string{"CHATS_WRITES_PER_MINUTE": "many", "EVENT_RELAY_POLL_INTERVAL": "200ms"})
	s := service.LoadSettings(env)
	require.ErrorContains(t, env.Err(), "CHATS_WRITES_PER_MINUTE")
	require.Equal(t, 60, s.WritesPerMinute)
	require.Equal(t, 200*time.Millisecond, s.RelayPollInterval)

	for _, tc := range []struct {
		name string
		s    service.Settings
	}{
		{"no writes allowed", service.Settings{WritesPerMinute: 0}},
		{"negative writes", service.Settings{WritesPerMinute: -1}},
	} {
		_, err := service.New(context.Background(), &server.Deps{}, tc.s)
		require.Error(t, err, tc.name)
	}
}
