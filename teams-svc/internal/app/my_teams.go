package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

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
