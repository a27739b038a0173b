package service

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/discovery"
	"github.com/convene/convene/platform/testkit"
)

func TestPlacement(t *testing.T) {
	opt, err := redis.ParseURL(testkit.RequireRedis(t))
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	resolver := &testResolver{instances: map[string][]discovery.Instance{}}
	resolver.add(Name, discovery.Instance{ID: "a", HTTPAddr: "127.0.0.1:1"})
	resolver.add(Name, discovery.Instance{ID: "b", HTTPAddr: "127.0.0.1:2"})
	a := NewPlacement(rdb, "a", resolver, slog.New(slog.DiscardHandler))
	b := NewPlacement(rdb, "b", resolver, slog.New(slog.DiscardHandler))
	conf := newID()
	t.Cleanup(func() { rdb.Del(ctx, placementKey+conf) })

	_, local, err := a.Owner(ctx, conf)
	require.NoError(t, err)
	require.True(t, local, "the first instance claims the room")
	owner, local, err := b.Owner(ctx, conf)
	require.NoError(t, err)
	require.False(t, local)
	require.Equal(t, "a", owner.ID, "the second forwards to the first")

	b.Release(ctx, conf) // not b's: nothing happens
	_, local, _ = b.Owner(ctx, conf)
	require.False(t, local)

	a.Release(ctx, conf)
	_, local, _ = b.Owner(ctx, conf)
	require.True(t, local, "a released room is claimed by the next instance")

	// A holder that is no longer a healthy instance loses the room.
	require.NoError(t, rdb.Set(ctx, placementKey+conf, "ghost", placementTTL).Err())
	_, local, err = a.Owner(ctx, conf)
	require.NoError(t, err)
	require.True(t, local)
	holder, _ := rdb.Get(ctx, placementKey+conf).Result()
	require.Equal(t, "a", holder)

	// Renewing keeps a claim alive; another instance's renewal does not touch it.
	require.NoError(t, rdb.PExpire(ctx, placementKey+conf, time.Second).Err())
	b.Renew(ctx, []string{conf})
	ttl, _ := rdb.PTTL(ctx, placementKey+conf).Result()
	require.LessOrEqual(t, ttl.Seconds(), 1.0)
	a.Renew(ctx, []string{conf})
	ttl, _ = rdb.PTTL(ctx, placementKey+conf).Result()
	require.Greater(t, ttl.Seconds(), 10.0)

	// Without Redis every room is local.
	_, local, err = NewPlacement(nil, "x", resolver, slog.New(slog.DiscardHandler)).Owner(ctx, conf)
	require.NoError(t, err)
	require.True(t, local)
}
