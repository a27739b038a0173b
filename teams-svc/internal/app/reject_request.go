package app

import (
	"context"
)

// RejectRequest settles a pending request as rejected (admins only).
func (a *App) RejectRequest(ctx context.Context, actor, teamID, requestID string) (RequestView, error) {
	if _, err := a.admin(ctx, teamID, actor); err != nil {
		return RequestView{}, err
	}
	r, err := a.teams.RejectRequest(ctx, teamID, requestID, actor, a.now())
	if err != nil {
		return RequestView{}, err
	}
	return RequestView{Request: r, User: a.resolveUser(ctx, r.UserID)}, nil
}
