package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// MaxSummaryChats bounds one GetChatSummaries call: a page of the chat list.
const MaxSummaryChats = MaxPageSize

// ChatSummaries returns each chat's last message and the user's unread count, for a page of
// chats that chats-svc has already checked the user belongs to. Unknown chats come back
// without a last message.
func (a *Application) ChatSummaries(ctx context.Context, userID string, chatIDs []string) ([]domain.ChatSummary, error) {
	if !domain.ValidID(userID) {
		return nil, &domain.ValidationError{Code: "invalid_user_id", Message: "user_id must be a UUID"}
	}
	if len(chatIDs) > MaxSummaryChats {
		return nil, &domain.ValidationError{Code: "too_many_chats", Message: "at most 200 chats per call"}
	}
	for _, id := range chatIDs {
		if !domain.ValidID(id) {
			return nil, &domain.ValidationError{Code: "invalid_chat_id", Message: "chat ids must be UUIDs"}
		}
	}
	return a.messages.Summaries(ctx, userID, chatIDs)
}
