package app

import (
	"context"
	"slices"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// AddMember is the command to add the account with Email to a chat on ActorID's behalf.
type AddMember struct {
	ActorID string
	ChatID  string
	Email   string
}

// AddMember adds the user, tells them with chat_added and tells the other members with
// member_added. It returns the added account.
func (a *App) AddMember(ctx context.Context, cmd AddMember) (domain.User, error) {
	email, err := domain.ParseEmail(cmd.Email)
	if err != nil {
		return domain.User{}, err
	}
	if !validID(cmd.ChatID) {
		return domain.User{}, domain.ErrChatNotFound
	}
	// Membership is checked before the email is looked up, so that outsiders cannot use
	// the endpoint to learn which addresses have accounts. UpdateRoster checks it again,
	// authoritatively, with the chat locked.
	members, err := a.repo.ChatMemberIDs(ctx, cmd.ChatID)
	if err != nil {
		return domain.User{}, err
	}
	if !slices.Contains(members, cmd.ActorID) {
		return domain.User{}, domain.ErrChatNotFound
	}
	user, err := a.users.UserByEmail(ctx, email)
	if err != nil {
		return domain.User{}, err
	}
	now := a.now()
	_, err = a.repo.UpdateRoster(ctx, cmd.ChatID, func(r *domain.Roster) ([]domain.Event, error) {
		before := slices.Clone(r.Members)
		if err := r.Add(cmd.ActorID, user.ID); err != nil {
			return nil, err
		}
		return []domain.Event{
			domain.NewChatAdded(newID(), r.Chat, []string{user.ID}, now),
			domain.NewMemberChanged(newID(), domain.FrameMemberAdded, r.Chat.ID, user.ID, before, now),
		}, nil
	})
	if err != nil {
		return domain.User{}, err
	}
	a.eventsRecorded()
	return user, nil
}
