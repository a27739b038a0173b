package app

import (
	"context"
	"slices"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// RemoveMember is the command to take UserID out of a chat on ActorID's behalf: leaving
// when they are the same user.
type RemoveMember struct {
	ActorID string
	ChatID  string
	UserID  string
}

// RemoveMember removes the member and tells the remaining members and the removed user
// (whose other devices must drop the chat) with member_removed.
func (a *App) RemoveMember(ctx context.Context, cmd RemoveMember) error {
	if !validID(cmd.ChatID) {
		return domain.ErrChatNotFound
	}
	if !validID(cmd.UserID) {
		// The same answer for every chat: it reveals nothing about this one.
		return domain.ErrMemberNotFound
	}
	now := a.now()
	_, err := a.repo.UpdateRoster(ctx, cmd.ChatID, func(r *domain.Roster) ([]domain.Event, error) {
		if err := r.Remove(cmd.ActorID, cmd.UserID); err != nil {
			return nil, err
		}
		recipients := append(slices.Clone(r.Members), cmd.UserID)
		return []domain.Event{
			domain.NewMemberChanged(newID(), domain.FrameMemberRemoved, r.Chat.ID, cmd.UserID, recipients, now),
		}, nil
	})
	if err != nil {
		return err
	}
	a.eventsRecorded()
	return nil
}
