package domain

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRefreshSecret(t *testing.T) {
	t.Parallel()
	secret, hash, err := NewRefreshSecret()
	require.NoError(t, err)
	require.Len(t, secret, 43, "256 bits, base64url")
	got, err := HashRefreshSecret(secret)
	require.NoError(t, err)
	require.Equal(t, hash, got)
	require.NotContains(t, hash, secret)

	other, _, err := NewRefreshSecret()
	require.NoError(t, err)
	require.NotEqual(t, secret, other)

	for _, bad := range []string{"", "short", secret + "x", strings.Repeat("!", 43)} {
		_, err := HashRefreshSecret(bad)
		require.ErrorIs(t, err, ErrRefreshTokenMalformed, bad)
	}
}

func TestRefreshTokenSuccessor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	live := RefreshToken{ID: "a", FamilyID: "f", UserID: "u", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	cases := []struct {
		name   string
		mutate func(*RefreshToken)
		err    error
	}{
		{"live", func(*RefreshToken) {}, nil},
		{"spent", func(t *RefreshToken) { t.SpentAt = now.Add(-time.Minute) }, ErrRefreshTokenReused},
		{"expired", func(t *RefreshToken) { t.ExpiresAt = now }, ErrRefreshTokenInvalid},
		{"family revoked", func(t *RefreshToken) { t.FamilyRevokedAt = now.Add(-time.Minute) }, ErrRefreshTokenInvalid},
		{"spent in revoked family", func(t *RefreshToken) {
			t.SpentAt = now.Add(-time.Minute)
			t.FamilyRevokedAt = now
		}, ErrRefreshTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cur := live
			tc.mutate(&cur)
			next, err := cur.Successor("b", "h", now, 24*time.Hour)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, RefreshToken{ID: "b", FamilyID: "f", UserID: "u", Hash: "h", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}, next)
		})
	}
}
