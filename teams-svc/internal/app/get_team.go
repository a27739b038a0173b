package app

import (
	"context"
)

// GetTeam returns a team to one of its members.
func (a *App) GetTeam(ctx context.Context, actor, teamID string) (TeamView, error) {
	m, err := a.member(ctx, teamID, actor)
	if err != nil {
		return TeamView{}, err
	}
	t, err := a.teams.Team(ctx, teamID)
	if err != nil {
		return TeamView{}, err
	}
	return TeamView{Team: t, Role: m.Role}, nil
}
