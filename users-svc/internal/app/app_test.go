package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convene/convene/users-svc/internal/app"
	"github.com/convene/convene/users-svc/internal/domain"
)

// The fakes keep just enough state for the rules under test; the real adapters have their
// own suite on Postgres and SQLite.

type fakeUsers struct {
	byID    map[string]domain.User
	created int
	lookups int
}

func (f *fakeUsers) Create(_ context.Context, u domain.User) error {
	f.created++
	f.byID[u.ID] = u
	return nil
}

func (f *fakeUsers) ByID(_ context.Context, id string) (domain.User, error) {
	f.lookups++
	if u, ok := f.byID[id]; ok {
		return u, nil
	}
	return domain.User{}, domain.ErrUserNotFound
}

func (f *fakeUsers) ByIDs(_ context.Context, ids []string) ([]domain.User, error) {
	f.lookups++
	var out []domain.User
	for _, id := range ids {
		if u, ok := f.byID[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakeUsers) ByEmail(_ context.Context, email string) (domain.User, error) {
	f.lookups++
	for _, u := range f.byID {
		if u.Email == email {
			return u, nil
		}
	}
	return domain.User{}, domain.ErrUserNotFound
}

func (f *fakeUsers) ByUsernameKey(_ context.Context, key string) (domain.User, error) {
	f.lookups++
	for _, u := range f.byID {
		if u.UsernameKey() == key {
			return u, nil
		}
	}
	return domain.User{}, domain.ErrUserNotFound
}

// fakeHasher "hashes" by prefixing and records what each Verify compared against.
type fakeHasher struct{ verified []string }

func (h *fakeHasher) Hash(p string) (string, error) { return "hash:" + p, nil }

func (h *fakeHasher) Verify(p, encoded string) (bool, error) {
	h.verified = append(h.verified, encoded)
	return encoded == "hash:"+p, nil
}

type fakeTokens struct {
	byHash  map[string]domain.RefreshToken
	revoked []string
}

func (f *fakeTokens) StartFamily(_ context.Context, t domain.RefreshToken) error {
	f.byHash[t.Hash] = t
	return nil
}

func (f *fakeTokens) Rotate(_ context.Context, hash string, next func(domain.RefreshToken) (domain.RefreshToken, error)) error {
	cur, ok := f.byHash[hash]
	if !ok {
		return domain.ErrRefreshTokenInvalid
	}
	succ, err := next(cur)
	if err != nil {
		return err
	}
	cur.SpentAt = succ.CreatedAt
	f.byHash[hash] = cur
	f.byHash[succ.Hash] = succ
	return nil
}

func (f *fakeTokens) ByHash(_ context.Context, hash string) (domain.RefreshToken, error) {
	if t, ok := f.byHash[hash]; ok {
		return t, nil
	}
	return domain.RefreshToken{}, domain.ErrRefreshTokenInvalid
}

func (f *fakeTokens) RevokeFamily(_ context.Context, family string, at time.Time) error {
	f.revoked = append(f.revoked, family)
	for h, t := range f.byHash {
		if t.FamilyID == family {
			t.FamilyRevokedAt = at
			f.byHash[h] = t
		}
	}
	return nil
}

func (f *fakeTokens) DeleteExpired(context.Context, time.Time) error { return nil }

type fakeKeys struct{ keys []domain.SigningKey }

func (f *fakeKeys) List(context.Context) ([]domain.SigningKey, error) { return f.keys, nil }

func (f *fakeKeys) Create(_ context.Context, k domain.SigningKey) error {
	for _, e := range f.keys {
		if e.Slot.Equal(k.Slot) {
			return domain.ErrKeySlotTaken
		}
	}
	f.keys = append(f.keys, k)
	return nil
}

func (f *fakeKeys) Delete(_ context.Context, ids []string) error {
	f.keys = slices.DeleteFunc(f.keys, func(k domain.SigningKey) bool { return slices.Contains(ids, k.ID) })
	return nil
}

type fakeSigner struct{}

func (fakeSigner) Sign(k domain.SigningKey, c domain.AccessClaims) (string, error) {
	return k.ID + "/" + c.Subject + "/" + c.ID, nil
}

type fakeLimiter struct{ err error }

func (f fakeLimiter) Allow(context.Context, string) error { return f.err }

type fixture struct {
	app    *app.Application
	users  *fakeUsers
	hasher *fakeHasher
	tokens *fakeTokens
	keys   *fakeKeys
	clock  time.Time
}

func newFixture(t *testing.T, limiterErr error) *fixture {
	t.Helper()
	f := &fixture{
		users:  &fakeUsers{byID: map[string]domain.User{}},
		hasher: &fakeHasher{},
		tokens: &fakeTokens{byHash: map[string]domain.RefreshToken{}},
		keys:   &fakeKeys{},
		clock:  time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
	}
	a, err := app.New(app.Params{
		Users: f.users, RefreshTokens: f.tokens, SigningKeys: f.keys, Hasher: f.hasher,
		Signer: fakeSigner{}, LoginLimiter: fakeLimiter{err: limiterErr},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return f.clock },
		Policy: app.Policy{
			AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, Issuer: "convene", Audience: "convene-api",
			Keys: domain.KeyPolicy{RotationInterval: 24 * time.Hour, TokenTTL: 15 * time.Minute, ReloadInterval: time.Minute},
		},
	})
	require.NoError(t, err)
	require.NoError(t, a.MaintainSigningKeys(context.Background()))
	f.app = a
	return f
}

func TestRegisterRefusesBadInputWithoutSideEffects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, username, email, password string
		err                             error
	}{
		{"short password", "alice", "a@b.io", "short", domain.ErrPasswordTooShort},
		{"long password", "alice", "a@b.io", strings.Repeat("p", 300), domain.ErrPasswordTooLong},
		{"bad username", "a", "a@b.io", "password123", domain.ErrUsernameInvalid},
		{"bad email", "alice", "nope", "password123", domain.ErrEmailInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			_, err := f.app.Register(context.Background(), tc.username, tc.email, tc.password)
			require.ErrorIs(t, err, tc.err)
			require.Zero(t, f.users.created)
		})
	}
}

func TestLoginHashesAlikeForUnknownAndWrong(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	u, err := f.app.Register(ctx, "alice", "alice@example.com", "password123")
	require.NoError(t, err)
	f.hasher.verified = nil

	_, err = f.app.Login(ctx, "nobody@example.com", "password123")
	require.ErrorIs(t, err, domain.ErrInvalidCredentials)
	_, err = f.app.Login(ctx, "alice", "wrong password")
	require.ErrorIs(t, err, domain.ErrInvalidCredentials)
	require.Len(t, f.hasher.verified, 2, "one hash verification each")
	require.NotEqual(t, u.PasswordHash, f.hasher.verified[0], "the unknown account is checked against the dummy hash")
	require.Equal(t, u.PasswordHash, f.hasher.verified[1])

	s, err := f.app.Login(ctx, "ALICE@example.com", "password123")
	require.NoError(t, err)
	require.Equal(t, u.ID, s.User.ID)
	require.Equal(t, 15*time.Minute, s.AccessExpiresIn)
}

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	limited := newFixture(t, &domain.RateLimitedError{RetryAfter: time.Second})
	_, err := limited.app.Login(ctx, "alice", "password123")
	require.ErrorIs(t, err, domain.ErrRateLimited)
	require.Empty(t, limited.hasher.verified, "refused before any hashing")

	// A limiter that fails (Redis down) does not stop logins.
	broken := newFixture(t, errors.New("redis: connection refused"))
	_, err = broken.app.Register(ctx, "alice", "alice@example.com", "password123")
	require.NoError(t, err)
	_, err = broken.app.Login(ctx, "alice", "password123")
	require.NoError(t, err)
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	_, err := f.app.Register(ctx, "alice", "alice@example.com", "password123")
	require.NoError(t, err)
	s1, err := f.app.Login(ctx, "alice", "password123")
	require.NoError(t, err)
	s2, err := f.app.Refresh(ctx, s1.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, s1.RefreshToken, s2.RefreshToken)

	_, err = f.app.Refresh(ctx, s1.RefreshToken)
	require.ErrorIs(t, err, domain.ErrRefreshTokenReused)
	require.Len(t, f.tokens.revoked, 1)
	_, err = f.app.Refresh(ctx, s2.RefreshToken)
	require.ErrorIs(t, err, domain.ErrRefreshTokenInvalid)

	_, err = f.app.Refresh(ctx, "")
	require.ErrorIs(t, err, domain.ErrRefreshTokenRequired)
	_, err = f.app.Refresh(ctx, "short")
	require.ErrorIs(t, err, domain.ErrRefreshTokenMalformed)
}

func TestUsersBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	_, err := f.app.Users(ctx, make([]string, app.MaxBatchIDs+1))
	require.ErrorIs(t, err, domain.ErrTooManyIDs)
	got, err := f.app.Users(ctx, []string{"nope", ""})
	require.NoError(t, err)
	require.Empty(t, got)
	require.Zero(t, f.users.lookups, "malformed ids never reach the repository")

	_, err = f.app.User(ctx, "nope")
	require.ErrorIs(t, err, domain.ErrInvalidID)
	require.Zero(t, f.users.lookups)
}

func TestMaintainSigningKeysRotates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	_, err := f.app.Register(ctx, "alice", "alice@example.com", "password123")
	require.NoError(t, err)
	kidOfLogin := func() string {
		s, err := f.app.Login(ctx, "alice", "password123")
		require.NoError(t, err)
		return strings.Split(s.AccessToken, "/")[0]
	}
	published := func() int {
		keys, err := f.app.PublishedKeys(ctx)
		require.NoError(t, err)
		return len(keys)
	}

	require.Len(t, f.keys.keys, 1, "a key is created when none exists")
	first := f.keys.keys[0].ID
	require.Equal(t, first, kidOfLogin())
	f.clock = f.clock.Add(time.Hour)
	require.NoError(t, f.app.MaintainSigningKeys(ctx))
	require.Len(t, f.keys.keys, 1, "not again within the window")

	f.clock = f.clock.Add(24 * time.Hour)
	require.NoError(t, f.app.MaintainSigningKeys(ctx))
	require.Len(t, f.keys.keys, 2, "the next window has its own key")
	require.NotEqual(t, first, kidOfLogin(), "the newer key signs")
	require.Equal(t, 2, published(), "the older key stays published")

	// Reload interval + token TTL later, no token of the old key is alive any more.
	f.clock = f.clock.Add(16 * time.Minute)
	require.Equal(t, 1, published())
	require.NoError(t, f.app.MaintainSigningKeys(ctx))
	require.Len(t, f.keys.keys, 1, "and it is deleted")
	require.NotEqual(t, first, f.keys.keys[0].ID)
}
