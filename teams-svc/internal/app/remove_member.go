package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// RemoveMember removes a member (admins), or lets a member leave; the last admin stays.
func (a *App) RemoveMember(ctx context.Context, actor, teamID, userID string) error {
	err := a.teams.RemoveMember(ctx, teamID, actor, userID, func(c domain.RosterChange) error {
		return c.Remove()
	})
	if err != nil {
		return err
	}
	a.members.Forget(ctx, teamID, userID)
	return nil
}
