package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
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

// MyTeams lists the teams actor belongs to, newest first.
func (a *App) MyTeams(ctx context.Context, actor string, p domain.Page) (domain.Paged[TeamView], error) {
	res, err := a.teams.TeamsOf(ctx, actor, p)
	if err != nil {
		return domain.Paged[TeamView]{}, err
	}
	out := domain.Paged[TeamView]{Items: make([]TeamView, len(res.Items)), Next: res.Next}
	for i, tm := range res.Items {
		out.Items[i] = TeamView{Team: tm.Team, Role: tm.Membership.Role}
	}
	return out, nil
}
