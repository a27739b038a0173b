package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// Members lists a team's members with their roles, newest first.
func (a *App) Members(ctx context.Context, actor, teamID string, p domain.Page) (domain.Paged[MemberView], error) {
	if _, err := a.member(ctx, teamID, actor); err != nil {
		return domain.Paged[MemberView]{}, err
	}
	res, err := a.teams.Members(ctx, teamID, p)
	if err != nil {
		return domain.Paged[MemberView]{}, err
	}
	ids := make([]string, len(res.Items))
	for i, m := range res.Items {
		ids[i] = m.UserID
	}
	users := a.resolveUsers(ctx, ids)
	out := domain.Paged[MemberView]{Items: make([]MemberView, len(res.Items)), Next: res.Next}
	for i, m := range res.Items {
		out.Items[i] = MemberView{Membership: m, User: users[m.UserID]}
	}
	return out, nil
}
