package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// DeleteTeam removes a team and everything in it (admins only). conference-svc learns of
// it through the outbox: the event is stored in the deleting transaction, so that an
// outage of conference-svc delays the news but never loses it.
func (a *App) DeleteTeam(ctx context.Context, actor, teamID string) error {
	if _, err := a.admin(ctx, teamID, actor); err != nil {
		return err
	}
	members, err := a.teams.DeleteTeam(ctx, teamID, domain.NewTeamDeleted(teamID, a.now()))
	if err != nil {
		return err
	}
	a.members.Forget(ctx, teamID, members...)
	a.relay.Wake()
	return nil
}
