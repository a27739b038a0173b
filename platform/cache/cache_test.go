package cache

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
)

// The same assertions run against both implementations.
func TestCache(t *testing.T) {
	opt, err := redis.ParseURL(testkit.RequireRedis(t))
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })

	for name, c := range map[string]Cache{"memory": NewMemory(), "redis": NewRedis(rdb)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			key := "cachetest:" + testkit.RandomHex(6)
			_, err := c.Get(ctx, key)
			require.ErrorIs(t, err, ErrMiss)

			require.NoError(t, c.Set(ctx, key, []byte("v1"), time.Minute))
			v, err := c.Get(ctx, key)
			require.NoError(t, err)
			require.Equal(t, "v1", string(v))

			require.NoError(t, c.Delete(ctx, key))
			_, err = c.Get(ctx, key)
			require.ErrorIs(t, err, ErrMiss)

			require.NoError(t, c.Set(ctx, key, []byte("short"), 50*time.Millisecond))
			require.Eventually(t, func() bool {
				_, err := c.Get(ctx, key)
				return err == ErrMiss
			}, 3*time.Second, 20*time.Millisecond)
		})
	}
}
