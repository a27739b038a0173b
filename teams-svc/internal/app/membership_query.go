package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// Caller is who asks a gRPC question: another service on its own behalf, or a service
// passing on its end user's identity.
type Caller struct {
	UserID  string
	Service bool
}

// Membership answers whether userID belongs to the team (for other services). A service
// may ask anything; a user may ask about themself, or about anyone in a team they belong
// to. ErrNotFound: no such team (or not visible); ErrNotMember: the team exists and the
// user is not in it.
func (a *App) Membership(ctx context.Context, caller Caller, teamID, userID string) (domain.Membership, error) {
	if !caller.Service && caller.UserID != userID {
		if _, err := a.member(ctx, teamID, caller.UserID); err != nil {
			return domain.Membership{}, err
		}
	}
	return a.members.Membership(ctx, teamID, userID)
}

// AllMembers lists every member of the team (for other services); a user caller must be
// a member.
func (a *App) AllMembers(ctx context.Context, caller Caller, teamID string) ([]domain.Membership, error) {
	if !caller.Service {
		if _, err := a.member(ctx, teamID, caller.UserID); err != nil {
			return nil, err
		}
	}
	return a.members.AllMembers(ctx, teamID)
}
