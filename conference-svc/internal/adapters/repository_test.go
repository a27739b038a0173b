package adapters

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/conference-svc/migrations"
	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/testkit"
)

// TestRepository runs the same assertions on Postgres and on SQLite (the embedded default).
func TestRepository(t *testing.T) {
	backends := map[string]func(t *testing.T) db.Params{
		"postgres": func(t *testing.T) db.Params { return db.Params{URL: testkit.NewPostgresDB(t)} },
		"sqlite":   func(t *testing.T) db.Params { return db.Params{SQLitePath: filepath.Join(t.TempDir(), "c.db")} },
	}
	for name, params := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := params(t)
			p.Migrations = migrations.FS
			gdb, err := db.Open(context.Background(), p)
			require.NoError(t, err)
			t.Cleanup(func() {
				if s, err := gdb.DB(); err == nil {
					s.Close()
				}
			})
			repositorySuite(t, NewConferences(gdb))
		})
	}
}

func id() string { return uuid.Must(uuid.NewV7()).String() }

func newConf(t *testing.T, team, user string, startsAt time.Time) domain.Conference {
	t.Helper()
	c, err := domain.NewConference(domain.NewConferenceParams{
		ID: id(), TeamID: team, Title: "Weekly", StartsAt: startsAt, CreatedBy: user, Now: time.Now(),
	})
	require.NoError(t, err)
	return c
}

func repositorySuite(t *testing.T, r *Conferences) {
	ctx := context.Background()
	team, other, host, member := id(), id(), id(), id()
	base := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

	t.Run("create, get and hosts", func(t *testing.T) {
		c := newConf(t, team, host, base)
		stored, created, err := r.Create(ctx, c, "")
		require.NoError(t, err)
		require.True(t, created)
		got, err := r.Get(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, stored.ID, got.ID)
		require.True(t, got.StartsAt.Equal(base))
		require.Equal(t, time.UTC, got.StartsAt.Location())
		require.Equal(t, domain.StatusScheduled, got.Status)
		isHost, err := r.IsHost(ctx, c.ID, host)
		require.NoError(t, err)
		require.True(t, isHost)
		isHost, err = r.IsHost(ctx, c.ID, member)
		require.NoError(t, err)
		require.False(t, isHost)

		_, err = r.Get(ctx, id())
		require.ErrorIs(t, err, domain.ErrNotFound)
	})

	t.Run("idempotent create", func(t *testing.T) {
		first, created, err := r.Create(ctx, newConf(t, team, member, base), "key-1")
		require.NoError(t, err)
		require.True(t, created)
		again, created, err := r.Create(ctx, newConf(t, team, member, base), "key-1")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first.ID, again.ID)
		// The same key of another user is theirs.
		_, created, err = r.Create(ctx, newConf(t, team, host, base), "key-1")
		require.NoError(t, err)
		require.True(t, created)
	})

	t.Run("list by starts_at with a cursor", func(t *testing.T) {
		lt := id()
		var ids []string
		for _, h := range []int{3, 1, 2, 2} {
			c := newConf(t, lt, host, base.Add(time.Duration(h)*time.Hour))
			_, _, err := r.Create(ctx, c, "")
			require.NoError(t, err)
			ids = append(ids, c.ID)
		}
		_, _, err := r.Create(ctx, newConf(t, other, host, base), "")
		require.NoError(t, err)

		page, err := r.ListByTeam(ctx, lt, domain.Page{Limit: 2})
		require.NoError(t, err)
		require.Len(t, page, 2)
		require.Equal(t, ids[1], page[0].ID)
		rest, err := r.ListByTeam(ctx, lt, domain.Page{After: page[1].ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, rest, 2)
		require.Equal(t, ids[0], rest[1].ID)
		for _, c := range append(page, rest...) {
			require.Equal(t, lt, c.TeamID)
		}
		_, err = r.ListByTeam(ctx, lt, domain.Page{After: id(), Limit: 10})
		require.ErrorIs(t, err, domain.ErrNotFound)
	})

	t.Run("update", func(t *testing.T) {
		c := newConf(t, team, host, base)
		_, _, err := r.Create(ctx, c, "")
		require.NoError(t, err)
		title := "Renamed"
		got, err := r.Update(ctx, c.ID, func(c *domain.Conference) error {
			return c.Apply(domain.Patch{Title: &title}, time.Now())
		})
		require.NoError(t, err)
		require.Equal(t, "Renamed", got.Title)
		reread, err := r.Get(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, "Renamed", reread.Title)

		empty := ""
		_, err = r.Update(ctx, c.ID, func(c *domain.Conference) error {
			return c.Apply(domain.Patch{Title: &empty}, time.Now())
		})
		require.ErrorIs(t, err, domain.ErrTitleRequired)
		_, err = r.Update(ctx, id(), func(*domain.Conference) error { return nil })
		require.ErrorIs(t, err, domain.ErrNotFound)
	})

	t.Run("room state: ended is final", func(t *testing.T) {
		c := newConf(t, team, host, base)
		_, _, err := r.Create(ctx, c, "")
		require.NoError(t, err)
		require.NoError(t, r.SetRoomState(ctx, c.ID, domain.StatusLive, 3))
		got, _ := r.Get(ctx, c.ID)
		require.Equal(t, domain.StatusLive, got.Status)
		require.Equal(t, 3, got.ParticipantCount)
		require.NoError(t, r.SetRoomState(ctx, c.ID, domain.StatusEnded, 0))
		require.NoError(t, r.SetRoomState(ctx, c.ID, domain.StatusLive, 1))
		got, _ = r.Get(ctx, c.ID)
		require.Equal(t, domain.StatusEnded, got.Status)
		require.ErrorIs(t, r.SetRoomState(ctx, id(), domain.StatusLive, 1), domain.ErrNotFound)
	})

	t.Run("live conferences, page by page", func(t *testing.T) {
		var live []string
		for i := range 5 {
			c := newConf(t, id(), host, base)
			_, _, err := r.Create(ctx, c, "")
			require.NoError(t, err)
			switch i {
			case 0, 2, 3:
				require.NoError(t, r.SetRoomState(ctx, c.ID, domain.StatusLive, 1))
				live = append(live, c.ID)
			case 4:
				require.NoError(t, r.SetRoomState(ctx, c.ID, domain.StatusEnded, 0))
			}
		}
		// Other subtests' conferences may be live too: look only at this one's.
		var got []string
		after := ""
		for {
			page, err := r.ListLive(ctx, after, 2)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 2)
			for _, p := range page {
				if slices.Contains(live, p) {
					got = append(got, p)
				}
			}
			if len(page) < 2 {
				break
			}
			require.Less(t, after, page[0], "pages follow each other in id order")
			after = page[len(page)-1]
		}
		require.Equal(t, live, got, "every live conference once, in id order")
	})

	t.Run("roles", func(t *testing.T) {
		c := newConf(t, team, host, base)
		_, _, err := r.Create(ctx, c, "")
		require.NoError(t, err)
		require.NoError(t, r.SetRole(ctx, c.ID, member, domain.RoleHost))
		require.NoError(t, r.SetRole(ctx, c.ID, member, domain.RoleHost), "promoting twice is harmless")
		ok, _ := r.IsHost(ctx, c.ID, member)
		require.True(t, ok)
		require.NoError(t, r.SetRole(ctx, c.ID, member, domain.RoleParticipant))
		ok, _ = r.IsHost(ctx, c.ID, member)
		require.False(t, ok)
	})

	t.Run("delete and delete by team", func(t *testing.T) {
		dt := id()
		a := newConf(t, dt, host, base)
		b := newConf(t, dt, host, base)
		keep := newConf(t, other, host, base)
		for _, c := range []domain.Conference{a, b, keep} {
			_, _, err := r.Create(ctx, c, "")
			require.NoError(t, err)
		}
		require.NoError(t, r.Delete(ctx, a.ID))
		require.ErrorIs(t, r.Delete(ctx, a.ID), domain.ErrNotFound)
		ids, err := r.DeleteByTeam(ctx, dt)
		require.NoError(t, err)
		require.Equal(t, []string{b.ID}, ids)
		ids, err = r.DeleteByTeam(ctx, dt)
		require.NoError(t, err)
		require.Empty(t, ids, "deleting again deletes nothing")
		ok, err := r.IsHost(ctx, b.ID, host)
		require.NoError(t, err)
		require.False(t, ok, "hosts go with their conference")
		_, err = r.Get(ctx, keep.ID)
		require.NoError(t, err)
	})
}
