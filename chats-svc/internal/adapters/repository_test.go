package adapters_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/convene/convene/chats-svc/internal/adapters"
	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/chats-svc/migrations"
	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/testkit"
)

// backends opens a fresh, migrated database per test: the same suite runs on both.
var backends = map[string]func(t *testing.T) *gorm.DB{
	"postgres": func(t *testing.T) *gorm.DB {
		return openDB(t, db.Params{URL: testkit.NewPostgresDB(t), Migrations: migrations.FS})
	},
	"sqlite": func(t *testing.T) *gorm.DB {
		return openDB(t, db.Params{SQLitePath: filepath.Join(t.TempDir(), "chats.db"), Migrations: migrations.FS})
	},
}

func openDB(t *testing.T, p db.Params) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(context.Background(), p)
	require.NoError(t, err)
	t.Cleanup(func() {
		sqlDB, _ := gdb.DB()
		_ = sqlDB.Close()
	})
	return gdb
}

func id() string { return uuid.Must(uuid.NewV7()).String() }

// at is a fixed instant with sub-second digits, to check that times survive a round trip.
var at = time.Date(2026, 11, 22, 9, 30, 15, 123456000, time.UTC)

func newRoster(t *testing.T, title string, members ...string) domain.Roster {
	t.Helper()
	chat, err := domain.NewChat(id(), title, members[0], at)
	require.NoError(t, err)
	return domain.Roster{Chat: chat, Members: members}
}

func TestRepository(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repositorySuite(t, open)
		})
	}
}

func repositorySuite(t *testing.T, open func(t *testing.T) *gorm.DB) {
	ctx := context.Background()
	newRepo := func(t *testing.T) *adapters.Repository {
		return adapters.NewRepository(adapters.RepositoryParams{DB: open(t), Now: func() time.Time { return at.Add(time.Minute) }})
	}

	t.Run("create and read back", func(t *testing.T) {
		repo := newRepo(t)
		alice, bob := id(), id()
		r := newRoster(t, "Design", alice, bob)
		ev := domain.NewChatAdded(id(), r.Chat, r.Members, at)
		require.NoError(t, repo.CreateChat(ctx, r, []domain.Event{ev}))

		got, err := repo.Roster(ctx, r.Chat.ID)
		require.NoError(t, err)
		require.Equal(t, r.Chat, got.Chat)
		require.ElementsMatch(t, r.Members, got.Members)

		members, err := repo.ChatMemberIDs(ctx, r.Chat.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, r.Members, members)

		chats, err := repo.UserChatsPage(ctx, bob, nil, 10)
		require.NoError(t, err)
		require.Equal(t, []domain.Chat{r.Chat}, chats)
		require.Equal(t, r.Chat.CreatedAt, chats[0].LastActivityAt, "a new chat's activity is its creation")

		ids, err := repo.UserChatIDs(ctx, alice)
		require.NoError(t, err)
		require.Equal(t, []string{r.Chat.ID}, ids)

		stored, err := repo.OldestEvent(ctx)
		require.NoError(t, err)
		require.Equal(t, ev, stored)
	})

	t.Run("unknown chat and user", func(t *testing.T) {
		repo := newRepo(t)
		_, err := repo.Roster(ctx, id())
		require.ErrorIs(t, err, domain.ErrChatNotFound)
		members, err := repo.ChatMemberIDs(ctx, id())
		require.NoError(t, err)
		require.Empty(t, members)
		chats, err := repo.UserChatsPage(ctx, id(), nil, 10)
		require.NoError(t, err)
		require.Empty(t, chats)
		require.NoError(t, repo.RecordActivity(ctx, []domain.Activity{{ChatID: id(), At: at}}), "unknown chats are skipped")
		ids, err := repo.UserChatIDs(ctx, id())
		require.NoError(t, err)
		require.Empty(t, ids)
		_, err = repo.UpdateRoster(ctx, id(), func(*domain.Roster) ([]domain.Event, error) { return nil, nil })
		require.ErrorIs(t, err, domain.ErrChatNotFound)
	})

	t.Run("create is all or nothing", func(t *testing.T) {
		repo := newRepo(t)
		r := newRoster(t, "Atomic", id())
		ev := domain.NewChatAdded(id(), r.Chat, r.Members, at)
		// Two events with one id: the second insert fails, and so must the chat.
		require.Error(t, repo.CreateChat(ctx, r, []domain.Event{ev, ev}))
		_, err := repo.Roster(ctx, r.Chat.ID)
		require.ErrorIs(t, err, domain.ErrChatNotFound)
		ids, err := repo.UserChatIDs(ctx, r.Members[0])
		require.NoError(t, err)
		require.Empty(t, ids)
	})

	t.Run("update adds and removes with events", func(t *testing.T) {
		repo := newRepo(t)
		alice, bob, carol := id(), id(), id()
		r := newRoster(t, "Team", alice, bob)
		require.NoError(t, repo.CreateChat(ctx, r, nil))

		change, err := repo.UpdateRoster(ctx, r.Chat.ID, func(ro *domain.Roster) ([]domain.Event, error) {
			require.NoError(t, ro.Add(alice, carol))
			return []domain.Event{domain.NewMemberChanged(id(), domain.FrameMemberAdded, r.Chat.ID, carol, []string{alice, bob}, at)}, nil
		})
		require.NoError(t, err)
		require.Equal(t, domain.MembershipChange{ChatID: r.Chat.ID, Added: []string{carol}}, change)

		got, err := repo.Roster(ctx, r.Chat.ID)
		require.NoError(t, err)
		require.Len(t, got.Members, 3)
		require.Equal(t, carol, got.Members[2], "members are listed in the order they joined")

		change, err = repo.UpdateRoster(ctx, r.Chat.ID, func(ro *domain.Roster) ([]domain.Event, error) {
			return nil, ro.Remove(alice, bob)
		})
		require.NoError(t, err)
		require.Equal(t, domain.MembershipChange{ChatID: r.Chat.ID, Removed: []string{bob}}, change)
		members, err := repo.ChatMemberIDs(ctx, r.Chat.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{alice, carol}, members)

		ev, err := repo.OldestEvent(ctx)
		require.NoError(t, err)
		require.JSONEq(t, `{"type":"member_added","event_id":"`+ev.ID+`","chat_id":"`+r.Chat.ID+`","user_id":"`+carol+`"}`, string(ev.Frame))
	})

	t.Run("a failed update changes nothing", func(t *testing.T) {
		repo := newRepo(t)
		alice, outsider := id(), id()
		r := newRoster(t, "Closed", alice)
		require.NoError(t, repo.CreateChat(ctx, r, nil))
		_, err := repo.UpdateRoster(ctx, r.Chat.ID, func(ro *domain.Roster) ([]domain.Event, error) {
			return []domain.Event{domain.NewChatAdded(id(), ro.Chat, []string{outsider}, at)}, ro.Add(outsider, id())
		})
		require.ErrorIs(t, err, domain.ErrChatNotFound)
		members, err := repo.ChatMemberIDs(ctx, r.Chat.ID)
		require.NoError(t, err)
		require.Equal(t, []string{alice}, members)
		_, err = repo.OldestEvent(ctx)
		require.ErrorIs(t, err, domain.ErrNoEvent)
	})

	t.Run("concurrent adds of one user: exactly one wins", func(t *testing.T) {
		repo := newRepo(t)
		alice, bob := id(), id()
		r := newRoster(t, "Race", alice)
		require.NoError(t, repo.CreateChat(ctx, r, nil))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = repo.UpdateRoster(ctx, r.Chat.ID, func(ro *domain.Roster) ([]domain.Event, error) {
					return nil, ro.Add(alice, bob)
				})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, domain.ErrAlreadyMember)
			}
		}
		require.Equal(t, 1, wins)
	})

	t.Run("chat list pages by activity, then id", func(t *testing.T) {
		repo := newRepo(t)
		alice, bob := id(), id()
		// Five chats of alice created at one instant (ties broken by id), one of bob's.
		rosters := make([]domain.Roster, 5)
		for i := range rosters {
			rosters[i] = newRoster(t, "c", alice)
			require.NoError(t, repo.CreateChat(ctx, rosters[i], nil))
		}
		require.NoError(t, repo.CreateChat(ctx, newRoster(t, "bob's", bob), nil))
		// Activity a microsecond apart, the same time twice, an older time that must not
		// move a chat back, and a chat that is not there.
		require.NoError(t, repo.RecordActivity(ctx, []domain.Activity{
			{ChatID: rosters[1].Chat.ID, At: at.Add(time.Microsecond)},
			{ChatID: rosters[3].Chat.ID, At: at.Add(2 * time.Microsecond)},
			{ChatID: id(), At: at.Add(time.Hour)},
		}))
		require.NoError(t, repo.RecordActivity(ctx, []domain.Activity{
			{ChatID: rosters[1].Chat.ID, At: at.Add(time.Microsecond)},
			{ChatID: rosters[3].Chat.ID, At: at.Add(-time.Hour)},
		}))
		// The rest tie at creation time: descending id.
		want := []string{rosters[3].Chat.ID, rosters[1].Chat.ID, rosters[4].Chat.ID, rosters[2].Chat.ID, rosters[0].Chat.ID}

		var got []string
		var after *domain.ChatPosition
		for {
			page, err := repo.UserChatsPage(ctx, alice, after, 2)
			require.NoError(t, err)
			for _, c := range page {
				got = append(got, c.ID)
			}
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			after = &domain.ChatPosition{LastActivityAt: last.LastActivityAt, ChatID: last.ID}
		}
		require.Equal(t, want, got)

		top, err := repo.UserChatsPage(ctx, alice, nil, 1)
		require.NoError(t, err)
		require.Equal(t, at.Add(2*time.Microsecond), top[0].LastActivityAt, "kept to the microsecond")
	})

	t.Run("many members join at once", func(t *testing.T) {
		repo := newRepo(t)
		alice := id()
		const n = 8
		rosters := make([]domain.Roster, n)
		for i := range rosters {
			rosters[i] = newRoster(t, "race", id(), alice)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = repo.CreateChat(ctx, rosters[i], nil) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		ids, err := repo.UserChatIDs(ctx, alice)
		require.NoError(t, err)
		require.Len(t, ids, n)
	})

	t.Run("outbox: oldest first, one claim, reschedule, delete", func(t *testing.T) {
		repo := newRepo(t)
		_, err := repo.OldestEvent(ctx)
		require.ErrorIs(t, err, domain.ErrNoEvent)

		r := newRoster(t, "Events", id())
		first := domain.NewChatAdded(id(), r.Chat, r.Members, at)
		second := domain.NewMemberChanged(id(), domain.FrameMemberRemoved, r.Chat.ID, id(), r.Members, at)
		require.NoError(t, repo.CreateChat(ctx, r, []domain.Event{second, first}))

		ev, err := repo.OldestEvent(ctx)
		require.NoError(t, err)
		require.Equal(t, first.ID, ev.ID, "ids are time-ordered: the first created goes first")

		lease := at.Add(time.Hour)
		ok, err := repo.ClaimEvent(ctx, ev, lease)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = repo.ClaimEvent(ctx, ev, lease)
		require.NoError(t, err)
		require.False(t, ok, "a second relay holding the same read must not claim it")

		claimed, err := repo.OldestEvent(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, claimed.Attempts)
		require.Equal(t, lease, claimed.NextAttemptAt)

		retry := at.Add(2 * time.Second)
		require.NoError(t, repo.RescheduleEvent(ctx, ev.ID, retry))
		claimed, err = repo.OldestEvent(ctx)
		require.NoError(t, err)
		require.Equal(t, retry, claimed.NextAttemptAt)

		require.NoError(t, repo.DeleteEvent(ctx, ev.ID))
		next, err := repo.OldestEvent(ctx)
		require.NoError(t, err)
		require.Equal(t, second.ID, next.ID)
		require.NoError(t, repo.DeleteEvent(ctx, next.ID))
		_, err = repo.OldestEvent(ctx)
		require.ErrorIs(t, err, domain.ErrNoEvent)
	})
}
