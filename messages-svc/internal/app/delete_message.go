package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// DeleteMessage is the sender removing a message.
type DeleteMessage struct {
	UserID    string
	ChatID    string
	MessageID string
}

// DeleteMessage turns the message into a tombstone (its seq stays) and tells the members.
// Deleting it again succeeds and tells nobody.
func (a *Application) DeleteMessage(ctx context.Context, cmd DeleteMessage) error {
	members, err := a.chatMembers(ctx, cmd.ChatID, cmd.UserID)
	if err != nil {
		return err
	}
	if !domain.ValidID(cmd.MessageID) {
		return domain.ErrNotFound
	}
	var wasDeleted bool
	_, err = a.messages.Update(ctx, cmd.ChatID, cmd.MessageID, func(m *domain.Message) error {
		wasDeleted = m.Deleted
		return m.Delete(cmd.UserID)
	})
	if err != nil {
		return err
	}
	if !wasDeleted {
		a.publish(ctx, domain.Event{Kind: domain.EventMessageDeleted, Recipients: members, ChatID: cmd.ChatID,
			Message: &domain.MessageView{Message: domain.Message{ID: cmd.MessageID, ChatID: cmd.ChatID}}})
	}
	return nil
}
