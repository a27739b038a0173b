package app

import (
	"context"
	"slices"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// ChatDetails is a chat with its members' accounts.
type ChatDetails struct {
	ChatView
	// Members are in the order they joined. A member whose account users-svc no longer
	// knows keeps only its id.
	Members []domain.User
}

// GetChat returns a chat the user belongs to, with its members; ErrChatNotFound for anyone
// else.
func (a *App) GetChat(ctx context.Context, userID, chatID string) (ChatDetails, error) {
	if !validID(chatID) {
		return ChatDetails{}, domain.ErrChatNotFound
	}
	roster, err := a.repo.Roster(ctx, chatID)
	if err != nil {
		return ChatDetails{}, err
	}
	if !roster.IsMember(userID) {
		return ChatDetails{}, domain.ErrChatNotFound
	}
	summaries, err := a.messages.Summaries(ctx, userID, []string{chatID})
	if err != nil {
		return ChatDetails{}, err
	}
	view := ChatView{Chat: roster.Chat}
	ids := slices.Clone(roster.Members)
	if s, ok := summaries[chatID]; ok {
		view.UnreadCount = s.UnreadCount
		if s.LastMessage != nil {
			view.LastMessage = &MessageView{Message: *s.LastMessage}
			if !slices.Contains(ids, s.LastMessage.SenderID) {
				ids = append(ids, s.LastMessage.SenderID)
			}
		}
	}
	// One users-svc call names the members and the last message's sender alike.
	users, err := a.users.Users(ctx, ids)
	if err != nil {
		return ChatDetails{}, err
	}
	byID := make(map[string]domain.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	members := make([]domain.User, len(roster.Members))
	for i, id := range roster.Members {
		members[i] = byID[id]
		members[i].ID = id
	}
	if m := view.LastMessage; m != nil {
		m.Sender = domain.User{ID: m.SenderID, Username: byID[m.SenderID].Username}
	}
	return ChatDetails{ChatView: view, Members: members}, nil
}
