package app

import (
	"context"

	"github.com/convene/convene/teams-svc/internal/domain"
)

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
