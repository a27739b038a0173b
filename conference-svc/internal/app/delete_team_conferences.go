package app

import (
	"context"
	"errors"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// TeamsService is the caller identity teams-svc uses for its own calls.
const TeamsService = "service:teams-svc"

// DeleteTeamConferences removes every conference of a deleted team and ends their rooms.
// It is idempotent: a second call deletes nothing and succeeds. The caller must be teams-svc
// itself, or a user who is an admin of the team, or the team must already be gone — so that
// teams-svc may call it before or after it deletes the team, with its own identity or the
// admin's propagated one, while nobody else can wipe a team's conferences.
func (a *App) DeleteTeamConferences(ctx context.Context, teamID, caller string) (int, error) {
	if !ValidID(teamID) {
		return 0, domain.ErrNotFound
	}
	if caller != TeamsService {
		role, err := a.teams.Membership(ctx, teamID, caller)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			// The team is gone: the case this call exists for.
		case errors.Is(err, domain.ErrNotMember):
			return 0, domain.ErrForbidden
		case err != nil:
			return 0, err
		case role != domain.TeamAdmin:
			return 0, domain.ErrForbidden
		}
	}
	ids, err := a.confs.DeleteByTeam(ctx, teamID)
	if err != nil {
		return 0, err
	}
	if a.rooms != nil && len(ids) > 0 {
		a.rooms.Closed(ids...)
	}
	return len(ids), nil
}
