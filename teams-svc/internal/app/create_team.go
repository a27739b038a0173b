package app

import (
	"context"
	"errors"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// joinCodeDraws bounds the retries after a join code collision, which at 2^59 codes
// means a broken random source rather than bad luck.
const joinCodeDraws = 3

// CreateTeam creates a team whose creator is its first admin.
func (a *App) CreateTeam(ctx context.Context, actor, name, description string) (TeamView, error) {
	now := a.now()
	t, err := domain.NewTeam(name, description, now)
	if err != nil {
		return TeamView{}, err
	}
	admin := domain.NewMembership(t.ID, actor, domain.RoleAdmin, now)
	for range joinCodeDraws {
		if err = a.teams.CreateTeam(ctx, t, admin); !errors.Is(err, domain.ErrJoinCodeTaken) {
			break
		}
		t.JoinCode = domain.NewJoinCode()
	}
	if err != nil {
		return TeamView{}, err
	}
	return TeamView{Team: t, Role: domain.RoleAdmin}, nil
}
