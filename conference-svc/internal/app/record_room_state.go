package app

import (
	"context"
	"errors"

	"github.com/convene/convene/conference-svc/internal/domain"
)

// RecordRoomState stores what the room reports: live with n people in it, or ended. A
// conference deleted meanwhile is not an error: there is nothing left to record.
func (a *App) RecordRoomState(ctx context.Context, confID string, status domain.Status, participants int) error {
	err := a.confs.SetRoomState(ctx, confID, status, participants)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	return err
}
