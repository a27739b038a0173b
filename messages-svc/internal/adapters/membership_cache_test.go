package adapters

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// fakeMembership serves member lists from a map and counts the calls that reach it. A
// call can be held at the gate, to order it against a Forget.
type fakeMembership struct {
	mu      sync.Mutex
	members map[string][]string
	calls   atomic.Int64
	err     error
	gate    chan struct{}
}

func (f *fakeMembership) Members(_ context.Context, chatID string) ([]string, error) {
	f.calls.Add(1)
	f.mu.Lock()
	out, err, gate := slices.Clone(f.members[chatID]), f.err, f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return out, err
}

func (f *fakeMembership) IsMember(context.Context, string, string) (bool, error) {
	return false, errors.New("the cache derives IsMember from Members")
}

func (f *fakeMembership) UserChats(context.Context, string) ([]string, error) {
	return []string{"c1"}, nil
}

func (f *fakeMembership) set(chatID string, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[chatID] = members
}

func TestCachedMembership(t *testing.T) {
	ctx := context.Background()
	newCache := func() (*fakeMembership, *CachedMembership, *time.Time) {
		src := &fakeMembership{members: map[string][]string{"c1": {"alice", "bob"}}}
		c := NewCachedMembership(src, 5*time.Second)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c.now = func() time.Time { return now }
		return src, c, &now
	}

	t.Run("answers from the cache until the TTL or a Forget", func(t *testing.T) {
		src, c, now := newCache()
		for range 3 {
			ok, err := c.IsMember(ctx, "c1", "bob")
			require.NoError(t, err)
			require.True(t, ok)
		}
		require.EqualValues(t, 1, src.calls.Load())

		src.set("c1", "alice")
		c.Forget("c1")
		ok, err := c.IsMember(ctx, "c1", "bob")
		require.NoError(t, err)
		require.False(t, ok, "a removed member is out at once after Forget")
		require.EqualValues(t, 2, src.calls.Load())

		src.set("c1", "alice", "carol")
		*now = now.Add(4 * time.Second)
		members, err := c.Members(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, []string{"alice"}, members, "fresh within the TTL")
		*now = now.Add(time.Second)
		members, err = c.Members(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, []string{"alice", "carol"}, members, "reloaded once the TTL is over")
		require.EqualValues(t, 3, src.calls.Load())
	})

	t.Run("errors are not cached", func(t *testing.T) {
		src, c, _ := newCache()
		src.err = domain.ErrUnavailable
		_, err := c.Members(ctx, "c1")
		require.ErrorIs(t, err, domain.ErrUnavailable)
		src.err = nil
		members, err := c.Members(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, []string{"alice", "bob"}, members)
		require.EqualValues(t, 2, src.calls.Load())
	})

	t.Run("concurrent misses share one call", func(t *testing.T) {
		src, c, _ := newCache()
		src.gate = make(chan struct{})
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				members, err := c.Members(ctx, "c1")
				require.NoError(t, err)
				require.Equal(t, []string{"alice", "bob"}, members)
			})
		}
		require.Eventually(t, func() bool { return src.calls.Load() == 1 }, time.Second, time.Millisecond)
		close(src.gate)
		wg.Wait()
		require.EqualValues(t, 1, src.calls.Load())
	})

	t.Run("a load that overlapped a Forget is not kept", func(t *testing.T) {
		src, c, _ := newCache()
		gate := make(chan struct{})
		src.gate = gate
		done := make(chan []string)
		go func() {
			members, _ := c.Members(ctx, "c1")
			done <- members
		}()
		require.Eventually(t, func() bool { return src.calls.Load() == 1 }, time.Second, time.Millisecond)
		// bob is removed while the load (which read the old list) is in flight.
		src.mu.Lock()
		src.members["c1"] = []string{"alice"}
		src.gate = nil
		src.mu.Unlock()
		c.Forget("c1")
		// A caller arriving after the Forget does not join the stale load.
		members, err := c.Members(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, []string{"alice"}, members)
		close(gate)
		require.Equal(t, []string{"alice", "bob"}, <-done, "the stale load answers its own caller")
		members, err = c.Members(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, []string{"alice"}, members, "but was not cached")
	})

	t.Run("user chats pass through", func(t *testing.T) {
		_, c, _ := newCache()
		chats, err := c.UserChats(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, []string{"c1"}, chats)
	})
}
