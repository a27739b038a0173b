package app

import "context"

// GetConference returns a conference and the caller's role in it, to members of its team.
func (a *App) GetConference(ctx context.Context, confID, userID string) (View, error) {
	return a.visible(ctx, confID, userID)
}
