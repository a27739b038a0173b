package authn

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

type staticKeys map[string]ed25519.PublicKey

func (s staticKeys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

func validClaims(now time.Time) AccessClaims {
	return AccessClaims{Username: "ann", RegisteredClaims: jwt.RegisteredClaims{
		Subject: "u1", ID: "j1", Issuer: "convene", Audience: jwt.ClaimStrings{"convene-api"},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
	}}
}

func TestTokenVerifier(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	v := NewTokenVerifier(TokenVerifierParams{
		Keys: staticKeys{"k1": pub}, Issuer: "convene", Audience: "convene-api", Leeway: 5 * time.Second,
	})
	sign := func(mutate func(*AccessClaims)) string {
		c := validClaims(now)
		if mutate != nil {
			mutate(&c)
		}
		tok, err := SignAccessToken(priv, "k1", c)
		require.NoError(t, err)
		return tok
	}
	good := sign(nil)
	parts := strings.Split(good, ".")
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims(now)).SignedString([]byte(pub))
	require.NoError(t, err)
	noneTok, err := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	otherKey, err := SignAccessToken(otherPriv, "k1", validClaims(now))
	require.NoError(t, err)
	unknownKid, err := SignAccessToken(priv, "k9", validClaims(now))
	require.NoError(t, err)
	tamperedClaims := validClaims(now)
	tamperedClaims.Subject = "admin"
	payload, err := json.Marshal(tamperedClaims)
	require.NoError(t, err)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"valid", good, nil},
		{"within leeway after exp", sign(func(c *AccessClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-2 * time.Second)) }), nil},
		{"alg none", noneTok, ErrTokenInvalid},
		{"hs256 keyed with the public key", hs256, ErrTokenInvalid},
		{"signed by another key", otherKey, ErrTokenInvalid},
		{"unknown kid", unknownKid, ErrTokenInvalid},
		{"tampered payload", tampered, ErrTokenInvalid},
		{"expired", sign(func(c *AccessClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), ErrTokenExpired},
		{"expired and for another audience", sign(func(c *AccessClaims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
			c.Audience = jwt.ClaimStrings{"other"}
		}), ErrTokenInvalid},
		{"no exp", sign(func(c *AccessClaims) { c.ExpiresAt = nil }), ErrTokenInvalid},
		{"not yet valid", sign(func(c *AccessClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }), ErrTokenInvalid},
		{"wrong issuer", sign(func(c *AccessClaims) { c.Issuer = "evil" }), ErrTokenInvalid},
		{"wrong audience", sign(func(c *AccessClaims) { c.Audience = jwt.ClaimStrings{"other"} }), ErrTokenInvalid},
		{"no subject", sign(func(c *AccessClaims) { c.Subject = "" }), ErrTokenInvalid},
		{"no jti", sign(func(c *AccessClaims) { c.ID = "" }), ErrTokenInvalid},
		{"truncated", good[:len(good)-10], ErrTokenInvalid},
		{"two parts", parts[0] + "." + parts[1], ErrTokenInvalid},
		{"garbage", "not-a-token", ErrTokenInvalid},
		{"empty", "", ErrTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Verify(context.Background(), tc.token)
			if tc.want == nil {
				require.NoError(t, err)
				require.Equal(t, "u1", claims.Subject)
				require.Equal(t, "ann", claims.Username)
				require.Equal(t, "j1", claims.ID)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestJWKSCache(t *testing.T) {
	pub1, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pub2, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	var served atomic.Value
	served.Store(JWKS{Keys: []JWK{NewEd25519JWK("k1", pub1), {Kty: "RSA", Kid: "rsa"}}})
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(served.Load())
	}))
	defer srv.Close()
	now := time.Now()
	clock := func() time.Time { return now }
	c := NewJWKSCache(JWKSCacheParams{
		URL:        func(context.Context) (string, error) { return srv.URL, nil },
		MinRefetch: 10 * time.Second,
		Now:        clock,
	})
	ctx := context.Background()

	k, err := c.PublicKey(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, pub1, k)
	require.EqualValues(t, 1, fetches.Load())

	_, err = c.PublicKey(ctx, "k1")
	require.NoError(t, err)
	require.EqualValues(t, 1, fetches.Load(), "a known kid is served from the cache")

	_, err = c.PublicKey(ctx, "rsa")
	require.ErrorIs(t, err, ErrUnknownKey, "non-Ed25519 keys are not usable")
	for range 50 {
		_, err = c.PublicKey(ctx, "garbage")
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	require.EqualValues(t, 1, fetches.Load(), "unknown kids refetch at most once per MinRefetch")

	// users-svc rotates: k2 appears, k1 retires. After MinRefetch an unknown kid refetches.
	served.Store(JWKS{Keys: []JWK{NewEd25519JWK("k2", pub2)}})
	now = now.Add(11 * time.Second)
	k, err = c.PublicKey(ctx, "k2")
	require.NoError(t, err)
	require.Equal(t, pub2, k)
	require.EqualValues(t, 2, fetches.Load())
	_, err = c.PublicKey(ctx, "k1")
	require.ErrorIs(t, err, ErrUnknownKey, "a retired key stops verifying")
}

func TestJWKSCacheRetriesSoonerWhileUsersSvcIsDown(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(JWKS{Keys: []JWK{NewEd25519JWK("k1", pub)}})
	}))
	defer srv.Close()
	now := time.Now()
	c := NewJWKSCache(JWKSCacheParams{
		URL:        func(context.Context) (string, error) { return srv.URL, nil },
		MinRefetch: time.Minute, RetryAfterFailure: time.Second,
		Now: func() time.Time { return now },
	})
	_, err = c.PublicKey(context.Background(), "k1")
	require.ErrorIs(t, err, ErrUnknownKey)
	up.Store(true)
	_, err = c.PublicKey(context.Background(), "k1")
	require.ErrorIs(t, err, ErrUnknownKey, "still within RetryAfterFailure")
	now = now.Add(2 * time.Second)
	_, err = c.PublicKey(context.Background(), "k1")
	require.NoError(t, err)
}
