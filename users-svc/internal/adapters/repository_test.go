package adapters_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/convene/convene/platform/db"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/users-svc/internal/adapters"
	"github.com/convene/convene/users-svc/internal/domain"
	"github.com/convene/convene/users-svc/migrations"
)

// backends opens a freshly migrated database per test: the same suite runs on Postgres
// (production) and SQLite (the embedded default).
var backends = map[string]func(t *testing.T) *gorm.DB{
	"postgres": func(t *testing.T) *gorm.DB {
		return open(t, db.Params{URL: testkit.NewPostgresDB(t), Migrations: migrations.FS})
	},
	"sqlite": func(t *testing.T) *gorm.DB {
		return open(t, db.Params{SQLitePath: filepath.Join(t.TempDir(), "users.db"), Migrations: migrations.FS})
	},
}

func open(t *testing.T, p db.Params) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(context.Background(), p)
	require.NoError(t, err)
	t.Cleanup(func() {
		sqlDB, err := gdb.DB()
		require.NoError(t, err)
		require.NoError(t, sqlDB.Close())
	})
	return gdb
}

func forEachBackend(t *testing.T, test func(t *testing.T, gdb *gorm.DB)) {
	for name, openDB := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, openDB(t))
		})
	}
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)

func newUser(t *testing.T, username, email string) domain.User {
	t.Helper()
	id, err := domain.NewID()
	require.NoError(t, err)
	return domain.User{ID: id, Username: username, Email: email, PasswordHash: "$argon2id$x", CreatedAt: t0}
}

func TestUserRepository(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := context.Background()
		repo := adapters.NewUserRepository(gdb)
		alice := newUser(t, "Alice", "alice@example.com")
		require.NoError(t, repo.Create(ctx, alice))

		for name, find := range map[string]func() (domain.User, error){
			"by id":       func() (domain.User, error) { return repo.ByID(ctx, alice.ID) },
			"by email":    func() (domain.User, error) { return repo.ByEmail(ctx, "alice@example.com") },
			"by username": func() (domain.User, error) { return repo.ByUsernameKey(ctx, "alice") },
		} {
			got, err := find()
			require.NoError(t, err, name)
			require.Equal(t, alice, got, name)
		}

		_, err := repo.ByID(ctx, "01900000-0000-7000-8000-000000000000")
		require.ErrorIs(t, err, domain.ErrUserNotFound)
		_, err = repo.ByEmail(ctx, "nobody@example.com")
		require.ErrorIs(t, err, domain.ErrUserNotFound)
		_, err = repo.ByUsernameKey(ctx, "Alice")
		require.ErrorIs(t, err, domain.ErrUserNotFound, "lookups take the lower-cased key")

		require.ErrorIs(t, repo.Create(ctx, newUser(t, "other", "alice@example.com")), domain.ErrEmailTaken)
		require.ErrorIs(t, repo.Create(ctx, newUser(t, "ALICE", "other@example.com")), domain.ErrUsernameTaken)
		require.ErrorIs(t, repo.Create(ctx, newUser(t, "aLiCe", "alice@example.com")), domain.ErrEmailTaken, "both taken: email wins")

		bob := newUser(t, "bob", "bob@example.com")
		require.NoError(t, repo.Create(ctx, bob))
		got, err := repo.ByIDs(ctx, []string{bob.ID, alice.ID, "01900000-0000-7000-8000-000000000000"})
		require.NoError(t, err)
		require.ElementsMatch(t, []domain.User{alice, bob}, got)
	})
}

func TestUserRepositoryConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, gdb *gorm.DB) {
		repo := adapters.NewUserRepository(gdb)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = repo.Create(context.Background(), newUser(t, fmt.Sprintf("racer%d", i), "race@example.com"))
			})
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			if err == nil {
				created++
				continue
			}
			require.ErrorIs(t, err, domain.ErrEmailTaken)
		}
		require.Equal(t, 1, created)
	})
}

func TestRefreshTokenRepository(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := context.Background()
		user := newUser(t, "alice", "alice@example.com")
		require.NoError(t, adapters.NewUserRepository(gdb).Create(ctx, user))
		repo := adapters.NewRefreshTokenRepository(gdb)

		first := domain.RefreshToken{ID: mustID(t), FamilyID: mustID(t), UserID: user.ID, Hash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		require.NoError(t, repo.StartFamily(ctx, first))
		got, err := repo.ByHash(ctx, "h1")
		require.NoError(t, err)
		require.Equal(t, first, got)

		_, err = repo.ByHash(ctx, "unknown")
		require.ErrorIs(t, err, domain.ErrRefreshTokenInvalid)
		require.ErrorIs(t, repo.Rotate(ctx, "unknown", successorOf(t, "x", t0)), domain.ErrRefreshTokenInvalid)

		now := t0.Add(time.Minute)
		require.NoError(t, repo.Rotate(ctx, "h1", successorOf(t, "h2", now)))
		spent, err := repo.ByHash(ctx, "h1")
		require.NoError(t, err)
		require.Equal(t, now, spent.SpentAt)
		second, err := repo.ByHash(ctx, "h2")
		require.NoError(t, err)
		require.Equal(t, first.FamilyID, second.FamilyID)
		require.True(t, second.SpentAt.IsZero())

		// The spent token again: the error of the domain rule, and nothing written.
		require.ErrorIs(t, repo.Rotate(ctx, "h1", successorOf(t, "h3", now)), domain.ErrRefreshTokenReused)
		_, err = repo.ByHash(ctx, "h3")
		require.ErrorIs(t, err, domain.ErrRefreshTokenInvalid)

		revokedAt := now.Add(time.Minute)
		require.NoError(t, repo.RevokeFamily(ctx, first.FamilyID, revokedAt))
		require.NoError(t, repo.RevokeFamily(ctx, first.FamilyID, revokedAt.Add(time.Hour)), "idempotent")
		second, err = repo.ByHash(ctx, "h2")
		require.NoError(t, err)
		require.Equal(t, revokedAt, second.FamilyRevokedAt, "the first revocation time is kept")
		require.ErrorIs(t, repo.Rotate(ctx, "h2", successorOf(t, "h4", revokedAt)), domain.ErrRefreshTokenInvalid)

		// Pruning removes expired tokens and the families they leave empty.
		require.NoError(t, repo.DeleteExpired(ctx, t0.Add(30*time.Minute)))
		_, err = repo.ByHash(ctx, "h2")
		require.NoError(t, err, "not expired yet")
		require.NoError(t, repo.DeleteExpired(ctx, t0.Add(2*time.Hour)))
		_, err = repo.ByHash(ctx, "h2")
		require.ErrorIs(t, err, domain.ErrRefreshTokenInvalid)
		var families int64
		require.NoError(t, gdb.Table("refresh_families").Count(&families).Error)
		require.Zero(t, families)
	})
}

func TestRefreshTokenRepositoryConcurrentRotate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := context.Background()
		user := newUser(t, "alice", "alice@example.com")
		require.NoError(t, adapters.NewUserRepository(gdb).Create(ctx, user))
		repo := adapters.NewRefreshTokenRepository(gdb)
		require.NoError(t, repo.StartFamily(ctx, domain.RefreshToken{
			ID: mustID(t), FamilyID: mustID(t), UserID: user.ID, Hash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		}))

		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = repo.Rotate(ctx, "h", successorOf(t, fmt.Sprintf("next%d", i), t0)) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, domain.ErrRefreshTokenReused)
		}
		require.Equal(t, 1, won)
		var tokens int64
		require.NoError(t, gdb.Table("refresh_tokens").Count(&tokens).Error)
		require.EqualValues(t, 2, tokens, "one successor only")
	})
}

func TestSigningKeyRepository(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := context.Background()
		repo := adapters.NewSigningKeyRepository(gdb)
		keys, err := repo.List(ctx)
		require.NoError(t, err)
		require.Empty(t, keys)

		slot := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		k1, err := domain.NewSigningKey(slot, t0)
		require.NoError(t, err)
		require.NoError(t, repo.Create(ctx, k1))
		rival, err := domain.NewSigningKey(slot, t0)
		require.NoError(t, err)
		require.ErrorIs(t, repo.Create(ctx, rival), domain.ErrKeySlotTaken)

		k2, err := domain.NewSigningKey(slot.Add(24*time.Hour), t0.Add(24*time.Hour))
		require.NoError(t, err)
		require.NoError(t, repo.Create(ctx, k2))
		keys, err = repo.List(ctx)
		require.NoError(t, err)
		require.ElementsMatch(t, []domain.SigningKey{k1, k2}, keys)

		require.NoError(t, repo.Delete(ctx, []string{k1.ID}))
		keys, err = repo.List(ctx)
		require.NoError(t, err)
		require.Equal(t, []domain.SigningKey{k2}, keys)
	})
}

func mustID(t *testing.T) string {
	t.Helper()
	id, err := domain.NewID()
	require.NoError(t, err)
	return id
}

func successorOf(t *testing.T, hash string, now time.Time) func(domain.RefreshToken) (domain.RefreshToken, error) {
	id := mustID(t)
	return func(cur domain.RefreshToken) (domain.RefreshToken, error) {
		return cur.Successor(id, hash, now, time.Hour)
	}
}
