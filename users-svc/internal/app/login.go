package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/convene/convene/users-svc/internal/domain"
)

// Login checks a password and starts a new refresh-token family. An unknown account and a
// wrong password are the same error after the same amount of hashing work, so that the
// answer does not tell which accounts exist.
func (a *Application) Login(ctx context.Context, login, password string) (Session, error) {
	l, err := domain.ParseLogin(login, password)
	if err != nil {
		return Session{}, err
	}
	key := "login:u:" + l.UsernameKey
	if l.Email != "" {
		key = "login:e:" + l.Email
	}
	if err := a.loginLimiter.Allow(ctx, key); err != nil {
		if errors.Is(err, domain.ErrRateLimited) {
			return Session{}, err
		}
		// The limiter is a guard, not a dependency: when Redis is down, logins go on and
		// the gateway's per-IP limit still holds.
		a.log.WarnContext(ctx, "login limiter unavailable", "err", err)
	}

	var u domain.User
	if l.Email != "" {
		u, err = a.users.ByEmail(ctx, l.Email)
	} else {
		u, err = a.users.ByUsernameKey(ctx, l.UsernameKey)
	}
	switch {
	case errors.Is(err, domain.ErrUserNotFound):
		_, _ = a.hasher.Verify(password, a.dummyHash)
		return Session{}, domain.ErrInvalidCredentials
	case err != nil:
		return Session{}, err
	}
	ok, err := a.hasher.Verify(password, u.PasswordHash)
	if err != nil {
		return Session{}, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	if !ok {
		return Session{}, domain.ErrInvalidCredentials
	}

	now := a.now()
	access, err := a.accessToken(u, now)
	if err != nil {
		return Session{}, err
	}
	familyID, err := domain.NewID()
	if err != nil {
		return Session{}, err
	}
	refresh, secret, err := a.newRefreshToken(familyID, u.ID, now)
	if err != nil {
		return Session{}, err
	}
	if err := a.refreshTokens.StartFamily(ctx, refresh); err != nil {
		return Session{}, err
	}
	return a.session(u, access, refresh, secret), nil
}
