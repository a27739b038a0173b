package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// ChangeRole makes a member an admin or a plain member (admins only); the last admin
// cannot be demoted.
func (a *App) ChangeRole(ctx context.Context, actor, teamID, userID, role string) (MemberView, error) {
	r, err := domain.ParseRole(role)
	if err != nil {
		return MemberView{}, err
	}
	m, err := a.teams.ChangeRole(ctx, teamID, actor, userID, r, func(c domain.RosterChange) error {
		return c.ChangeRole(r)
	})
	if err != nil {
		return MemberView{}, err
	}
	a.members.Forget(ctx, teamID, userID)
	return MemberView{Membership: m, User: a.resolveUser(ctx, userID)}, nil
}
