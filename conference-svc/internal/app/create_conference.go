package app

import (
	"context"
	"time"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// CreateConference is the input of a new conference.
type CreateConference struct {
	TeamID      string
	UserID      string
	Title       string
	StartsAt    time.Time
	WaitingRoom bool
	// IdempotencyKey makes a retried create return the first result instead of a duplicate.
	IdempotencyKey string
}

// CreateConference schedules a conference in a team the user belongs to; the user becomes
// its host. created is false when IdempotencyKey matched an earlier create.
func (a *App) CreateConference(ctx context.Context, in CreateConference) (v View, created bool, err error) {
	if _, err := a.requireMember(ctx, in.TeamID, in.UserID); err != nil {
		return View{}, false, err
	}
	c, err := domain.NewConference(domain.NewConferenceParams{
		ID:          a.newID(),
		TeamID:      in.TeamID,
		Title:       in.Title,
		StartsAt:    in.StartsAt,
		WaitingRoom: in.WaitingRoom,
		CreatedBy:   in.UserID,
		Now:         a.now(),
	})
	if err != nil {
		return View{}, false, err
	}
	stored, created, err := a.confs.Create(ctx, c, in.IdempotencyKey)
	if err != nil {
		return View{}, false, err
	}
	if stored.TeamID != in.TeamID {
		// The key was used for another team's conference: reusing a key for a different
		// request is a client error, not a silent success.
		return View{}, false, domain.ErrConflict
	}
	return View{Conference: stored, Role: domain.RoleHost}, created, nil
}
