package domain

import (
	"context"
	"time"
)

// UserRepository stores accounts. Lookups that find nothing return ErrUserNotFound.
type UserRepository interface {
	// Create stores u; a taken email or username (case-insensitively) is ErrEmailTaken or
	// ErrUsernameTaken, decided by the database's unique indexes.
	Create(ctx context.Context, u User) error
	ByID(ctx context.Context, id string) (User, error)
	// ByIDs returns the users that exist among ids, in no particular order.
	ByIDs(ctx context.Context, ids []string) ([]User, error)
	ByEmail(ctx context.Context, normalizedEmail string) (User, error)
	ByUsernameKey(ctx context.Context, usernameKey string) (User, error)
}

// RefreshTokenRepository stores refresh-token families.
type RefreshTokenRepository interface {
	// StartFamily stores the first token of a new family.
	StartFamily(ctx context.Context, first RefreshToken) error
	// Rotate loads the token with the given hash, locked against concurrent exchanges,
	// passes it to next, and atomically marks it spent and stores the successor next
	// returns. An unknown hash is ErrRefreshTokenInvalid; an error from next is returned
	// unchanged and nothing is written.
	Rotate(ctx context.Context, hash string, next func(current RefreshToken) (RefreshToken, error)) error
	// ByHash returns the token with the given hash, spent or not.
	ByHash(ctx context.Context, hash string) (RefreshToken, error)
	// RevokeFamily makes every token of the family unusable; revoking twice is no error.
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// DeleteExpired removes tokens that expired before now and families left empty.
	DeleteExpired(ctx context.Context, now time.Time) error
}

// SigningKeyRepository stores the access-token signing keys shared by every instance.
type SigningKeyRepository interface {
	List(ctx context.Context) ([]SigningKey, error)
	// Create stores k; a key for the same slot already stored is ErrKeySlotTaken.
	Create(ctx context.Context, k SigningKey) error
	Delete(ctx context.Context, ids []string) error
}

// PasswordHasher hashes passwords into a self-describing (PHC) string and checks them.
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded, in time that does not depend on
	// where they differ.
	Verify(password, encoded string) (bool, error)
}

// AccessTokenSigner turns claims into a signed token.
type AccessTokenSigner interface {
	Sign(key SigningKey, claims AccessClaims) (string, error)
}

// AttemptLimiter bounds how often something may be tried per key (login attempts per
// account). It returns a *RateLimitedError when the key is over its limit.
type AttemptLimiter interface {
	Allow(ctx context.Context, key string) error
}
