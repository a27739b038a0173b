package app

import (
	"context"
	"errors"

	"github.com/convene/convene/users-svc/internal/domain"
)

// Logout revokes the refresh family of secret when it belongs to userID. Logging out is
// idempotent: an unknown, already revoked or foreign token changes nothing and is no
// error, so that the answer reveals nothing about other sessions. (The access token's jti
// is revoked by the gateway, which sees the logout pass through.)
func (a *Application) Logout(ctx context.Context, userID, secret string) error {
	if secret == "" {
		return domain.ErrRefreshTokenRequired
	}
	hash, err := domain.HashRefreshSecret(secret)
	if err != nil {
		return err
	}
	t, err := a.refreshTokens.ByHash(ctx, hash)
	if errors.Is(err, domain.ErrRefreshTokenInvalid) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.UserID != userID {
		return nil
	}
	return a.refreshTokens.RevokeFamily(ctx, t.FamilyID, a.now())
}
