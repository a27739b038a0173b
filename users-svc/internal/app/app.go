// Package app holds users-svc's use cases, one file per command or query. It knows only the
// domain and its interfaces; ports call it, adapters implement what it needs.
package app

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/convene/convene/users-svc/internal/domain"
)

// Policy holds the token settings.
type Policy struct {
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	Issuer     string
	Audience   string
	Keys       domain.KeyPolicy
}

// Params are the application's dependencies.
type Params struct {
	Users         domain.UserRepository
	RefreshTokens domain.RefreshTokenRepository
	SigningKeys   domain.SigningKeyRepository
	Hasher        domain.PasswordHasher
	Signer        domain.AccessTokenSigner
	LoginLimiter  domain.AttemptLimiter
	Policy        Policy
	Log           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Application runs the use cases.
type Application struct {
	users         domain.UserRepository
	refreshTokens domain.RefreshTokenRepository
	signingKeys   domain.SigningKeyRepository
	hasher        domain.PasswordHasher
	signer        domain.AccessTokenSigner
	loginLimiter  domain.AttemptLimiter
	policy        Policy
	log           *slog.Logger
	now           func() time.Time

	// dummyHash is what a login for an unknown account is checked against, so that it
	// costs the same time as a wrong password for a real one.
	dummyHash string

	ringMu sync.RWMutex
	ring   domain.KeyRing
}

// New returns the application. It hashes a throwaway password once, for dummyHash.
func New(p Params) (*Application, error) {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	secret, _, err := domain.NewRefreshSecret()
	if err != nil {
		return nil, err
	}
	dummy, err := p.Hasher.Hash(secret)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	return &Application{
		users:         p.Users,
		refreshTokens: p.RefreshTokens,
		signingKeys:   p.SigningKeys,
		hasher:        p.Hasher,
		signer:        p.Signer,
		loginLimiter:  p.LoginLimiter,
		policy:        p.Policy,
		log:           p.Log,
		now:           func() time.Time { return now().UTC() },
		dummyHash:     dummy,
		ring:          domain.NewKeyRing(p.Policy.Keys, nil),
	}, nil
}
