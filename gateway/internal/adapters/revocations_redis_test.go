package adapters

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
)

func TestRedisRevocations(t *testing.T) {
	o, err := redis.ParseURL(testkit.RequireRedis(t))
	require.NoError(t, err)
	rdb := redis.NewClient(o)
	defer rdb.Close()
	s := NewRedisRevocations(rdb)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type notice struct {
		jti string
		exp time.Time
	}
	got := make(chan notice, 4)
	subscribed := make(chan struct{})
	go func() {
		_ = s.Subscribe(ctx, func(jti string, exp time.Time) { got <- notice{jti, exp} }, func() { close(subscribed) })
	}()
	<-subscribed

	exp := time.Now().Add(time.Minute).Truncate(time.Second)
	live, dead := "live-"+testkit.RandomHex(6), "dead-"+testkit.RandomHex(6)
	require.NoError(t, s.Save(ctx, live, exp))
	require.NoError(t, s.Save(ctx, dead, time.Now().Add(time.Second)))
	for _, want := range []string{live, dead} {
		select {
		case n := <-got:
			require.Equal(t, want, n.jti)
		case <-time.After(2 * time.Second):
			t.Fatalf("no notice for %s", want)
		}
	}

	all, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, exp, all[live])
	require.Contains(t, all, dead)

	ttl, err := rdb.TTL(ctx, revokedKeyPrefix+live).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*time.Second, "the key lives as long as the token")
	require.Eventually(t, func() bool {
		all, err := s.Load(ctx)
		require.NoError(t, err)
		_, ok := all[dead]
		return !ok
	}, 5*time.Second, 100*time.Millisecond, "an expired revocation leaves Redis")
}
