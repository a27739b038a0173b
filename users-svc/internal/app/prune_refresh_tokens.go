package app

import "context"

// PruneRefreshTokens deletes expired refresh tokens, which no request can use any more.
// Spent tokens are kept until they expire: they are what detects a replay.
func (a *Application) PruneRefreshTokens(ctx context.Context) error {
	return a.refreshTokens.DeleteExpired(ctx, a.now())
}
