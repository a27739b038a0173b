package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
)

func TestLimiters(t *testing.T) {
	opt, err := redis.ParseURL(testkit.RequireRedis(t))
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })

	for name, l := range map[string]Limiter{"memory": NewMemory(), "redis": NewRedis(rdb)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			key := "test:" + testkit.RandomHex(6)
			lim := Limit{Rate: 3, Burst: 3, Period: time.Minute}
			for i := range 3 {
				r, err := l.Allow(ctx, key, lim)
				require.NoError(t, err)
				require.True(t, r.Allowed, "event %d", i)
			}
			r, err := l.Allow(ctx, key, lim)
			require.NoError(t, err)
			require.False(t, r.Allowed)
			require.Greater(t, r.RetryAfter, time.Duration(0))

			other, err := l.Allow(ctx, key+"-other", lim)
			require.NoError(t, err)
			require.True(t, other.Allowed, "keys are independent")
		})
	}
}
