package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// refreshSecretBytes is the entropy of a refresh token (256 bits).
const refreshSecretBytes = 32

// RefreshToken is one link of a refresh-token family. A family starts at login; every
// refresh spends the current token and adds its successor to the same family, so that
// reusing a spent token can revoke everything descended from that login.
type RefreshToken struct {
	ID       string
	FamilyID string
	UserID   string
	// Hash is the SHA-256 of the secret; the secret itself is never stored.
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// SpentAt is zero until the token is exchanged.
	SpentAt time.Time
	// FamilyRevokedAt is zero while the family is alive.
	FamilyRevokedAt time.Time
}

// NewRefreshSecret returns a fresh opaque token for the client and the hash to store.
func NewRefreshSecret() (secret, hash string, err error) {
	b := make([]byte, refreshSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(b), nil
}

// HashRefreshSecret returns the stored form of a token the client presented; a token that
// this service cannot have issued is ErrRefreshTokenMalformed without any lookup.
func HashRefreshSecret(secret string) (string, error) {
	if len(secret) != base64.RawURLEncoding.EncodedLen(refreshSecretBytes) {
		return "", ErrRefreshTokenMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil {
		return "", ErrRefreshTokenMalformed
	}
	return hashSecret(b), nil
}

func hashSecret(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Successor checks that t may be exchanged now and returns the token that replaces it.
// A spent token is ErrRefreshTokenReused: the caller must revoke the family.
func (t RefreshToken) Successor(id, hash string, now time.Time, ttl time.Duration) (RefreshToken, error) {
	switch {
	case !t.FamilyRevokedAt.IsZero():
		return RefreshToken{}, ErrRefreshTokenInvalid
	case !t.SpentAt.IsZero():
		return RefreshToken{}, ErrRefreshTokenReused
	case !now.Before(t.ExpiresAt):
		return RefreshToken{}, ErrRefreshTokenInvalid
	}
	return RefreshToken{
		ID:        id,
		FamilyID:  t.FamilyID,
		UserID:    t.UserID,
		Hash:      hash,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	}, nil
}
