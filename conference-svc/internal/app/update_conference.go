package app

import (
	"context"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// UpdateConference applies a host's edit; a live room picks up the new waiting-room setting.
func (a *App) UpdateConference(ctx context.Context, confID, userID string, p domain.Patch) (View, error) {
	v, err := a.visibleToHost(ctx, confID, userID)
	if err != nil {
		return View{}, err
	}
	c, err := a.confs.Update(ctx, confID, func(c *domain.Conference) error {
		return c.Apply(p, a.now())
	})
	if err != nil {
		return View{}, err
	}
	if p.WaitingRoom != nil && a.rooms != nil {
		a.rooms.SettingsChanged(c)
	}
	return View{Conference: c, Role: v.Role}, nil
}
