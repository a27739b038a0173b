package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// UpdateTeam renames or re-describes a team (admins only); nil fields stay as they are.
func (a *App) UpdateTeam(ctx context.Context, actor, teamID string, name, description *string) (TeamView, error) {
	// Validate before touching anything, so that bad input is a 400 whoever sends it.
	var probe domain.Team
	if err := probe.Update(name, description); err != nil {
		return TeamView{}, err
	}
	m, err := a.admin(ctx, teamID, actor)
	if err != nil {
		return TeamView{}, err
	}
	t, err := a.teams.Team(ctx, teamID)
	if err != nil {
		return TeamView{}, err
	}
	if err := t.Update(name, description); err != nil {
		return TeamView{}, err
	}
	if err := a.teams.UpdateTeam(ctx, t); err != nil {
		return TeamView{}, err
	}
	return TeamView{Team: t, Role: m.Role}, nil
}

// RotateJoinCode gives the team a new join code; the old one stops working at once.
func (a *App) RotateJoinCode(ctx context.Context, actor, teamID string) (string, error) {
	if _, err := a.admin(ctx, teamID, actor); err != nil {
		return "", err
	}
	var err error
	for range joinCodeDraws {
		code := domain.NewJoinCode()
		if err = a.teams.SetJoinCode(ctx, teamID, code); err == nil {
			return code, nil
		}
		if err != domain.ErrJoinCodeTaken {
			return "", err
		}
	}
	return "", err
}
