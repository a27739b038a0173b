package app

import "context"

// DeleteConference removes a conference (hosts only) and ends its live room.
func (a *App) DeleteConference(ctx context.Context, confID, userID string) error {
	if _, err := a.visibleToHost(ctx, confID, userID); err != nil {
		return err
	}
	if err := a.confs.Delete(ctx, confID); err != nil {
		return err
	}
	if a.rooms != nil {
		a.rooms.Closed(confID)
	}
	return nil
}
