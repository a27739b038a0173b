package app

import (
	"context"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// SetRole records a host's decision to promote or demote someone in the conference, so that
// the role holds for REST calls and later visits. The target must be a member of the team.
func (a *App) SetRole(ctx context.Context, confID, actorID, targetID string, role domain.Role) error {
	v, err := a.visibleToHost(ctx, confID, actorID)
	if err != nil {
		return err
	}
	if _, err := a.teams.Membership(ctx, v.Conference.TeamID, targetID); err != nil {
		return err
	}
	return a.confs.SetRole(ctx, confID, targetID, role)
}
