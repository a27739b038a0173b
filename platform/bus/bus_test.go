package bus

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/testkit"
)

func TestBus(t *testing.T) {
	opt, err := redis.ParseURL(testkit.RequireRedis(t))
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })

	for name, b := range map[string]Bus{"memory": NewMemory(), "redis": NewRedis(rdb)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, c := "bustest:a:"+testkit.RandomHex(4), "bustest:c:"+testkit.RandomHex(4)
			sub, err := b.Subscribe(ctx, a)
			require.NoError(t, err)
			defer sub.Close()

			require.NoError(t, b.Publish(ctx, a, []byte("one")))
			require.Equal(t, Event{Topic: a, Payload: []byte("one")}, recv(t, sub))

			require.NoError(t, sub.Add(ctx, c))
			require.NoError(t, b.Publish(ctx, c, []byte("two")))
			require.Equal(t, "two", string(recv(t, sub).Payload))

			require.NoError(t, sub.Remove(ctx, a))
			require.NoError(t, b.Publish(ctx, a, []byte("gone")))
			require.NoError(t, b.Publish(ctx, c, []byte("three")))
			require.Equal(t, "three", string(recv(t, sub).Payload), "removed topic must not deliver")
		})
	}
}

func recv(t *testing.T, s Subscription) Event {
	t.Helper()
	select {
	case e := <-s.Messages():
		return e
	case <-time.After(3 * time.Second):
		t.Fatal("no event within 3s")
		return Event{}
	}
}
