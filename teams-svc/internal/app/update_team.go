package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// UpdateTeam renames or re-describes a team (admins only); nil fields stay as they are.
func (a *App) UpdateTeam(ctx context.Context, actor, teamID string, name, description *string) (TeamView, error) {
	// Validate before touching anything, so that bad input is a 400 whoever sends it.
	var probe domain.Team
	if err := probe.Update(name, description); err != nil {
		return TeamView{}, err
	}
	m, err := a.admin(ctx, teamID, actor)
	if err != nil {
		return TeamView{}, err
	}
	t, err := a.teams.Team(ctx, teamID)
	if err != nil {
		return TeamView{}, err
	}
	if err := t.Update(name, description); err != nil {
		return TeamView{}, err
	}
	if err := a.teams.UpdateTeam(ctx, t); err != nil {
		return TeamView{}, err
	}
	return TeamView{Team: t, Role: m.Role}, nil
}
