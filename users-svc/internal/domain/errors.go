// Package domain holds users-svc's types and their rules: accounts, refresh-token families
// and signing keys. It imports nothing of the project; the app layer drives it through the
// interfaces in repository.go.
package domain

import (
	"errors"
	"time"
)

// Sentinel errors. Adapters translate their own failures into these; ports translate these
// into HTTP statuses and API.md codes, or gRPC codes.
var (
	ErrUserNotFound       = errors.New("user not found")
	ErrEmailTaken         = errors.New("email already registered")
	ErrUsernameTaken      = errors.New("username already taken")
	ErrInvalidCredentials = errors.New("invalid credentials")

	ErrUsernameRequired = errors.New("username is required")
	ErrUsernameInvalid  = errors.New("username must be 3-32 characters of letters, digits, '_', '.' or '-'")
	ErrEmailRequired    = errors.New("email is required")
	ErrEmailInvalid     = errors.New("email is not a valid address")
	ErrPasswordRequired = errors.New("password is required")
	ErrPasswordTooShort = errors.New("password must be at least 8 characters")
	ErrPasswordTooLong  = errors.New("password must be at most 256 bytes")
	ErrLoginRequired    = errors.New("login is required")
	ErrLoginTooLong     = errors.New("login must be at most 254 characters")
	ErrInvalidID        = errors.New("malformed id")
	ErrTooManyIDs       = errors.New("too many ids in one call")

	// ErrRefreshTokenRequired means neither the body nor the cookie carried a refresh token.
	ErrRefreshTokenRequired = errors.New("refresh token is required")
	// ErrRefreshTokenMalformed means the token cannot be one this service issued.
	ErrRefreshTokenMalformed = errors.New("refresh token is malformed")
	// ErrRefreshTokenInvalid covers unknown, expired and revoked refresh tokens.
	ErrRefreshTokenInvalid = errors.New("refresh token is invalid or expired")
	// ErrRefreshTokenReused means a spent refresh token was presented again; its family is
	// revoked.
	ErrRefreshTokenReused = errors.New("refresh token was already used; the session is revoked")

	// ErrKeySlotTaken means another instance already created the signing key of a
	// rotation window.
	ErrKeySlotTaken = errors.New("signing key for this rotation window exists")
	// ErrNoSigningKey means no key is loaded yet; the service does not serve before it has one.
	ErrNoSigningKey = errors.New("no signing key")

	ErrRateLimited = errors.New("too many attempts")
)

// RateLimitedError tells when the caller may try again; errors.Is(err, ErrRateLimited) holds.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string { return ErrRateLimited.Error() }

// Unwrap lets errors.Is match ErrRateLimited.
func (e *RateLimitedError) Unwrap() error { return ErrRateLimited }
