package adapters_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/chats-svc/internal/adapters"
	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/chats-svc/migrations"
	"github.com/convene/convene/platform/cache"
	"github.com/convene/convene/platform/db"
)

// countingRepo counts the membership reads that reach the database.
type countingRepo struct {
	domain.Repository
	reads atomic.Int64
}

func (c *countingRepo) ChatMemberIDs(ctx context.Context, chatID string) ([]string, error) {
	c.reads.Add(1)
	return c.Repository.ChatMemberIDs(ctx, chatID)
}

func (c *countingRepo) UserChatIDs(ctx context.Context, userID string) ([]string, error) {
	c.reads.Add(1)
	return c.Repository.UserChatIDs(ctx, userID)
}

// brokenCache fails every call, as Redis does when it is down.
type brokenCache struct{}

var errCacheDown = errors.New("cache down")

func (brokenCache) Get(context.Context, string) ([]byte, error)              { return nil, errCacheDown }
func (brokenCache) Set(context.Context, string, []byte, time.Duration) error { return errCacheDown }
func (brokenCache) Delete(context.Context, ...string) error                  { return errCacheDown }

func TestCachedRepository(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	setup := func(t *testing.T, c cache.Cache) (*countingRepo, *adapters.CachedRepository) {
		gdb := openDB(t, db.Params{SQLitePath: filepath.Join(t.TempDir(), "chats.db"), Migrations: migrations.FS})
		counting := &countingRepo{Repository: adapters.NewRepository(adapters.RepositoryParams{DB: gdb})}
		return counting, adapters.NewCachedRepository(counting, c, log)
	}
	for _, tc := range []struct {
		name  string
		cache func() cache.Cache
		// reads is how many of the scenario's 8 reads reach the database: with a
		// working cache, the first read after each change and no other.
		reads int64
	}{
		{"memory cache", func() cache.Cache { return cache.NewMemory() }, 5},
		{"failing cache falls back to the database", func() cache.Cache { return brokenCache{} }, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counting, repo := setup(t, tc.cache())
			alice, bob := id(), id()
			r := newRoster(t, "Cached", alice)

			// A lookup before the chat exists caches "no members"; creating it must
			// invalidate that.
			members, err := repo.ChatMemberIDs(ctx, r.Chat.ID)
			require.NoError(t, err)
			require.Empty(t, members)
			require.NoError(t, repo.CreateChat(ctx, r, nil))

			for range 2 {
				members, err = repo.ChatMemberIDs(ctx, r.Chat.ID)
				require.NoError(t, err)
				require.Equal(t, []string{alice}, members)
			}
			_, err = repo.UpdateRoster(ctx, r.Chat.ID, func(ro *domain.Roster) ([]domain.Event, error) {
				return nil, ro.Add(alice, bob)
			})
			require.NoError(t, err)
			chats, err := repo.UserChatIDs(ctx, bob)
			require.NoError(t, err)
			require.Equal(t, []string{r.Chat.ID}, chats)

			_, err = repo.UpdateRoster(ctx, r.Chat.ID, func(ro *domain.Roster) ([]domain.Event, error) {
				return nil, ro.Remove(bob, bob)
			})
			require.NoError(t, err)
			members, err = repo.ChatMemberIDs(ctx, r.Chat.ID)
			require.NoError(t, err)
			require.Equal(t, []string{alice}, members, "a removed member is gone at once")
			chats, err = repo.UserChatIDs(ctx, bob)
			require.NoError(t, err)
			require.Empty(t, chats)
			// Cached again: these two reads do not reach the database, unless the cache
			// is down.
			chats, err = repo.UserChatIDs(ctx, bob)
			require.NoError(t, err)
			require.Empty(t, chats)
			members, err = repo.ChatMemberIDs(ctx, r.Chat.ID)
			require.NoError(t, err)
			require.Equal(t, []string{alice}, members)

			require.Equal(t, tc.reads, counting.reads.Load())
		})
	}
}
