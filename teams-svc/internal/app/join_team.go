package app

import (
	"context"
	"errors"

	"github.com/convene/convene/teams-svc/internal/domain"
)

// Join asks to join the team whose join code this is. A wrong code says nothing about
// which teams exist, and a user who sends too many wrong codes is blocked for a while —
// before the code is even looked at, so that the answer cannot tell a right code from a
// wrong one while blocked.
func (a *App) Join(ctx context.Context, actor, code string) (RequestView, error) {
	norm, err := domain.NormalizeJoinCode(code)
	var verr *domain.ValidationError
	if errors.As(err, &verr) {
		return RequestView{}, err
	}
	if a.attempts.Blocked(ctx, actor) {
		return RequestView{}, domain.ErrRateLimited
	}
	var team domain.Team
	if err == nil {
		team, err = a.teams.TeamByJoinCode(ctx, norm)
		if errors.Is(err, domain.ErrNotFound) {
			err = domain.ErrInvalidCode
		}
	}
	if errors.Is(err, domain.ErrInvalidCode) {
		if a.attempts.Failed(ctx, actor) {
			return RequestView{}, domain.ErrRateLimited
		}
		return RequestView{}, err
	}
	if err != nil {
		return RequestView{}, err
	}
	r := domain.NewJoinRequest(team.ID, actor, a.now())
	if err := a.teams.CreateJoinRequest(ctx, r); err != nil {
		return RequestView{}, err
	}
	return RequestView{Request: r, User: a.resolveUser(ctx, actor)}, nil
}
