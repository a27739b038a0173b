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
