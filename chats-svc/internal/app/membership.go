package app

import (
	"context"
	"slices"

	"github.com/convene/convene/chats-svc/internal/domain"
)

// The membership queries serve messages-svc (chats.v1). A service may ask anything; a
// call that carries an end user's identity learns only about that user's own chats.

// IsMember reports whether userID belongs to the chat. An unknown chat, and a chat the
// calling user is not in, both answer false.
func (a *App) IsMember(ctx context.Context, caller Caller, chatID, userID string) (bool, error) {
	if !validID(chatID) || !validID(userID) {
		return false, nil
	}
	members, err := a.repo.ChatMemberIDs(ctx, chatID)
	if err != nil {
		return false, err
	}
	if !caller.Service && caller.UserID != userID && !slices.Contains(members, caller.UserID) {
		return false, nil
	}
	return slices.Contains(members, userID), nil
}

// ListMembers returns the chat's members; none for an unknown chat or a calling user who
// is not a member.
func (a *App) ListMembers(ctx context.Context, caller Caller, chatID string) ([]string, error) {
	if !validID(chatID) {
		return nil, nil
	}
	members, err := a.repo.ChatMemberIDs(ctx, chatID)
	if err != nil {
		return nil, err
	}
	if !caller.Service && !slices.Contains(members, caller.UserID) {
		return nil, nil
	}
	return members, nil
}

// ListUserChats returns the ids of the user's chats. A user may only ask for their own.
func (a *App) ListUserChats(ctx context.Context, caller Caller, userID string) ([]string, error) {
	if !caller.Service && caller.UserID != userID {
		return nil, domain.ErrForbidden
	}
	if !validID(userID) {
		return nil, nil
	}
	return a.repo.UserChatIDs(ctx, userID)
}
