package app

import (
	"context"
)

// AcceptRequest makes the requester a member (admins only). Accepting twice, or a
// rejected request, is ErrRequestNotPending; of two admins accepting at once, one wins.
func (a *App) AcceptRequest(ctx context.Context, actor, teamID, requestID string) (MemberView, error) {
	if _, err := a.admin(ctx, teamID, actor); err != nil {
		return MemberView{}, err
	}
	r, m, err := a.teams.AcceptRequest(ctx, teamID, requestID, actor, a.now())
	if err != nil {
		return MemberView{}, err
	}
	a.members.Forget(ctx, teamID, r.UserID)
	return MemberView{Membership: m, User: a.resolveUser(ctx, m.UserID)}, nil
}
