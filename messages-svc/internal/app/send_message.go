package app

import (
	"context"

	"github.com/convene/convene/messages-svc/internal/domain"
)

// SendMessage is a member posting a message, over HTTP or the socket.
type SendMessage struct {
	UserID string
	// UserName is the sender's username as the gateway vouched for it; empty means look it up.
	UserName    string
	ChatID      string
	Text        string
	ClientMsgID string
}

// SendMessage stores the message with the chat's next seq, tells every member's sockets and
// reports the chat's activity to chats-svc (asynchronously: the send does not wait for it).
// A retry with the same client_msg_id returns the original message and created=false, and
// tells nobody again.
func (a *Application) SendMessage(ctx context.Context, cmd SendMessage) (domain.MessageView, bool, error) {
	id, err := domain.NewID()
	if err != nil {
		return domain.MessageView{}, false, err
	}
	msg, err := domain.NewMessage(domain.NewMessageParams{
		ID: id, ChatID: cmd.ChatID, SenderID: cmd.UserID, Text: cmd.Text, ClientMsgID: cmd.ClientMsgID, Now: a.now(),
	})
	if err != nil {
		return domain.MessageView{}, false, err
	}
	members, err := a.chatMembers(ctx, cmd.ChatID, cmd.UserID)
	if err != nil {
		return domain.MessageView{}, false, err
	}
	stored, created, err := a.messages.Create(ctx, msg)
	if err != nil {
		return domain.MessageView{}, false, err
	}
	if !created {
		views, err := a.views(ctx, cmd.ChatID, []domain.Message{stored})
		if err != nil {
			return domain.MessageView{}, false, err
		}
		return views[0], false, nil
	}
	a.activity.RecordActivity(stored.ChatID, stored.CreatedAt)
	name := cmd.UserName
	if name == "" {
		name = a.usernames(ctx, []string{cmd.UserID})[cmd.UserID]
	}
	// A new message has the chat's highest seq, so nobody's read position covers it yet.
	view := domain.MessageView{Message: stored, SenderName: name, ReadBy: []string{}}
	a.publish(ctx, domain.Event{Kind: domain.EventMessage, Recipients: members, ChatID: cmd.ChatID, Message: &view})
	return view, true, nil
}
