package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// Typing tells the other members that UserID is typing in ChatID. Nothing is stored, and
// notices beyond the throttle are dropped silently: a client repeats them while typing.
func (a *Application) Typing(ctx context.Context, userID, chatID string) error {
	members, err := a.chatMembers(ctx, chatID, userID)
	if err != nil {
		return err
	}
	ok, err := a.typing.AllowTyping(ctx, userID, chatID)
	if err != nil || !ok {
		return err
	}
	a.publish(ctx, domain.Event{Kind: domain.EventTyping, Recipients: without(members, userID), ChatID: chatID, UserID: userID})
	return nil
}
