package app

import (
	"context"
	"strings"

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

// RemoveMember removes a member (admins), or lets a member leave; the last admin stays.
func (a *App) RemoveMember(ctx context.Context, actor, teamID, userID string) error {
	err := a.teams.RemoveMember(ctx, teamID, actor, userID, func(c domain.RosterChange) error {
		return c.Remove()
	})
	if err != nil {
		return err
	}
	a.members.Forget(ctx, teamID, userID)
	return nil
}
