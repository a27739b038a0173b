package domain

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestThumbprintRFC8037(t *testing.T) {
	t.Parallel()
	// RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	require.NoError(t, err)
	require.Equal(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", Thumbprint(ed25519.PublicKey(x)))
}

func TestKeyRing(t *testing.T) {
	t.Parallel()
	policy := KeyPolicy{RotationInterval: 24 * time.Hour, TokenTTL: 15 * time.Minute, ReloadInterval: time.Minute, ClockSkew: time.Minute}
	day := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	key := func(slot time.Time) SigningKey {
		k, err := NewSigningKey(slot, slot.Add(time.Second))
		require.NoError(t, err)
		return k
	}
	old, cur := key(day.Add(-24*time.Hour)), key(day)
	retention := 17 * time.Minute // reload + token TTL + skew

	cases := []struct {
		name      string
		keys      []SigningKey
		now       time.Time
		needsKey  bool
		signer    string
		published []string
		retired   []string
	}{
		{"empty", nil, day, true, "", nil, nil},
		{"one key, its window", []SigningKey{cur}, day.Add(time.Hour), false, cur.ID, []string{cur.ID}, nil},
		{"one key, next window", []SigningKey{cur}, day.Add(25 * time.Hour), true, cur.ID, []string{cur.ID}, nil},
		{"old key kept while its tokens live", []SigningKey{cur, old}, cur.CreatedAt.Add(retention - time.Second), false, cur.ID, []string{old.ID, cur.ID}, nil},
		{"old key retired after", []SigningKey{old, cur}, cur.CreatedAt.Add(retention), false, cur.ID, []string{cur.ID}, []string{old.ID}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ring := NewKeyRing(policy, tc.keys)
			require.Equal(t, tc.needsKey, ring.NeedsKey(tc.now))
			signer, err := ring.Signer()
			if tc.signer == "" {
				require.ErrorIs(t, err, ErrNoSigningKey)
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.signer, signer.ID)
			}
			var published []string
			for _, k := range ring.Published(tc.now) {
				published = append(published, k.ID)
			}
			require.Equal(t, tc.published, published)
			require.Equal(t, tc.retired, ring.Retired(tc.now))
		})
	}
}

func TestSigningKeyFromSeedRoundTrip(t *testing.T) {
	t.Parallel()
	slot := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	k, err := NewSigningKey(slot, slot)
	require.NoError(t, err)
	again := SigningKeyFromSeed(k.PrivateKey.Seed(), slot, slot)
	require.Equal(t, k.ID, again.ID)
	require.True(t, ed25519.Verify(again.PublicKey(), []byte("m"), ed25519.Sign(k.PrivateKey, []byte("m"))))
}
