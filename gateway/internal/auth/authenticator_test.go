package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/platform/authn"
)

// countingVerifier accepts tokens named "valid-*" for an hour and counts how often it
// was asked, standing in for the Ed25519 check.
type countingVerifier struct {
	calls atomic.Int32
	exp   time.Time
}

func (v *countingVerifier) Verify(_ context.Context, token string) (authn.AccessClaims, error) {
	v.calls.Add(1)
	switch {
	case token == "expired":
		return authn.AccessClaims{}, authn.ErrTokenExpired
	case len(token) > 6 && token[:6] == "valid-":
		return authn.AccessClaims{Username: "ann", RegisteredClaims: jwt.RegisteredClaims{
			Subject: "u1", ID: "jti-" + token, ExpiresAt: jwt.NewNumericDate(v.exp),
		}}, nil
	}
	return authn.AccessClaims{}, authn.ErrTokenInvalid
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }
func newClock(t time.Time) *clock    { return &clock{now: t} }
func discard() *slog.Logger          { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func newRevocations() *Revocations   { return NewRevocations(nil, discard()) }
func ctx() context.Context           { return context.Background() }

func newAuthenticator(v Verifier, clk *clock, size int) *Authenticator {
	return NewAuthenticator(AuthenticatorParams{
		Verifier: v, Signer: authn.NewSigner("0123456789abcdef-secret"), Revocations: newRevocations(),
		CacheSize: size, Now: clk.Now,
	})
}

func TestAuthenticateErrors(t *testing.T) {
	clk := newClock(time.Now())
	a := newAuthenticator(&countingVerifier{exp: clk.Now().Add(time.Hour)}, clk, 100)
	cases := []struct {
		token string
		want  error
	}{
		{"", ErrUnauthenticated},
		{"garbage", ErrUnauthenticated},
		{"expired", ErrTokenExpired},
		{"valid-1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			s, err := a.Authenticate(ctx(), tc.token)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "u1", s.UserID)
			require.Equal(t, "ann", s.Username)
		})
	}
}

func TestVerifiedTokenCache(t *testing.T) {
	clk := newClock(time.Now())
	v := &countingVerifier{exp: clk.Now().Add(10 * time.Minute)}
	a := newAuthenticator(v, clk, 100)

	for range 100 {
		_, err := a.Authenticate(ctx(), "valid-a")
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, v.calls.Load(), "the signature is checked once per token")
	_, err := a.Authenticate(ctx(), "valid-b")
	require.NoError(t, err)
	require.EqualValues(t, 2, v.calls.Load())

	// Past its expiry a cached token goes back to the verifier, which refuses it.
	clk.Add(11 * time.Minute)
	v.exp = clk.Now().Add(-time.Minute)
	_, err = a.Authenticate(ctx(), "expired")
	require.ErrorIs(t, err, ErrTokenExpired)
	before := v.calls.Load()
	_, _ = a.Authenticate(ctx(), "valid-a")
	require.Equal(t, before+1, v.calls.Load(), "an expired cache entry is not served")
}

func TestVerifiedTokenCacheIsBounded(t *testing.T) {
	clk := newClock(time.Now())
	a := newAuthenticator(&countingVerifier{exp: clk.Now().Add(time.Hour)}, clk, 64)
	for i := range 5000 {
		_, err := a.Authenticate(ctx(), fmt.Sprintf("valid-%d", i))
		require.NoError(t, err)
	}
	require.LessOrEqual(t, a.cache.len(), 64+cacheShards)
}

func TestRevokedTokenRefusedEvenWhenCached(t *testing.T) {
	clk := newClock(time.Now())
	a := newAuthenticator(&countingVerifier{exp: clk.Now().Add(time.Hour)}, clk, 100)
	s, err := a.Authenticate(ctx(), "valid-x")
	require.NoError(t, err)
	require.NoError(t, a.Revoke(ctx(), s))
	_, err = a.Authenticate(ctx(), "valid-x")
	require.ErrorIs(t, err, ErrTokenRevoked)
	_, err = a.Authenticate(ctx(), "valid-y")
	require.NoError(t, err, "other sessions are unaffected")
}

func TestIdentityHeaderIsSignedAgainBeforeItExpires(t *testing.T) {
	clk := newClock(time.Now())
	a := newAuthenticator(&countingVerifier{exp: clk.Now().Add(time.Hour)}, clk, 100)
	s, err := a.Authenticate(ctx(), "valid-x")
	require.NoError(t, err)
	first := a.IdentityHeader(s)
	id, err := authn.NewSigner("0123456789abcdef-secret").Verify(first)
	require.NoError(t, err)
	require.Equal(t, authn.Identity{UserID: "u1", Username: "ann", TokenID: "jti-valid-x", Expires: id.Expires}, id)

	signedAt := s.identity.p.Load().signedAt
	clk.Add(30 * time.Second)
	require.Equal(t, first, a.IdentityHeader(s), "reused while fresh")
	require.Equal(t, signedAt, s.identity.p.Load().signedAt)
	clk.Add(31 * time.Second)
	a.IdentityHeader(s)
	require.Equal(t, clk.Now(), s.identity.p.Load().signedAt, "signed again after a minute")
}

func TestRevocationsExpire(t *testing.T) {
	r := newRevocations()
	now := time.Now()
	require.NoError(t, r.Revoke(ctx(), "j1", now.Add(time.Minute)))
	require.True(t, r.IsRevoked("j1", now))
	require.False(t, r.IsRevoked("j2", now))
	require.False(t, r.IsRevoked("j1", now.Add(2*time.Minute)))
	r.sweep(now.Add(2 * time.Minute))
	require.Empty(t, r.jtis)
}
