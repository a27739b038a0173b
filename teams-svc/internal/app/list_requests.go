package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// PendingRequests lists a team's pending join requests (admins only), newest first.
func (a *App) PendingRequests(ctx context.Context, actor, teamID string, p domain.Page) (domain.Paged[RequestView], error) {
	if _, err := a.admin(ctx, teamID, actor); err != nil {
		return domain.Paged[RequestView]{}, err
	}
	res, err := a.teams.PendingRequests(ctx, teamID, p)
	if err != nil {
		return domain.Paged[RequestView]{}, err
	}
	ids := make([]string, len(res.Items))
	for i, r := range res.Items {
		ids[i] = r.UserID
	}
	users := a.resolveUsers(ctx, ids)
	out := domain.Paged[RequestView]{Items: make([]RequestView, len(res.Items)), Next: res.Next}
	for i, r := range res.Items {
		out.Items[i] = RequestView{Request: r, User: users[r.UserID]}
	}
	return out, nil
}
