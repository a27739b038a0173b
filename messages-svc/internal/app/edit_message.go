package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// EditMessage is the sender changing a message's text.
type EditMessage struct {
	UserID    string
	ChatID    string
	MessageID string
	Text      string
}

// EditMessage replaces the text, sets edited_at and tells the members.
func (a *Application) EditMessage(ctx context.Context, cmd EditMessage) (domain.MessageView, error) {
	if err := domain.ValidateText(cmd.Text); err != nil {
		return domain.MessageView{}, err
	}
	members, err := a.chatMembers(ctx, cmd.ChatID, cmd.UserID)
	if err != nil {
		return domain.MessageView{}, err
	}
	if !domain.ValidID(cmd.MessageID) {
		return domain.MessageView{}, domain.ErrNotFound
	}
	now := a.now()
	stored, err := a.messages.Update(ctx, cmd.ChatID, cmd.MessageID, func(m *domain.Message) error {
		return m.Edit(cmd.UserID, cmd.Text, now)
	})
	if err != nil {
		return domain.MessageView{}, err
	}
	views, err := a.views(ctx, cmd.ChatID, []domain.Message{stored})
	if err != nil {
		return domain.MessageView{}, err
	}
	view := views[0]
	a.publish(ctx, domain.Event{Kind: domain.EventMessageEdited, Recipients: members, ChatID: cmd.ChatID, Message: &view})
	return view, nil
}
