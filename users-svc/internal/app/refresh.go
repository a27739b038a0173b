package app

import (
	"context"
	"errors"

	"github.com/convene/convene/users-svc/internal/domain"
)

// Refresh exchanges a refresh token for a new pair. The presented token is spent in the
// same transaction that stores its successor; presenting a spent token again revokes the
// whole family, as a stolen copy cannot be told from the original. Two concurrent
// exchanges of one token are such a reuse too: exactly one gets the new pair, the other
// a 401, and the family ends.
func (a *Application) Refresh(ctx context.Context, secret string) (Session, error) {
	if secret == "" {
		return Session{}, domain.ErrRefreshTokenRequired
	}
	hash, err := domain.HashRefreshSecret(secret)
	if err != nil {
		return Session{}, err
	}
	// Everything that can fail is done before the token is spent, so that a failure does
	// not leave the client holding a spent token whose retry would revoke its session.
	current, err := a.refreshTokens.ByHash(ctx, hash)
	if err != nil {
		return Session{}, err
	}
	u, err := a.users.ByID(ctx, current.UserID)
	if errors.Is(err, domain.ErrUserNotFound) {
		return Session{}, domain.ErrRefreshTokenInvalid
	}
	if err != nil {
		return Session{}, err
	}
	now := a.now()
	access, err := a.accessToken(u, now)
	if err != nil {
		return Session{}, err
	}
	next, newSecret, err := a.newRefreshToken(current.FamilyID, u.ID, now)
	if err != nil {
		return Session{}, err
	}

	err = a.refreshTokens.Rotate(ctx, hash, func(locked domain.RefreshToken) (domain.RefreshToken, error) {
		return locked.Successor(next.ID, next.Hash, now, a.policy.RefreshTTL)
	})
	if errors.Is(err, domain.ErrRefreshTokenReused) {
		if rerr := a.refreshTokens.RevokeFamily(ctx, current.FamilyID, now); rerr != nil {
			return Session{}, rerr
		}
		a.log.WarnContext(ctx, "spent refresh token reused; family revoked", "user_id", u.ID, "family_id", current.FamilyID)
		return Session{}, err
	}
	if err != nil {
		return Session{}, err
	}
	return a.session(u, access, next, newSecret), nil
}
