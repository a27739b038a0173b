package app

import "context"

// JoinConference authorizes a user to open the conference's signaling socket: a member of
// its team, and the conference has not ended. The view carries the settings the room
// starts with and the user's role.
func (a *App) JoinConference(ctx context.Context, confID, userID string) (View, error) {
	v, err := a.visible(ctx, confID, userID)
	if err != nil {
		return View{}, err
	}
	if err := v.Conference.Joinable(); err != nil {
		return View{}, err
	}
	return v, nil
}
