package app

import (
	"context"
	"strings"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// AddMember adds the user with this email address as a member (admins only).
func (a *App) AddMember(ctx context.Context, actor, teamID, email string) (MemberView, error) {
	if err := domain.CheckEmail(email); err != nil {
		return MemberView{}, err
	}
	if _, err := a.admin(ctx, teamID, actor); err != nil {
		return MemberView{}, err
	}
	u, err := a.users.UserByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return MemberView{}, err
	}
	m := domain.NewMembership(teamID, u.ID, domain.RoleMember, a.now())
	if err := a.teams.AddMember(ctx, m, actor); err != nil {
		return MemberView{}, err
	}
	a.members.Forget(ctx, teamID, u.ID)
	return MemberView{Membership: m, User: u}, nil
}
